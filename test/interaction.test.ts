// The transport contract's test (STYLE.md §7): the same interaction checks over every transport,
// through the compiled binary. Each transport puts a plain bash ("$ " prompt, no rc files) behind
// it (test/harness/transport-cases.ts). A new transport joins with one line in TRANSPORTS.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { daemonCase, localCase, serialCase, sshCase, telnetRawCase, type OpenedCase, type TransportCase } from "./harness/transport-cases.ts";
import { until } from "./harness/daemon.ts";
import { sshdAvailable } from "./harness/sshd.ts";
import { rfc2217Case, telnetdCase } from "./harness/consoles.ts";

setDefaultTimeout(120_000);

const TRANSPORTS: TransportCase[] = [
  localCase,
  daemonCase,
  ...(sshdAvailable ? [sshCase] : []),
  ...(Bun.which("socat") ? [serialCase] : []),
  ...(Bun.which("socat") ? [telnetRawCase] : []),
  ...(process.getuid?.() === 0 && Bun.which("telnetd", { PATH: "/usr/sbin:/usr/bin" }) ? [telnetdCase] : []),
  ...(Bun.which("socat") && Bun.which("ser2net", { PATH: "/usr/sbin:/usr/bin" }) ? [rfc2217Case] : []),
];

const FLOOD_LINES = 20_000;
let sleeps = 0;

