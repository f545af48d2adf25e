// Keeps the architecture of STYLE.md §1 true: imports point inward.
//   session/ and terminal/ import no transport, no MCP, no process spawning;
//   mcp/tools/ never import ssh2, bun:ffi or spawn processes themselves.
// Prints each violation as file:line and exits 1 if there are any.
import { Glob } from "bun";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");

interface Rule {
  files: string;
  forbidden: RegExp;
  why: string;
}

const rules: Rule[] = [
  { files: "src/session/**/*.ts", forbidden: /from\s+["'](?:\.\.\/(?:local|ssh|serial|daemon|mcp|cli)\/|ssh2|bun:ffi|node:child_process)/, why: "the session core imports no transport, MCP or process code" },
  { files: "src/terminal/**/*.ts", forbidden: /from\s+["'](?:\.\.\/(?:local|ssh|serial|daemon|mcp|cli)\/|ssh2|bun:ffi|node:child_process)/, why: "terminal/ is platform-free" },
  { files: "src/mcp/**/*.ts", forbidden: /from\s+["'](?:ssh2|bun:ffi|node:child_process)["']|Bun\.spawn/, why: "tools never import ssh2, bun:ffi or spawn a process" },
  { files: "src/**/*.ts", forbidden: /from\s+["'](?:serialport|bun-pty|node-pty)["']/, why: "serialport and bun-pty do not work in a compiled Bun binary (see DEVELOPERS notes)" },
];

let violations = 0;
for (const rule of rules) {
  for (const file of new Glob(rule.files).scanSync({ cwd: root })) {
    if (file.endsWith(".test.ts")) continue;
    const lines = readFileSync(join(root, file), "utf8").split("\n");
    lines.forEach((line, i) => {
      if (rule.forbidden.test(line)) {
        console.error(`${file}:${i + 1}: ${rule.why}\n    ${line.trim()}`);
        violations++;
      }
    });
  }
}
// Server code must not write to stdout: it carries the MCP protocol.
for (const file of new Glob("src/{mcp,session,terminal,local,ssh,serial,daemon}/**/*.ts").scanSync({ cwd: root })) {
  if (file.endsWith(".test.ts")) continue;
  readFileSync(join(root, file), "utf8").split("\n").forEach((line, i) => {
    if (/console\.log\(|process\.stdout\.write\(/.test(line)) {
      console.error(`${file}:${i + 1}: stdout carries the MCP protocol; log to stderr\n    ${line.trim()}`);
      violations++;
    }
  });
}
if (violations > 0) {
  console.error(`lint: ${violations} violation(s)`);
  process.exit(1);
}
console.error("lint: ok");
