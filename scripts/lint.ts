// Keeps the architecture of STYLE.md §1 and §9 true. Prints each violation as file:line and exits 1.
//
//   1. MAY_IMPORT: what each part of src/ may import (an allowlist; every part is listed, and a file
//      in no part fails). A part is a folder (`ssh`, `mcp/tools`) or a file at the top (`errors.ts`).
//      An entry is a part, or one file of a part (`daemon/protocol.ts`: the daemon's protocol, not
//      its process). A part always may import its own files.
//   2. The allowlist itself has no loop (a part that may import another never is imported by it,
//      directly or not), and no file imports another in a loop (type imports included).
//   3. One import-path style: relative, with the `.ts` extension (`../session/session.ts`); a data
//      file imported as text or JSON keeps its own (`./hooks/bash.sh`).
//   4. Packages: the core imports no transport library; tools spawn nothing; no native PTY/serial modules.
//   5. Server code writes nothing to stdout (it carries the MCP protocol).
//   6. Size: no file of src/ over 450 lines, session/session.ts under 350 (issue 13): split by concern.
//
// Adding a folder: add one line to MAY_IMPORT (what it may import), then add it to the lists of
// the parts that may import it. Keep arrows pointing down the floors of STYLE.md §9:
//   cli → mcp → mcp/tools → persistent, fleet → local ssh serial telnet daemon-client → session → terminal
import { Glob } from "bun";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

const root = join(import.meta.dir, "..");
const src = join(root, "src");

const TOP = ["errors.ts", "version.ts", "config-file.ts", "child-env.ts"] as const;
const TRANSPORTS = ["local", "ssh", "serial", "telnet", "daemon-client"];

export const MAY_IMPORT: Record<string, readonly string[]> = {
  "main.ts": ["cli", "version.ts"],
  cli: ["mcp", "mcp/tools", "persistent", "fleet", ...TRANSPORTS, "daemon", "deploy", "session", "terminal", "record", "secrets", "audit", ...TOP],
  mcp: ["session", "secrets", "errors.ts", "version.ts"],
  "mcp/tools": ["mcp", "persistent", "fleet", ...TRANSPORTS, "daemon/protocol.ts", "record", "secrets", "session", "terminal", "errors.ts", "version.ts", "config-file.ts"],
  // Persistence: a DaemonLink (local socket | over SSH), mirrors, deploy.
  persistent: ["daemon-client", "daemon/protocol.ts", "daemon/socket-path.ts", "deploy", "local", "ssh", "session", "errors.ts", "version.ts"],
  // Inventory, connection pool, fan-out over SSH (Part two).
  fleet: ["ssh", "session", "terminal", "errors.ts", "config-file.ts"],
  // Transports, side by side: none imports another.
  local: ["session", "errors.ts", "child-env.ts"],
  ssh: ["session", "secrets", "errors.ts", "version.ts"],
  serial: ["session", "errors.ts"],
  telnet: ["session", "terminal", "secrets", "errors.ts"],
  "daemon-client": ["daemon/protocol.ts", "daemon/socket-path.ts", "session", "errors.ts", "version.ts", "child-env.ts"],
  // The daemon process: hosts local sessions.
  daemon: ["local", "record", "secrets", "session", "errors.ts", "version.ts"],
  deploy: ["daemon/protocol.ts", "errors.ts", "version.ts"],
  record: ["session", "secrets", "terminal", "errors.ts"],
  secrets: ["session", "config-file.ts", "errors.ts", "child-env.ts"],
  audit: ["session", "config-file.ts", "errors.ts"],
  session: ["terminal", "errors.ts"],
  terminal: [],
  "errors.ts": [],
  "version.ts": [],
  "config-file.ts": ["errors.ts"],
  /** The environment children get (sessions, the daemon, the secret helper): no PTY_MCP_ variable. */
  "child-env.ts": [],
};

/** Imports outside src/ that a part may make (version.ts reads package.json when run from source). */
const OUTSIDE_SRC: Record<string, readonly string[]> = { "version.ts": ["package.json"] };

interface PackageRule {
  parts: readonly string[];
  forbidden: RegExp;
  why: string;
}

const PACKAGE_RULES: PackageRule[] = [
  { parts: ["session", "terminal"], forbidden: /^(?:ssh2|bun:ffi|node:child_process)$/, why: "the session core and terminal/ import no transport library or process code" },
  { parts: ["mcp", "mcp/tools"], forbidden: /^(?:ssh2|bun:ffi|node:child_process)$/, why: "tools never import ssh2, bun:ffi or spawn a process" },
  { parts: Object.keys(MAY_IMPORT), forbidden: /^(?:serialport|bun-pty|node-pty)$/, why: "serialport and bun-pty do not work in a compiled Bun binary (see DEVELOPERS notes)" },
];

/** The part a file of src/ belongs to, or undefined when no part lists it. */
export function partOf(file: string): string | undefined {
  const rel = relative(src, file);
  if (rel.startsWith("mcp/tools/")) return "mcp/tools";
  const slash = rel.indexOf("/");
  const part = slash < 0 ? rel : rel.slice(0, slash);
  return part in MAY_IMPORT ? part : undefined;
}

