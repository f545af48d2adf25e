// tools/list is shipped as JSON generated at build time (scripts/build.ts → src/mcp/tool-list.json):
// it must equal, exactly, what the tools' zod definitions generate at run time — in the file and in
// what the compiled binary answers — so the two never drift.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { toolList } from "../src/mcp/tool-list.ts";
import { tools } from "../src/mcp/tools/index.ts";
import { McpHarness } from "./harness/mcp.ts";

// A build output (not in git): run after scripts/build.ts, as every test run is.
const generated = JSON.parse(JSON.stringify(toolList(tools)));
let h: McpHarness;

beforeAll(async () => {
  h = await McpHarness.start();
});

afterAll(async () => {
  await h.close();
});

describe("the shipped tool list", () => {
  test("src/mcp/tool-list.json equals the list generated from the tools now", () => {
    expect(JSON.parse(readFileSync(join(import.meta.dir, "../src/mcp/tool-list.json"), "utf8"))).toEqual(generated);
  });

  test("the binary's tools/list equals it, and a first tools/call after it works (the tools load lazily)", async () => {
    const { tools: listed } = await h.client.listTools();
    expect(JSON.parse(JSON.stringify(listed))).toEqual(generated);
    expect(await h.call("list_sessions", {})).toEqual({ sessions: [] });
  });
});
