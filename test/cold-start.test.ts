// Cold start (issue 20, M5): what `pty-mcp serve` loads before it answers initialize, server/discover
// and tools/list. The binary is built with code splitting (scripts/build.ts), so each dynamic import
// is a chunk loaded only when imported, with the node builtins it imports. Here the same bundle is
// built without --compile and the chunks main.ts and serve.ts load up front are read: only the SDK,
// zod and the few modules of ours that answer; none of the tools (PTY, SSH, the terminal emulator,
// fleet…) and no builtin that costs start-up time (node:stream alone is ~9 ms; node:crypto and
// node:net load it too).
import { expect, test } from "bun:test";
import { join } from "node:path";
import { compileFlags } from "../scripts/build.ts";

const root = join(import.meta.dir, "..");

interface Chunk {
  path: string;
  text: string;
}

async function bundle(): Promise<Map<string, Chunk>> {
  const built = await Bun.build({
    entrypoints: [join(root, "src/main.ts")],
    splitting: true,
    target: "bun",
    format: "esm",
    define: { PTY_MCP_VERSION: '"0"', PTY_MCP_RELEASE_REPO: '"https://example.invalid"' },
  });
  if (!built.success) throw new Error(built.logs.join("\n"));
  const chunks = new Map<string, Chunk>();
  for (const o of built.outputs) if (o.kind !== "asset") chunks.set(o.path.replace(/^\.\//, ""), { path: o.path, text: await o.text() });
  return chunks;
}

const transpiler = new Bun.Transpiler({ loader: "js" });
const importsOf = (chunk: Chunk, kind: "import-statement" | "dynamic-import") =>
  transpiler
    .scanImports(chunk.text)
    .filter((i) => i.kind === kind)
    .map((i) => i.path);
/** The modules a chunk holds (the bundler's `// path` comment before each). */
const modulesOf = (chunk: Chunk) => [...chunk.text.matchAll(/^\/\/ ((?:src|node_modules)\/\S+)$/gm)].map((m) => m[1]!);

/** Chunks `from` loads before running (static imports, transitively). */
function staticClosure(chunks: Map<string, Chunk>, from: Chunk): Chunk[] {
  const seen = new Map<string, Chunk>();
  const visit = (c: Chunk) => {
    if (seen.has(c.path)) return;
    seen.set(c.path, c);
    for (const p of importsOf(c, "import-statement")) {
      const next = chunks.get(p.replace(/^\.\//, ""));
      if (next) visit(next);
    }
  };
  visit(from);
  return [...seen.values()];
}

test("the build splits the bundle: a role's code and its builtins load only when that role is picked", () => {
  expect(compileFlags).toContain("--splitting");
  expect(compileFlags).toContain("--format=esm");
});

test("serve loads, before its first answer, only the SDK, zod and its own few modules; no tool, no costly builtin", async () => {
  const chunks = await bundle();
  const main = [...chunks.values()].find((c) => modulesOf(c).includes("src/main.ts"))!;
  const serve = importsOf(main, "dynamic-import")
    .map((p) => chunks.get(p.replace(/^\.\//, ""))!)
    .find((c) => modulesOf(c).includes("src/cli/serve.ts"))!;
  const loaded = [...new Set([...staticClosure(chunks, main), ...staticClosure(chunks, serve)])];
  const modules = loaded.flatMap(modulesOf);
  const packages = [...new Set(modules.filter((m) => m.startsWith("node_modules/")).map((m) => /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(m)![1]))].sort();
  const builtins = [...new Set(loaded.flatMap((c) => importsOf(c, "import-statement")).filter((p) => !p.startsWith(".")).map((p) => p.replace(/^node:/, "")))].sort();
  const ours = modules.filter((m) => m.startsWith("src/")).sort();
  expect({ packages, builtins, tools: ours.filter((m) => m.startsWith("src/mcp/tools/")) }).toEqual({
    packages: ["@modelcontextprotocol/core", "@modelcontextprotocol/server", "zod"],
    builtins: ["events", "fs", "os", "path", "process"],
    tools: [],
  });
  // The tool list is the JSON built from the tools (test/tool-list.test.ts), not the tools themselves.
  expect(ours).toContain("src/mcp/tool-list.json");
  for (const area of ["src/local/", "src/ssh/", "src/serial/", "src/telnet/", "src/terminal/", "src/fleet/", "src/daemon", "src/persistent/"]) {
    expect(ours.filter((m) => m.startsWith(area))).toEqual([]);
  }
});
