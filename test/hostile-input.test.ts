// Hostile and careless input gets a structured error, never INTERNAL_ERROR or a 500
// (issue #21 item 11): NUL bytes where a C string goes, a repetition RE2 cannot build, a JSON
// body nested 500 000 deep to the audit collector.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCollector } from "../src/audit/collector.ts";
import { cleanupDaemons, runtimeDir, server } from "./harness/daemon.ts";
import { McpHarness, plainBash } from "./harness/mcp.ts";

let h: McpHarness;
beforeAll(async () => {
  h = await McpHarness.start();
});
afterAll(async () => {
  await h.close();
});
afterEach(cleanupDaemons);

const nulError = (field: string) => ({ code: "INVALID_ARGUMENT", message: `${field} contains a NUL byte, which no program can receive. Remove it.`, retryable: false });

describe("hostile input", () => {
  test("create_local_session: a NUL byte in command, args, cwd or an env name or value is INVALID_ARGUMENT naming the field", async () => {
    const results = [
      await h.callError("create_local_session", { command: "echo a\u0000b" }),
      await h.callError("create_local_session", { command: "echo", args: ["ok", "a\u0000b"] }),
      await h.callError("create_local_session", { ...plainBash, cwd: "/tmp\u0000/x" }),
      await h.callError("create_local_session", { ...plainBash, env: { ...plainBash.env, GOOD: "a\u0000b" } }),
      await h.callError("create_local_session", { ...plainBash, env: { ...plainBash.env, "BA\u0000D": "x" } }),
    ];
    expect(results).toEqual([nulError("command or args"), nulError("command or args"), nulError("cwd"), nulError("env GOOD"), nulError('env name "BA\\u0000D"')]);
  });

  test("create_local_session persistent: a NUL byte is INVALID_ARGUMENT from the daemon too", async () => {
    const hd = await server(runtimeDir());
    expect(await hd.callError("create_local_session", { command: "echo a\u0000b", persistent: true })).toEqual(nulError("command or args"));
  }, 60_000);

  test("wait_for ((a{1000}){1000}){1000} is REGEX_REJECTED for its repetition, not for lookaround", async () => {
    const s = await h.call<{ session_id: string }>("create_local_session", plainBash);
    expect(await h.callError("read_output", { session_id: s.session_id, wait_for: "((a{1000}){1000}){1000}", timeout: 1 })).toEqual({
      code: "REGEX_REJECTED",
      message:
        'wait_for "((a{1000}){1000}){1000}" repeats too much for the linear-time matcher: RE2 allows a repeat count of at most 1000, and nested counts multiply ({1000} inside {1000} is 1 000 000). Use smaller counts, or a + or * with a shorter pattern.',
      retryable: false,
    });
    await h.call("close_session", { session_id: s.session_id });
  });

  test("audit collector: a JSON body nested 500 000 deep is 400, the log untouched, the next entry accepted", async () => {
    const dir = mkdtempSync(join(tmpdir(), `pty-mcp-hostile-${process.pid}-`));
    const token = "c".repeat(64);
    await using collector = startCollector({ hostname: "127.0.0.1", port: 0, token, logPath: join(dir, "audit.jsonl") });
    try {
      const post = async (body: string) => {
        const response = await fetch(`${collector.url}/audit`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body });
        return { status: response.status, text: (await response.text()).trim() };
      };
      const depth = 500_000;
      const deep = await post(`{"a":${"[".repeat(depth)}${"]".repeat(depth)}}`);
      const deepObjects = await post(`${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`);
      const fine = await post(JSON.stringify({ seq: 1, event: "input", cmd: "[[[[ \\\"{{{{", nested: { a: [1, [2, [3]]] } }));
      const lines = readFileSync(join(dir, "audit.jsonl"), "utf8").trim().split("\n");
      expect({ deep, deepObjects, fine, lines: lines.length }).toEqual({
        deep: { status: 400, text: "JSON nested deeper than 64 levels" },
        deepObjects: { status: 400, text: "JSON nested deeper than 64 levels" },
        fine: { status: 200, text: "" },
        lines: 1,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