for (const transport of TRANSPORTS) {
  describe(`interaction over ${transport.name}`, () => {
    let c: OpenedCase;
    beforeAll(async () => {
      c = await transport.start();
    });
    afterAll(async () => {
      await c?.close();
    });
    const call = <T = Record<string, unknown>>(name: string, args: Record<string, unknown>) => c.server.call<T>(name, args);

    test(`${transport.name}: send_input returns the command's output, without its echo, at the next prompt`, async () => {
      const id = await c.open();
      const r = await call("send_input", { session_id: id, input: "echo hello-$((6*7))" });
      expect({ output: r.output, is_complete: r.is_complete, is_alive: r.is_alive, state: r.state }).toEqual({ output: "hello-42\n$ ", is_complete: true, is_alive: true, state: "at_prompt" });
      await call("close_session", { session_id: id });
    });

    test(`${transport.name}: wait_for never matches the echo of the input, only the output`, async () => {
      const id = await c.open();
      const r = await call("send_input", { session_id: id, input: "true MARK-7; echo found-MARK-7", wait_for: "MARK-7", wait_for_timeout: 30 });
      expect({ matched: r.matched, match_line: r.match_line }).toEqual({ matched: true, match_line: "found-MARK-7" });
      await call("close_session", { session_id: id });
    });

    test(`${transport.name}: the program exiting ends a pending wait at once (is_alive false)`, async () => {
      const id = await c.open();
      const waiting = call("read_output", { session_id: id, wait_for: "never-printed-\\d{9}", timeout: 100 });
      await call("send_input", { session_id: id, input: "exit", timeout_ms: 0 });
      const r = await waiting;
      expect({ matched: r.matched, timed_out: r.timed_out, is_alive: r.is_alive }).toEqual({ matched: false, timed_out: false, is_alive: false });
      const state = await call("get_session_state", { session_id: id });
      expect(state.is_alive).toBe(false);
      await call("close_session", { session_id: id });
    });

    test(`${transport.name}: read_screen shows the rendered terminal`, async () => {
      const id = await c.open();
      await call("send_input", { session_id: id, input: "printf '\\033[2J\\033[HSCREEN-%s\\n' top" });
      const screen = await call<{ lines: string[]; cursor: { row: number; col: number }; alternate_screen: boolean; is_alive: boolean }>("read_screen", { session_id: id });
      expect({ first: screen.lines[0], second: screen.lines[1]?.trimEnd(), cursor: screen.cursor, alternate_screen: screen.alternate_screen, is_alive: screen.is_alive }).toEqual({
        first: "SCREEN-top",
        second: "$",
        cursor: { row: 1, col: 2 },
        alternate_screen: false,
        is_alive: true,
      });
      await call("close_session", { session_id: id });
    });

    test(`${transport.name}: send_control ctrl+c interrupts the running program (status 130)`, async () => {
      const id = await c.open();
      // A duration of its own, so that pgrep finds this sleep and no other test's.
      const sleep = `sleep 60.${process.pid}${++sleeps}`;
      const running = await call("send_input", { session_id: id, input: sleep, timeout_ms: 300 });
      expect({ is_complete: running.is_complete, state: running.state }).toEqual({ is_complete: false, state: "running" });
      // 300 ms is a time: a ctrl+c before bash started sleep would hit bash itself. Wait until it runs.
      await until(() => Bun.spawnSync(["pgrep", "-x", "-f", sleep]).exitCode === 0, `${sleep} to run`, 60_000);
      await call("send_control", { session_id: id, key: "ctrl+c" });
      const back = await call("read_output", { session_id: id, wait_for: "^\\$ $", timeout: 30 });
      expect(back.matched).toBe(true);
      const status = await call("send_input", { session_id: id, input: "echo status=$?" });
      expect(status.output).toBe("status=130\n$ ");
      await call("close_session", { session_id: id });
    });

    test(`${transport.name}: resize_session sets the size${transport.traits.resizeReachesProgram ? " the program sees" : " (a serial line carries none)"}`, async () => {
      const id = await c.open();
      expect(await call("resize_session", { session_id: id, cols: 100, rows: 30 })).toEqual({ session_id: id, cols: 100, rows: 30 });
      const state = await call("get_session_state", { session_id: id });
      expect({ cols: state.cols, rows: state.rows }).toEqual({ cols: 100, rows: 30 });
      const screen = await call<{ cols: number; rows: number }>("read_screen", { session_id: id });
      expect({ cols: screen.cols, rows: screen.rows }).toEqual({ cols: 100, rows: 30 });
      if (transport.traits.resizeReachesProgram) {
        const size = await call("send_input", { session_id: id, input: "stty size" });
        expect(size.output).toBe("30 100\n$ ");
      }
      await call("close_session", { session_id: id });
    });

    test(`${transport.name}: a flood read back by cursors is complete and in order`, async () => {
      const id = await c.open();
      const done = await call<{ matched: boolean; cursor: number; cursor_start: number }>("send_input", {
        session_id: id,
        input: `seq 1 ${FLOOD_LINES}; echo FLOOD-END`,
        wait_for: "^FLOOD-END$",
        wait_for_timeout: 120,
      });
      expect(done.matched).toBe(true);
      let text = "";
      let cursor = done.cursor_start;
      let reads = 0;
      while (cursor < done.cursor) {
        const part = await call<{ output: string; cursor: number; is_truncated: boolean }>("read_output", { session_id: id, since_cursor: cursor, max_bytes: 16 * 1024 });
        expect(part.is_truncated).toBe(false);
        text += part.output;
        cursor = part.cursor;
        reads++;
      }
      const lines = text.split("\n");
      const from = lines.indexOf("1");
      const numbers = lines.slice(from, lines.indexOf("FLOOD-END"));
      expect({ count: numbers.length, ordered: numbers.every((n, i) => n === String(i + 1)), severalReads: reads > 1 }).toEqual({ count: FLOOD_LINES, ordered: true, severalReads: true });
      await call("close_session", { session_id: id });
    });

    test(`${transport.name}: close_session ends it; the id is gone`, async () => {
      const id = await c.open();
      expect(await call("close_session", { session_id: id })).toMatchObject({ success: true, session_id: id });
      const after = await c.server.callError("send_input", { session_id: id, input: "echo no" });
      expect(after.code).toBe("SESSION_NOT_FOUND");
      const listed = await call<{ sessions: Array<{ session_id: string }> }>("list_sessions", {});
      expect(listed.sessions.some((s) => s.session_id === id)).toBe(false);
    });
  });
}
