// Both MCP generations on stdio (SPEC §12): the same binary negotiates 2026-07-28 with the SDK v2
// client pinned to it, 2025-11-25 with the v2 client's initialize handshake and with the v1 client,
// and every generation sees the same tools, results and errors.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binary, McpHarness, PROTOCOLS, plainBash, type TestProtocol } from "./harness/mcp.ts";
import { cachedNpmPackage } from "./harness/npm-cache.ts";

/** The Claude Code release whose MCP client is tried (npm @anthropic-ai/claude-code). */
const CLAUDE_CODE_VERSION = "2.1.332";

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

describe("Claude Code", () => {
  test("Claude Code 2.1.332 (`claude mcp list` health check) negotiates 2026-07-28 and sees the tasks extension", async () => {
    const claude = join(cachedNpmPackage("@anthropic-ai/claude-code", CLAUDE_CODE_VERSION), "bin", "claude.exe");
    const home = mkdtempSync(join(tmpdir(), `pty-mcp-claude-${process.pid}-`));
    try {
      // The server as Claude Code starts it, with what it sends and gets logged.
      const wrapper = join(home, "pty-mcp.sh");
      writeFileSync(wrapper, `#!/bin/sh\ntee "${home}/in.log" | "${binary}" serve | tee "${home}/out.log"\n`, { mode: 0o755 });
      const env = { ...process.env, HOME: home, DISABLE_AUTOUPDATER: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" };
      const run = async (args: string[]) => {
        const p = Bun.spawn([claude, ...args], { env, cwd: home, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
        const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
        return { out, code };
      };
      expect((await run(["mcp", "add", "pty", "-s", "user", "--", wrapper])).code).toBe(0);
      const list = await run(["mcp", "list"]);
      expect({ code: list.code, line: list.out.split("\n").find((l) => l.startsWith("pty:")) }).toEqual({ code: 0, line: `pty: ${wrapper}  - ✔ Connected` });
      const sent = readFileSync(join(home, "in.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { method?: string; params?: { _meta?: Record<string, unknown> } });
      const got = readFileSync(join(home, "out.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { result?: { capabilities?: { extensions?: Record<string, unknown> }; supportedVersions?: string[] } });
      expect(sent.map((m) => [m.method, m.params?._meta?.["io.modelcontextprotocol/protocolVersion"]])).toEqual([
        ["server/discover", "2026-07-28"],
        ["tools/list", "2026-07-28"],
      ]);
      expect(got[0]!.result).toMatchObject({ supportedVersions: ["2026-07-28"], capabilities: { extensions: { "io.modelcontextprotocol/tasks": {} } } });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
