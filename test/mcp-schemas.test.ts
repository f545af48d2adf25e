// Tool schemas every major client accepts (SPEC §12): no `type` arrays, explicit
// additionalProperties, a plain object at the top, names ≤ 64, descriptions ≤ 2 KiB — checked
// over tools/list in both generations and by the MCP Inspector CLI's --strict portability
// check; and the Inspector's persistent client mcpdo drives a session in both generations and
// runs a long wait as a task (2026-07-28).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { portabilityProblems, toolJsonSchema } from "../src/mcp/json-schema.ts";
import { bool, int } from "../src/mcp/params.ts";
import { Inspector } from "./harness/inspector.ts";
import { binary, McpHarness } from "./harness/mcp.ts";

describe("portable JSON Schema (unit)", () => {
  test("string-typed numbers and booleans become anyOf; objects say additionalProperties", () => {
    const input = z.object({ n: int(0, 9).optional().describe("a number"), b: bool.optional(), o: z.object({ x: z.string() }).optional() });
    expect(toolJsonSchema(input, "input")).toEqual({
      type: "object",
      properties: {
        n: { description: "a number", anyOf: [{ type: "number" }, { type: "string", pattern: "^-?\\d+(?:\\.\\d+)?$" }] },
        b: { anyOf: [{ type: "boolean" }, { type: "string" }] },
        o: { type: "object", properties: { x: { type: "string" } }, required: ["x"], additionalProperties: false },
      },
      additionalProperties: false,
    });
    const output = z.looseObject({ code: z.number().nullable().optional() });
    expect(toolJsonSchema(output, "output")).toEqual({
      type: "object",
      properties: { code: { anyOf: [{ type: "number" }, { type: "null" }] } },
      additionalProperties: true,
    });
  });

  test("the check finds what clients reject", () => {
    expect(portabilityProblems({ name: "x".repeat(65), description: "d".repeat(2049), inputSchema: { anyOf: [], type: ["object", "null"], properties: { a: { type: "object" }, m: { type: "object", additionalProperties: { type: "string" } }, e: { type: "object", additionalProperties: {} } } } })).toEqual([
      "name is 65 characters (most 64)",
      "description is over 2 KiB",
      'inputSchema: top level is not type "object"',
      "inputSchema: top-level anyOf",
      "inputSchema: type is an array",
      "inputSchema.properties.a: additionalProperties is not said",
      "inputSchema.properties.e.additionalProperties: empty schema",
    ]);
  });
});

describe("tools/list is portable in both generations", () => {
  for (const protocol of ["2026-07-28", "2025-11-25"] as const) {
    test(`${protocol}: every tool passes`, async () => {
      await using h = await McpHarness.start({ protocol });
      const { tools } = await h.client.listTools();
      expect(tools.length).toBeGreaterThan(10);
      expect(Object.fromEntries(tools.map((t) => [t.name, portabilityProblems(t)]))).toEqual(Object.fromEntries(tools.map((t) => [t.name, []])));
    });
  }
});

describe("MCP Inspector", () => {
  let inspector: Inspector;
  beforeAll(() => {
    inspector = new Inspector();
    const server = { command: binary, args: ["serve"], env: { SHELL: "/bin/bash", PS1: "$ ", PROMPT_COMMAND: "" } };
    // "logged": the same server behind a tee of what it receives and sends.
    writeFileSync(join(inspector.home, "logged.sh"), `#!/bin/sh\ntee "${inspector.home}/in.log" | "${binary}" serve | tee "${inspector.home}/out.log"\n`, { mode: 0o755 });
    inspector.catalog({
      modern: { ...server, protocolEra: "modern" },
      legacy: { ...server, protocolEra: "legacy" },
      logged: { ...server, command: join(inspector.home, "logged.sh"), args: [], protocolEra: "modern" },
    });
  });
  afterAll(async () => {
    await inspector.close();
  });

  for (const era of ["modern", "legacy"] as const) {
    test(`CLI --strict lists every tool with 0 portability warnings (${era})`, async () => {
      const r = await inspector.cli(["--method", "tools/list", "--strict", "--protocol-era", era, "--format", "json", binary, "serve"]);
      const names = (JSON.parse(r.stdout) as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name);
      expect({ code: r.code, warnings: r.stderr.match(/^(Warning|Error)\b.*$/gm) ?? [], tools: names.length }).toEqual({ code: 0, warnings: [], tools: expect.any(Number) });
      expect(names).toContain("send_input");
    });

    test(`mcpdo drives a session: create, send_input, wait, close (${era})`, async () => {
      const conn = await inspector.mcpdoJson<{ protocolEra: string }>(["connect", era]);
      expect(conn.protocolEra).toBe(era);
      const call = async (tool: string, args: Record<string, unknown>) => (await inspector.mcpdoJson<{ structuredContent: Record<string, unknown> }>([`@${era}`, "tools/call", tool, "--tool-args-json", JSON.stringify(args)])).structuredContent;
      const { session_id } = await call("create_local_session", { command: "bash --norc --noprofile" });
      await call("read_output", { session_id, wait_for: "^\\$ $", timeout: 10 });
      const sent = await call("send_input", { session_id, input: "echo mcpdo-$((6*7))" });
      const waited = await call("send_input", { session_id, input: "sleep 0.3; echo DONE", wait_for: "^DONE$", wait_for_timeout: 10 });
      const closed = await call("close_session", { session_id });
      expect({ sent: sent.output, waited: [waited.matched, waited.match_line], closed: closed.success }).toEqual({ sent: "mcpdo-42\n$ ", waited: [true, "DONE"], closed: true });
      expect((await inspector.mcpdo(["disconnect", era])).code).toBe(0);
    });
  }

  test("mcpdo (2026-07-28) runs a long wait as a task: it polls tasks/get and gets the wait's result", async () => {
    await inspector.mcpdoJson(["connect", "logged"]);
    const call = async (tool: string, args: Record<string, unknown>) => (await inspector.mcpdoJson<{ structuredContent: Record<string, unknown> }>(["@logged", "tools/call", tool, "--tool-args-json", JSON.stringify(args)])).structuredContent;
    // DONE comes once the wait is a task (its answer in out.log), not after a sleep: each mcpdo call is a
    // process start-up, and a read_output arriving 2 s after the create matched within the 1 s grace (no task).
    const gate = join(inspector.home, `gate-${process.pid}`);
    const { session_id } = await call("create_local_session", { command: `sh -c 'echo working; while [ ! -e ${gate} ]; do sleep 0.05; done; echo DONE; sleep 60'` });
    const waiting = call("read_output", { session_id, wait_for: "^DONE$", timeout: 60 });
    const out = join(inspector.home, "out.log");
    while (!(existsSync(out) && readFileSync(out, "utf8").includes('"resultType":"task"'))) await Bun.sleep(50);
    writeFileSync(gate, "");
    const waited = await waiting;
    await call("close_session", { session_id });
    expect((await inspector.mcpdo(["disconnect", "logged"])).code).toBe(0);
    expect([waited.matched, waited.match_line]).toEqual([true, "DONE"]);
    const sent = readFileSync(join(inspector.home, "in.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { method?: string });
    const got = readFileSync(join(inspector.home, "out.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { result?: { resultType?: string; status?: string } });
    expect(got.filter((m) => m.result?.resultType === "task").length).toBe(1);
    expect(sent.filter((m) => m.method === "tasks/get").length).toBeGreaterThanOrEqual(1);
    expect(got.some((m) => m.result?.status === "completed")).toBe(true);
  });
});
