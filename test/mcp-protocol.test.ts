// Both MCP generations on stdio (SPEC §12): the same binary negotiates 2026-07-28 with the SDK v2
// client pinned to it, 2025-11-25 with the v2 client's initialize handshake and with the v1 client,
// and every generation sees the same tools, results and errors.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { McpHarness, PROTOCOLS, plainBash, type TestProtocol } from "./harness/mcp.ts";

const servers = new Map<TestProtocol, McpHarness>();

beforeAll(async () => {
  for (const p of PROTOCOLS) servers.set(p, await McpHarness.start({ protocol: p }));
});

afterAll(async () => {
  for (const h of servers.values()) await h.close();
});

const expected: Record<TestProtocol, string> = { "2026-07-28": "2026-07-28", "2025-11-25": "2025-11-25", v1: "2025-11-25" };

/** One scripted exchange, reduced to what must be identical in every generation. */
async function script(h: McpHarness) {
  const { session_id } = await h.call<{ session_id: string }>("create_local_session", { ...plainBash });
  await h.call("read_output", { session_id, wait_for: "^\\$ $", timeout: 10 });
  const echo = await h.call<Record<string, unknown>>("send_input", { session_id, input: "echo gen-$((6*7))" });
  const waited = await h.call<Record<string, unknown>>("send_input", { session_id, input: "echo READY", wait_for: "^READY$", wait_for_timeout: "5" });
  const badArg = await h.callError("send_input", { session_id, input: "x", timeout_ms: "soon" });
  const unknown = await h.callError("read_output", { session_id: "no-such-session" });
  const { session_id: _id, ...closed } = await h.call<Record<string, unknown>>("close_session", { session_id });
  return {
    echo: { output: echo.output, is_complete: echo.is_complete, state: echo.state },
    waited: { matched: waited.matched, match_line: waited.match_line, timed_out: waited.timed_out },
    badArg,
    unknown: { code: unknown.code, retryable: unknown.retryable },
    closed,
  };
}

describe("protocol generations", () => {
  for (const p of PROTOCOLS) {
    test(`${p}: negotiates ${expected[p]} and names the server`, () => {
      const h = servers.get(p)!;
      expect({ negotiated: h.negotiatedVersion, name: h.client.getServerVersion()?.name }).toEqual({ negotiated: expected[p], name: "pty-mcp" });
    });
  }

  test("every generation lists the same tools with the same schemas", async () => {
    const lists = await Promise.all(PROTOCOLS.map(async (p) => (await servers.get(p)!.client.listTools()).tools));
    const names = lists[0]!.map((t) => t.name);
    expect(names.length).toBeGreaterThan(10);
    for (const list of lists.slice(1)) {
      expect(list.map((t) => t.name)).toEqual(names);
      expect(list.map((t) => [t.inputSchema, t.outputSchema, t.description, t.annotations])).toEqual(lists[0]!.map((t) => [t.inputSchema, t.outputSchema, t.description, t.annotations]));
    }
  });

  test("every generation gets the same results and the same structured errors", async () => {
    const results = await Promise.all(PROTOCOLS.map((p) => script(servers.get(p)!)));
    expect(results[0]).toEqual({
      echo: { output: "gen-42\n$ ", is_complete: true, state: "at_prompt" },
      waited: { matched: true, match_line: "READY", timed_out: false },
      badArg: { code: "INVALID_ARGUMENT", message: expect.stringContaining("timeout_ms"), retryable: false },
      unknown: { code: "SESSION_NOT_FOUND", retryable: false },
      closed: { success: true, exit_code: null, exit_signal: "SIGHUP" },
    });
    expect(results[1]).toEqual(results[0]!);
    expect(results[2]).toEqual(results[0]!);
  });
});
