// Local sessions end to end: the compiled binary driven over stdio by the MCP SDK client.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until } from "./harness/daemon.ts";
import { McpHarness, plainBash } from "./harness/mcp.ts";

let h: McpHarness;
let dir: string;

beforeAll(async () => {
  h = await McpHarness.start();
  dir = mkdtempSync(join(tmpdir(), "pty-mcp-local-"));
});

afterAll(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

async function bash(extra: Record<string, unknown> = {}): Promise<string> {
  const s = await h.call<{ session_id: string }>("create_local_session", { ...plainBash, ...extra });
  // Wait for the first prompt so tests start from a known state.
  await h.call("read_output", { session_id: s.session_id, wait_for: "^\\$ $", timeout: 10 });
  return s.session_id;
}

describe("local sessions", () => {
  test("send_input: shell state is kept between commands (cd then pwd)", async () => {
    const id = await bash();
    const cd = await h.call<Record<string, unknown>>("send_input", { session_id: id, input: "cd /tmp" });
    expect(cd).toMatchObject({ output: "$ ", is_alive: true, is_complete: true, state: "at_prompt" });
    const pwd = await h.call<Record<string, unknown>>("send_input", { session_id: id, input: "pwd" });
    expect(pwd.output).toBe("/tmp\n$ ");
    expect(pwd.cursor).toBe(pwd.cursor_end as number);
    expect(pwd.cursor_start).toBe(cd.cursor_end as number);
    await h.call("close_session", { session_id: id });
  });

  test("python3 REPL: print(6*7) gives 42, ctrl+d ends it and is_alive goes false", async () => {
    const s = await h.call<{ session_id: string }>("create_local_session", { command: "python3 -q", env: { PYTHONSTARTUP: "" } });
    await h.call("read_output", { session_id: s.session_id, wait_for: ">>> $", timeout: 10 });
    const r = await h.call<Record<string, unknown>>("send_input", { session_id: s.session_id, input: "print(6*7)" });
    expect(r).toMatchObject({ output: "42\n>>> ", is_complete: true, state: "at_prompt" });
    await h.call("send_control", { session_id: s.session_id, key: "ctrl+d" });
    const end = await h.call<Record<string, unknown>>("read_output", { session_id: s.session_id, wait_for: "never printed", timeout: 10 });
    expect(end).toMatchObject({ matched: false, timed_out: false, is_alive: false, exit_code: 0 });
    const state = await h.call<Record<string, unknown>>("get_session_state", { session_id: s.session_id });
    expect(state).toMatchObject({ is_alive: false, exit_code: 0 });
  });

  test("create_local_session splits a command line: ping -c 3 127.0.0.1 + wait_for 'bytes from'", async () => {
    const s = await h.call<{ session_id: string; target: string }>("create_local_session", { command: "ping -c 3 127.0.0.1" });
    expect(s.target).toBe("ping -c 3 127.0.0.1");
    const r = await h.call<Record<string, unknown>>("read_output", { session_id: s.session_id, wait_for: "bytes from", timeout: 10 });
    expect(r.matched).toBe(true);
    expect(r.match_line as string).toMatch(/^64 bytes from 127\.0\.0\.1: icmp_seq=1 /);
  });

  test("tail -f + wait_for 'ERROR|CRITICAL' with context_lines 2 returns the line and its context", async () => {
    const log = join(dir, "app.log");
    writeFileSync(log, "boot\n");
    const s = await h.call<{ session_id: string }>("create_local_session", { command: "tail", args: ["-n", "+1", "-f", log] });
    await h.call("read_output", { session_id: s.session_id, wait_for: "boot", timeout: 10 });
    // A background writer appends over time, the error in the middle. The error and the two lines after it are
    // one append: the lines after a match are only waited for briefly (until output is quiet 200 ms), and a
    // loaded machine made the 0.1 s gaps between separate appends longer than that (context ended at "info 3").
    const writer = Bun.spawn(["bash", "-c", `for l in "info 1" "info 2" $'CRITICAL disk full\\ninfo 3\\ninfo 4'; do echo "$l" >> '${log}'; sleep 0.1; done`]);
    const r = await h.call<Record<string, unknown>>("read_output", { session_id: s.session_id, wait_for: "ERROR|CRITICAL", context_lines: 2, timeout: 10 });
    await writer.exited;
    expect(r).toMatchObject({ matched: true, timed_out: false, match_line: "CRITICAL disk full", context: "info 1\ninfo 2\nCRITICAL disk full\ninfo 3\ninfo 4", is_alive: true });
    await h.call("close_session", { session_id: s.session_id });
  });

  test("send_control ctrl+c interrupts sleep 100 and returns to the prompt", async () => {
    const id = await bash();
    // A duration of its own: pgrep below finds this sleep and no other test's "sleep 100".
    const sleep = `sleep 100.${process.pid}`;
    const started = await h.call<Record<string, unknown>>("send_input", { session_id: id, input: sleep, timeout_ms: 300 });
    expect(started.is_complete).toBe(false);
    // After 300 ms on a loaded machine the echo may not be back (the state still reads "$ ") and bash may not
    // have started sleep (a ctrl+c then hits readline): wait for both, then interrupt.
    await until(async () => (await h.call<Record<string, unknown>>("get_session_state", { session_id: id })).state === "running", "the session to be running");
    await until(() => Bun.spawnSync(["pgrep", "-x", "-f", sleep]).exitCode === 0, `${sleep} to run`);
    await h.call("send_control", { session_id: id, key: "ctrl+c" });
    const back = await h.call<Record<string, unknown>>("read_output", { session_id: id, wait_for: "^\\$ $", timeout: 5 });
    expect(back.matched).toBe(true);
    const next = await h.call<Record<string, unknown>>("send_input", { session_id: id, input: "echo $?" });
    expect(next.output).toBe("130\n$ ");
    await h.call("close_session", { session_id: id });
  });

  test("wait_for never matches the echo of the input: make-like command + BUILD_DONE", async () => {
    const id = await bash();
    const r = await h.call<Record<string, unknown>>("send_input", { session_id: id, input: "sleep 0.3; echo BUILD_DONE", wait_for: "BUILD_DONE", wait_for_timeout: 10 });
    expect(r).toMatchObject({ matched: true, match_line: "BUILD_DONE", is_alive: true });
    // The echo line contains the pattern too; if it had matched, the cursor would sit before the real output.
    // The prompt may come well after the line on a loaded machine: wait for it, then read from the match's cursor.
    await h.call("read_output", { session_id: id, wait_for: "^\\$ $", timeout: 10 });
    const after = await h.call<Record<string, unknown>>("read_output", { session_id: id, since_cursor: r.cursor });
    expect(after.output).toBe("$ ");
    await h.call("close_session", { session_id: id });
  });

  test("a command that fails at once keeps its output and exit status until closed", async () => {
    const s = await h.call<{ session_id: string }>("create_local_session", { command: "bash -c 'echo boom >&2; exit 3'" });
    const end = await h.call<Record<string, unknown>>("read_output", { session_id: s.session_id, wait_for: "nothing like this", timeout: 10 });
    expect(end.is_alive).toBe(false);
    const out = await h.call<Record<string, unknown>>("read_output", { session_id: s.session_id, since_cursor: 0 });
    expect(out).toMatchObject({ output: "boom\n", cursor_start: 0, is_alive: false, exit_code: 3, has_more: false, is_truncated: false });
    const listed = await h.call<{ sessions: Record<string, unknown>[] }>("list_sessions");
    expect(listed.sessions.find((x) => x.session_id === s.session_id)).toMatchObject({ is_alive: false, exit_code: 3 });
    const write = await h.callError("send_input", { session_id: s.session_id, input: "echo again" });
    expect(write.code).toBe("SESSION_CLOSED");
    expect(await h.call("close_session", { session_id: s.session_id })).toEqual({ success: true, session_id: s.session_id, exit_code: 3 });
    expect((await h.callError("get_session_state", { session_id: s.session_id })).code).toBe("SESSION_NOT_FOUND");
  });

  test("wait_for after a burst of lines keeps exact context (block pre-check)", async () => {
    const id = await bash();
    const r = await h.call<Record<string, unknown>>("send_input", { session_id: id, input: "seq 1 20000; echo TARGET-LINE; echo after-1; echo after-2", wait_for: "^TARGET-LINE$", context_lines: 2 });
    expect(r).toMatchObject({ matched: true, match_line: "TARGET-LINE", context: "19999\n20000\nTARGET-LINE\nafter-1\nafter-2" });
    await h.call("close_session", { session_id: id });
  });

  test("wait_for with a list of patterns names the one that matched", async () => {
    const id = await bash();
    const r = await h.call<Record<string, unknown>>("send_input", { session_id: id, input: "echo 'step two: FAIL'", wait_for: ["OK$", "FAIL$"] });
    expect(r).toMatchObject({ matched: true, matched_index: 1, match_line: "step two: FAIL" });
    await h.call("close_session", { session_id: id });
  });

  test("read_screen shows exactly the rows less displays", async () => {
    const file = join(dir, "numbers.txt");
    writeFileSync(file, Array.from({ length: 100 }, (_, i) => `line ${i + 1}`).join("\n") + "\n");
    const s = await h.call<{ session_id: string }>("create_local_session", { command: "less", args: [file], cols: 40, rows: 10, env: { LESS: "", LESSOPEN: "" } });
    await h.call("read_output", { session_id: s.session_id, wait_for: "line 9", timeout: 10 });
    let screen = await h.call<Record<string, unknown>>("read_screen", { session_id: s.session_id });
    expect(screen).toMatchObject({ cols: 40, rows: 10, alternate_screen: true, is_alive: true });
    expect((screen.lines as string[]).slice(0, 9)).toEqual(Array.from({ length: 9 }, (_, i) => `line ${i + 1}`));
    await h.call("send_control", { session_id: s.session_id, key: "pagedown" });
    await h.call("read_output", { session_id: s.session_id, wait_for: "line 18", timeout: 10 });
    screen = await h.call<Record<string, unknown>>("read_screen", { session_id: s.session_id });
    expect((screen.lines as string[]).slice(0, 9)).toEqual(Array.from({ length: 9 }, (_, i) => `line ${i + 10}`));
    await h.call("send_input", { session_id: s.session_id, input: "q", raw: true, timeout_ms: 2000 });
    const end = await h.call<Record<string, unknown>>("read_output", { session_id: s.session_id, wait_for: "never", timeout: 5 });
    expect(end.is_alive).toBe(false);
  });

  test("resize_session changes the PTY size the program sees", async () => {
    const id = await bash();
    expect(await h.call("resize_session", { session_id: id, cols: "100", rows: 30 })).toEqual({ session_id: id, cols: 100, rows: 30 });
    const r = await h.call<Record<string, unknown>>("send_input", { session_id: id, input: "stty size" });
    expect(r.output).toBe("30 100\n$ ");
    const screen = await h.call<Record<string, unknown>>("read_screen", { session_id: id });
    expect(screen).toMatchObject({ cols: 100, rows: 30 });
    await h.call("close_session", { session_id: id });
  });

  test("incremental reads: since_cursor with max_bytes pages through output exactly", async () => {
    const id = await bash();
    const r = await h.call<Record<string, unknown>>("send_input", { session_id: id, input: "seq 1 2000 | tr -d '\\n'; echo; echo END_OF_SEQ", wait_for: "^END_OF_SEQ$" });
    expect(r.matched).toBe(true);
    let cursor = r.cursor_start as number;
    let text = "";
    for (let i = 0; i < 100; i++) {
      const page = await h.call<Record<string, unknown>>("read_output", { session_id: id, since_cursor: cursor, max_bytes: 1000 });
      text += page.output as string;
      expect(page.cursor_start).toBe(cursor);
      cursor = page.cursor as number;
      if (!page.has_more) break;
    }
    const digits = Array.from({ length: 2000 }, (_, i) => String(i + 1)).join("");
    expect(text).toContain(`\n${digits}\nEND_OF_SEQ\n`);
    await h.call("close_session", { session_id: id });
  });

  test("log_max_size under 0.01 MB is refused (every line was a rotation: 100 renames each, on the event loop)", async () => {
    const log = join(dir, "tiny.log");
    const refused = await h.callError("create_local_session", { ...plainBash, log_file: log, log_max_size: 0.000001, log_max_files: 100 });
    expect({ code: refused.code, says: refused.message.includes("log_max_size is 0 (never rotate) or at least 0.01 MB"), created: existsSync(log) }).toEqual({
      code: "INVALID_ARGUMENT",
      says: true,
      created: false,
    });
  });

  test("log_file gets plain text and rotates by size", async () => {
    const log = join(dir, "session.log");
    const id = await bash({ log_file: log, log_max_size: "0.01", log_max_files: 3 });
    await h.call("send_input", { session_id: id, input: "for i in $(seq 1 3000); do echo \"log line $i\"; done; echo LOG_END", wait_for: "^LOG_END$" });
    await h.call("close_session", { session_id: id });
    const current = readFileSync(log, "utf8");
    expect(existsSync(`${log}.1`)).toBe(true);
    expect(existsSync(`${log}.2`)).toBe(true);
    expect(existsSync(`${log}.3`)).toBe(false);
    for (const f of [log, `${log}.1`, `${log}.2`]) expect(readFileSync(f).length).toBeLessThanOrEqual(10486);
    expect(current).toContain("LOG_END\n");
    expect(current).not.toContain("\x1b");
    expect(readFileSync(`${log}.1`, "utf8")).toMatch(/^log line \d+$/m);
  });
});

describe("bad input gets structured errors", () => {
  test("unknown session, unknown key, unknown tool", async () => {
    expect(await h.callError("read_output", { session_id: "local-nope" })).toEqual({
      code: "SESSION_NOT_FOUND",
      message: 'No session "local-nope". list_sessions shows the open ones.',
      retryable: false,
    });
    const id = await bash();
    const key = await h.callError("send_control", { session_id: id, key: "ctrl+shift+q" });
    expect(key.code).toBe("INVALID_ARGUMENT");
    expect(key.message).toContain("ctrl+a … ctrl+z");
    expect(key.message).toContain("pagedown");
    expect((await h.callError("no_such_tool", {})).code).toBe("INVALID_ARGUMENT");
    await h.call("close_session", { session_id: id });
  });

  test("an invalid regex falls back to a substring with a warning", async () => {
    const id = await bash();
    const r = await h.call<Record<string, unknown>>("send_input", { session_id: id, input: "echo 'value: f(x'", wait_for: "f(x" });
    expect(r).toMatchObject({ matched: true, match_line: "value: f(x", warning: 'Not a valid regular expression, matched as plain text: "f(x".' });
    await h.call("close_session", { session_id: id });
  });

  test("a catastrophic regex neither freezes the server nor other sessions", async () => {
    const a = await bash();
    const b = await bash();
    // One 50 KB line of a's ending in b, then a pattern that backtracks exponentially in a backtracking engine.
    await h.call("send_input", { session_id: a, input: `printf 'a%.0s' $(seq 1 50000); echo b` , timeout_ms: 5000 });
    const wait = h.call<Record<string, unknown>>("read_output", { session_id: a, since_cursor: 0, wait_for: "(a+)+$", timeout: 3 });
    const other = await h.call<Record<string, unknown>>("send_input", { session_id: b, input: "echo alive" });
    expect(other.output).toBe("alive\n$ ");
    const r = await wait;
    expect(r).toMatchObject({ matched: false, timed_out: true });
    const rejected = await h.callError("read_output", { session_id: a, wait_for: "(a)\\1" });
    expect(rejected.code).toBe("REGEX_REJECTED");
    await h.call("close_session", { session_id: a });
    await h.call("close_session", { session_id: b });
  });

  test("input over 1 MB is refused and nothing is typed", async () => {
    const id = await bash();
    const err = await h.callError("send_input", { session_id: id, input: "x".repeat(2 * 1024 * 1024) });
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toContain("limit is 1048576");
    const r = await h.call<Record<string, unknown>>("send_input", { session_id: id, input: "echo still-here" });
    expect(r.output).toBe("still-here\n$ ");
    await h.call("close_session", { session_id: id });
  });

  test("numbers and booleans as strings are accepted; nonsense is INVALID_ARGUMENT naming the field", async () => {
    const id = await bash();
    const r = await h.call<Record<string, unknown>>("send_input", { session_id: id, input: "echo 'a b'", raw: "false", timeout_ms: "3000" });
    expect(r.output).toBe("a b\n$ ");
    const bad = await h.callError("send_input", { session_id: id, input: "x", timeout_ms: "soon" });
    expect(bad).toEqual({ code: "INVALID_ARGUMENT", message: "Invalid arguments — timeout_ms: expected a number.", retryable: false });
    const missing = await h.callError("send_input", { session_id: id });
    expect(missing.code).toBe("INVALID_ARGUMENT");
    expect(missing.message).toContain("input:");
    await h.call("close_session", { session_id: id });
  });

  test("a missing program or directory is INVALID_ARGUMENT", async () => {
    expect(await h.callError("create_local_session", { command: "/nonexistent/prog" })).toMatchObject({ code: "INVALID_ARGUMENT", message: "Command not found: /nonexistent/prog. Give a full path or a program on PATH." });
    expect(await h.callError("create_local_session", { command: "bash", cwd: "/nonexistent-dir" })).toMatchObject({ code: "INVALID_ARGUMENT", message: "Working directory not found: /nonexistent-dir" });
  });

  test("detach_session refuses a non-persistent session with NOT_PERSISTENT and leaves it running", async () => {
    const id = await bash();
    expect((await h.callError("detach_session", { session_id: id })).code).toBe("NOT_PERSISTENT");
    expect((await h.call<Record<string, unknown>>("get_session_state", { session_id: id })).is_alive).toBe(true);
    await h.call("close_session", { session_id: id });
  });
});

describe("concurrency, cancellation, progress", () => {
  test("a long wait on one session does not delay another; cancelling the wait stops it", async () => {
    const a = await bash();
    const b = await bash();
    const controller = new AbortController();
    const waiting = h.callRaw("read_output", { session_id: a, wait_for: "never-appears", timeout: 100 }, { signal: controller.signal });
    let waitEnded = false;
    void waiting.finally(() => (waitEnded = true)).catch(() => {});
    const other = await h.call<Record<string, unknown>>("send_input", { session_id: b, input: "echo quick" });
    // The other session answered while the wait still held (a condition, not a time: "< 5 s" was one).
    expect({ output: other.output, waitEnded }).toEqual({ output: "quick\n$ ", waitEnded: false });
    controller.abort();
    expect(waiting).rejects.toThrow();
    // The cancelled wait released the session: a new wait on it matches at once.
    const again = await h.call<Record<string, unknown>>("send_input", { session_id: a, input: "echo after-cancel", wait_for: "^after-cancel$" });
    expect(again.matched).toBe(true);
    await h.call("close_session", { session_id: a });
    await h.call("close_session", { session_id: b });
  });

  test("a long wait sends progress notifications", async () => {
    const id = await bash();
    const updates: number[] = [];
    const r = await h.call<Record<string, unknown>>("read_output", { session_id: id, wait_for: "never-appears", timeout: 2.5 }, { onprogress: (p) => updates.push(p.progress) });
    expect(r).toMatchObject({ matched: false, timed_out: true, is_alive: true });
    expect(updates.length).toBeGreaterThanOrEqual(1);
    await h.call("close_session", { session_id: id });
  });

  test("a session that exits ends a pending wait at once", async () => {
    const s = await h.call<{ session_id: string }>("create_local_session", { command: "bash -c 'sleep 0.5; echo bye; exit 7'" });
    const r = await h.call<Record<string, unknown>>("read_output", { session_id: s.session_id, wait_for: "never-appears", timeout: 60 });
    expect(r).toMatchObject({ matched: false, timed_out: false, is_alive: false, exit_code: 7, tail: "bye" });
  });

  test("a 100 MB flood: the server stays responsive, memory bounded, a stale cursor reports is_truncated", async () => {
    const flood = await bash();
    const other = await bash();
    const pid = h.transport.pid!;
    const run = h.call<Record<string, unknown>>("send_input", { session_id: flood, input: "head -c 100000000 /dev/zero | tr '\\0' x | fold -w 99; echo; echo FLOOD_DONE", wait_for: "^FLOOD_DONE$", wait_for_timeout: 120 });
    let answered = 0;
    let done = false;
    void run.finally(() => (done = true));
    while (!done) {
      const listed = await h.call<{ sessions: unknown[] }>("list_sessions");
      expect(listed.sessions.length).toBeGreaterThanOrEqual(2);
      const echo = await h.call<Record<string, unknown>>("send_input", { session_id: other, input: `echo ping-${answered}` });
      expect(echo.output).toBe(`ping-${answered}\n$ `);
      answered++;
    }
    const r = await run;
    expect(r.matched).toBe(true);
    expect(answered).toBeGreaterThan(0);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)![1]);
    expect(peakKb).toBeLessThan(600 * 1024); // bounded: 100 MB went through a 1 MB ring
    const stale = await h.call<Record<string, unknown>>("read_output", { session_id: flood, since_cursor: 0, max_bytes: 100 });
    expect(stale.is_truncated).toBe(true);
    expect(stale.cursor_start as number).toBeGreaterThan(99_000_000);
    await h.call("close_session", { session_id: flood });
    await h.call("close_session", { session_id: other });
  }, 180_000);
});