function allowed(from: string, targetFile: string): boolean {
  const to = partOf(targetFile);
  if (to === undefined) return false;
  if (to === from) return true;
  const rel = relative(src, targetFile);
  return (MAY_IMPORT[from] ?? []).some((entry) => entry === to || entry === rel);
}

export interface Import {
  specifier: string;
  line: number;
}

/** Every import and re-export specifier of a file (static, dynamic, side-effect, `export … from`). */
export function importsOf(text: string): Import[] {
  const found: Import[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;
  for (const m of text.matchAll(re)) {
    found.push({ specifier: m[1]!, line: text.slice(0, m.index).split("\n").length });
  }
  return found;
}

const violations: string[] = [];
const report = (file: string, line: number, why: string, text: string) => violations.push(`${relative(root, file)}:${line}: ${why}\n    ${text.trim()}`);

const files = [...new Glob("src/**/*.ts").scanSync({ cwd: root })].map((f) => join(root, f)).sort();
const graph = new Map<string, string[]>();
for (const file of files) {
  const text = readFileSync(file, "utf8");
  const lines = text.split("\n");
  const isTest = file.endsWith(".test.ts");
  const part = partOf(file);
  if (part === undefined) {
    report(file, 1, `no part of MAY_IMPORT in scripts/lint.ts covers this file: add its folder there`, relative(src, file));
    continue;
  }
  const edges: string[] = [];
  for (const { specifier, line } of importsOf(text)) {
    const source = lines[line - 1] ?? specifier;
    if (specifier.startsWith(".")) {
      const target = normalize(join(dirname(file), specifier));
      // A data file imported as text or JSON (hooks/bash.sh, package.json) keeps its own extension.
      const asset = !specifier.endsWith(".ts") && /\.[a-z]+$/.test(specifier) && existsSync(target);
      if (!specifier.endsWith(".ts") && !asset) report(file, line, 'one import-path style: relative with the ".ts" extension', source);
      if (!target.startsWith(`${src}/`)) {
        // A test beside its file may use the harness (test/harness/memory-transport.ts).
        if (isTest && target.startsWith(`${root}/test/`)) continue;
        if (!(OUTSIDE_SRC[part] ?? []).includes(relative(root, target))) report(file, line, `${part} may not import outside src/`, source);
        continue;
      }
      if (asset || !existsSync(target)) continue; // a missing file: typecheck reports it
      if (isTest) continue; // tests beside a file may reach what they need to set up
      edges.push(target);
      if (!allowed(part, target)) report(file, line, `${part} may not import ${partOf(target) ?? relative(src, target)} (scripts/lint.ts MAY_IMPORT lists what it may)`, source);
    } else if (!isTest) {
      for (const rule of PACKAGE_RULES) if (rule.parts.includes(part) && rule.forbidden.test(specifier)) report(file, line, rule.why, source);
    }
  }
  if (!isTest) graph.set(file, edges);
  const limit = relative(src, file) === "session/session.ts" ? 349 : 450;
  const count = lines.length - (lines.at(-1) === "" ? 1 : 0);
  if (!isTest && count > limit) report(file, limit + 1, `over ${limit} lines: split it by concern (a new file beside it that this one composes)`, `${count} lines`);
  if (!isTest && part !== "cli" && part !== "main.ts") {
    lines.forEach((line, i) => {
      if (/console\.log\(|process\.stdout\.write\(/.test(line)) report(file, i + 1, "stdout carries the MCP protocol; log to stderr", line);
      if ((part === "mcp" || part === "mcp/tools") && /Bun\.spawn/.test(line)) report(file, i + 1, "tools never spawn a process", line);
    });
  }
}

/** The first loop found in a directed graph, as the list of its nodes, or undefined. */
export function findLoop(edges: Map<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, "open");
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === "open") return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const loop = visit(next);
        if (loop) return loop;
      }
    }
    stack.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of edges.keys()) {
    if (state.has(node)) continue;
    const loop = visit(node);
    if (loop) return loop;
  }
  return undefined;
}

const partGraph = new Map<string, string[]>(Object.entries(MAY_IMPORT).map(([part, entries]) => [part, entries.map((e) => (e in MAY_IMPORT ? e : e.slice(0, e.lastIndexOf("/"))))]));
const partLoop = findLoop(partGraph);
if (partLoop) violations.push(`scripts/lint.ts: MAY_IMPORT has a loop: ${partLoop.join(" → ")}`);
const fileLoop = findLoop(graph);
if (fileLoop) violations.push(`import loop: ${fileLoop.map((f) => relative(root, f)).join(" → ")}`);

if (violations.length > 0) {
  for (const v of violations) console.error(v);
  console.error(`lint: ${violations.length} violation(s)`);
  process.exit(1);
}
console.error(`lint: ok (${files.length} files, ${Object.keys(MAY_IMPORT).length} parts, no loop)`);