describe("limits and lifecycle", () => {
  test("the 51st live session is refused with SESSION_LIMIT", async () => {
    const server = await McpHarness.start();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 50; i++) ids.push((await server.call<{ session_id: string }>("create_local_session", { command: "sleep 1000" })).session_id);
      const err = await server.callError("create_local_session", { command: "sleep 1000" });
      expect(err).toMatchObject({ code: "SESSION_LIMIT", retryable: true });
      await server.call("close_session", { session_id: ids[0]! });
      expect((await server.call<{ session_id: string }>("create_local_session", { command: "sleep 1000" })).session_id).toMatch(/^local-[0-9a-f]{8}$/);
    } finally {
      await server.close();
    }
  });

  test("the server exits when stdin closes and ends its sessions", async () => {
    const server = await McpHarness.start();
    const s = await server.call<{ pid: number }>("create_local_session", { command: "sleep 1000" });
    const serverPid = server.transport.pid!;
    await server.close();
    // Gone within 60 s (5 s was a time: closing a session under load can take longer); a condition, polled.
    const gone = async (pid: number) => {
      for (let i = 0; i < 1200; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          return true;
        }
        await Bun.sleep(50);
      }
      return false;
    };
    expect(await gone(serverPid)).toBe(true);
    expect(await gone(s.pid)).toBe(true);
  });
});
