// Persistent sessions end to end: the compiled binary as MCP server, daemon, client, sessions
// and attach. Each test gets its own XDG_RUNTIME_DIR (so its own daemon) and kills it at the end.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { clientHello, encodeFrame, FrameDecoder, type Frame } from "../src/daemon/protocol.ts";
import { alive, cleanupDaemons, daemonPid, killDaemon, runtimeDir, server, until } from "./harness/daemon.ts";
import { binary, plainBash } from "./harness/mcp.ts";

afterEach(cleanupDaemons);

function run(args: string[], runtime: string, options: { stdin?: Uint8Array } = {}) {
  const proc = Bun.spawnSync([binary, ...args], { env: { ...process.env, XDG_RUNTIME_DIR: runtime }, stdin: options.stdin, stdout: "pipe", stderr: "pipe" });
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

type Json = Record<string, unknown>;

const ticks = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `tick ${from + i}\n`).join("");

describe("persistent sessions (daemon)", () => {
  test("ticking job: the MCP server is SIGKILLed mid-way, a new server reattaches by id and reads every tick once, then the exit code", async () => {
    const rt = runtimeDir();
    const h1 = await server(rt);
    const s = await h1.call<Json>("create_local_session", { command: "for i in $(seq 1 30); do echo tick $i; sleep 0.2; done", persistent: true, name: "ticker" });
    expect(s).toEqual({ session_id: expect.stringMatching(/^local-[0-9a-f]{8}$/), type: "local", target: "for i in $(seq 1 30); do echo tick $i; sleep 0.2; done", name: "ticker", cols: 120, rows: 40, pid: expect.any(Number), persistent: true, cursor: expect.any(Number), cursor_start: 0, read_cursor: 0, is_alive: true });
    const id = s.session_id as string;
    const seen = await h1.call<Json>("read_output", { session_id: id, wait_for: "^tick 5$", timeout: 20 });
    expect(seen).toMatchObject({ matched: true, match_line: "tick 5", is_alive: true });
    const before = seen.cursor as number;
    const daemon = daemonPid(rt)!;

    process.kill(h1.transport.pid!, "SIGKILL");
    await until(() => !alive(h1.transport.pid!), "the MCP server to die");

    const h2 = await server(rt);
    const again = await h2.call<Json>("create_local_session", { session_id: id });
    expect(again).toMatchObject({ session_id: id, reattached: true, persistent: true, name: "ticker", cursor_start: 0 });
    expect(again.cursor as number).toBeGreaterThanOrEqual(before);

    const end = await h2.call<Json>("read_output", { session_id: id, wait_for: "never printed", timeout: 30 });
    expect(end).toMatchObject({ matched: false, timed_out: false, is_alive: false, exit_code: 0 });
    const after = await h2.call<Json>("read_output", { session_id: id, since_cursor: before, max_bytes: 65536 });
    expect(after).toEqual({ output: ticks(6, 30), cursor: end.cursor, cursor_start: before, has_more: false, is_truncated: false, is_alive: false, state: "unknown", exit_code: 0 });
    const all = await h2.call<Json>("read_output", { session_id: id, since_cursor: 0, max_bytes: 65536 });
    expect(all.output).toBe(ticks(1, 30));
    const state = await h2.call<Json>("get_session_state", { session_id: id });
    expect(state).toMatchObject({ session_id: id, is_alive: false, exit_code: 0, persistent: true, cursor: end.cursor });
    expect(daemonPid(rt)).toBe(daemon);
  }, 60_000);

  test("server exit only detaches: the work goes on, a new server reattaches and close_session ends the daemon's PTY", async () => {
    const rt = runtimeDir();
    const h1 = await server(rt);
    const s = await h1.call<Json>("create_local_session", { ...plainBash, persistent: true });
    const id = s.session_id as string;
    await h1.call("read_output", { session_id: id, wait_for: "^\\$ $", timeout: 10 });
    await h1.call("send_input", { session_id: id, input: "export MARK=kept-$((6*7))" });
    await h1.close();

    const h2 = await server(rt);
    const listed = await h2.call<{ sessions: Json[] }>("list_remote_sessions", {});
    expect(listed.sessions).toEqual([expect.objectContaining({ session_id: id, is_alive: true, clients: 0, attached_here: false, pid: s.pid })]);
    await h2.call("create_local_session", { session_id: id });
    const r = await h2.call<Json>("send_input", { session_id: id, input: "echo $MARK" });
    expect(r).toMatchObject({ output: "kept-42\n$ ", is_complete: true, is_alive: true });
    const closed = await h2.call<Json>("close_session", { session_id: id });
    expect(closed).toEqual({ success: true, session_id: id, exit_code: null, exit_signal: "SIGHUP" });
    expect(alive(s.pid as number)).toBe(false);
    expect(await h2.call("list_remote_sessions", {})).toEqual({ host: "localhost", daemon_running: true, sessions: [] });
  }, 60_000);

  test("detach_session: a persistent session keeps running and can be reattached; a non-persistent one is refused with NOT_PERSISTENT", async () => {
    const rt = runtimeDir();
    const h = await server(rt);
    const local = await h.call<Json>("create_local_session", plainBash);
    const refused = await h.callError("detach_session", { session_id: local.session_id });
    expect(refused).toEqual({
      code: "NOT_PERSISTENT",
      message: `Session ${local.session_id} is not persistent: detaching would end it. Use close_session to end it, or create a session with persistent: true to keep work running.`,
      retryable: false,
    });
    expect(await h.call<Json>("get_session_state", { session_id: local.session_id })).toMatchObject({ is_alive: true, persistent: false });

    const p = await h.call<Json>("create_local_session", { command: "cat", persistent: true });
    const id = p.session_id as string;
    await h.call("send_input", { session_id: id, input: "one", wait_for: "^one$" });
    expect(await h.call("detach_session", { session_id: id })).toEqual({ success: true, session_id: id });
    expect((await h.call<{ sessions: Json[] }>("list_sessions")).sessions.map((x) => x.session_id)).toEqual([local.session_id]);
    expect((await h.callError("send_input", { session_id: id, input: "x" })).code).toBe("SESSION_NOT_FOUND");
    const remote = await h.call<{ sessions: Json[] }>("list_remote_sessions", { status: "running" });
    expect(remote.sessions).toEqual([expect.objectContaining({ session_id: id, is_alive: true, clients: 0, attached_here: false })]);

    await h.call("create_local_session", { session_id: id });
    const two = await h.call<Json>("send_input", { session_id: id, input: "two", wait_for: "^two$" });
    expect(two).toMatchObject({ matched: true, match_line: "two" });
    const all = await h.call<Json>("read_output", { session_id: id, since_cursor: 0 });
    expect(all.output).toBe("one\r\none\r\ntwo\r\ntwo\r\n".replace(/\r/g, ""));
    // With host, the remote daemon is reached over SSH (test/remote.test.ts); a name that cannot resolve fails to connect.
    expect((await h.callError("list_remote_sessions", { host: "no-such-host.invalid" })).code).toBe("SSH_CONN_FAILED");
  }, 60_000);

  test("socket directory: a wider mode or another owner is refused (daemon and tools); the socket is 0600 in a 0700 directory", async () => {
    const rt = runtimeDir();
    const dir = join(rt, "pty-mcp");
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const d = run(["daemon", "--foreground"], rt);
    expect(d).toEqual({ code: 1, stdout: "", stderr: `pty-mcp daemon: Refusing the daemon socket directory ${dir}: its mode is 0755, others could reach your sessions. Run \`chmod 700 ${dir}\` and try again.\n` });
    const h = await server(rt);
    expect(await h.callError("create_local_session", { command: "cat", persistent: true })).toEqual({
      code: "DAEMON_UNAVAILABLE",
      message: `Refusing the daemon socket directory ${dir}: its mode is 0755, others could reach your sessions. Run \`chmod 700 ${dir}\` and try again.`,
      retryable: false,
    });
    expect(run(["sessions"], rt)).toEqual({ code: 1, stdout: "", stderr: `pty-mcp sessions: Refusing the daemon socket directory ${dir}: its mode is 0755, others could reach your sessions. Run \`chmod 700 ${dir}\` and try again.\n` });

    if (process.getuid?.() === 0) {
      chmodSync(dir, 0o700);
      chownSync(dir, 65534, 65534);
      expect(run(["client"], rt)).toEqual({ code: 1, stdout: "", stderr: `pty-mcp client: Refusing the daemon socket directory ${dir}: it belongs to uid 65534, not to you (uid 0). Someone else could watch or drive your sessions; remove it or use another --socket.\n` });
      chownSync(dir, 0, 0);
    }

    chmodSync(dir, 0o700);
    expect(run(["daemon"], rt).code).toBe(0);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "daemon.sock")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "daemon.log")).mode & 0o777).toBe(0o600);
  }, 60_000);

  test("stale socket after a killed daemon: nothing listens, a new daemon removes it and starts; a second daemon is refused", async () => {
    const rt = runtimeDir();
    const sock = join(rt, "pty-mcp", "daemon.sock");
    const first = run(["daemon"], rt);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`pty-mcp daemon started (pid ${daemonPid(rt)}) on ${sock}; log: ${join(rt, "pty-mcp", "daemon.log")}\n`);
    await killDaemon(rt);
    expect(statSync(sock).isSocket()).toBe(true);
    expect(run(["sessions"], rt)).toEqual({ code: 0, stdout: `No pty-mcp daemon is running (${sock}).\n`, stderr: "" });

    const second = run(["daemon"], rt);
    expect(second.code).toBe(0);
    const pid = daemonPid(rt)!;
    expect(alive(pid)).toBe(true);
    expect(readFileSync(join(rt, "pty-mcp", "daemon.log"), "utf8")).toContain(`removed a stale socket at ${sock}`);
    expect(run(["daemon"], rt)).toEqual({ code: 0, stdout: `pty-mcp daemon: already running (pid ${pid}) on ${sock}\n`, stderr: "" });
    expect(run(["daemon", "--foreground"], rt)).toEqual({ code: 3, stdout: "", stderr: `pty-mcp daemon: already running (pid ${pid}) on ${sock}\n` });
    expect(run(["sessions", "--json"], rt)).toEqual({ code: 0, stdout: `${JSON.stringify({ daemon_running: true, sessions: [] })}\n`, stderr: "" });
  }, 60_000);

  test("pty-mcp sessions lists the daemon's sessions (--json for scripts, a table for humans); ai-tmux list is the same", async () => {
    const rt = runtimeDir();
    expect(run(["sessions", "--json"], rt)).toEqual({ code: 0, stdout: `${JSON.stringify({ daemon_running: false, sessions: [] })}\n`, stderr: "" });
    const h = await server(rt);
    const s = await h.call<Json>("create_local_session", { command: "cat", persistent: true, name: "cat-box", cols: 90, rows: 20 });
    const out = run(["sessions", "--json"], rt);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({
      daemon_running: true,
      sessions: [
        {
          id: s.session_id,
          name: "cat-box",
          type: "local",
          target: "cat",
          pid: s.pid,
          cols: 90,
          rows: 20,
          created_at: expect.any(String),
          last_used: expect.any(String),
          is_alive: true,
          start: 0,
          end: 0,
          read_mark: 0,
          clients: 1,
          state: "unknown",
          auto_pager: false,
        },
      ],
    });
    const table = run(["sessions"], rt).stdout.split("\n");
    expect(table[0]).toMatch(/^ID\s+NAME\s+STATUS\s+CLIENTS\s+SIZE\s+CREATED\s+COMMAND$/);
    expect(table[1]).toMatch(new RegExp(`^${s.session_id}\\s+cat-box\\s+running\\s+1\\s+90x20\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+cat$`));
    expect(run(["ai-tmux", "list", "--json"], rt).stdout).toBe(run(["sessions", "--json"], rt).stdout);
  }, 60_000);

  test("pty-mcp client bridges stdin/stdout to the daemon (starting it): hello with versions, then requests", async () => {
    const rt = runtimeDir();
    const input = new Uint8Array([...encodeFrame(clientHello("test bridge")), ...encodeFrame({ type: "list", id: 1 }), ...encodeFrame({ type: "state", id: 2, session: "local-nope" })]);
    const proc = Bun.spawn([binary, "client"], { env: { ...process.env, XDG_RUNTIME_DIR: rt }, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    proc.stdin.write(input);
    await proc.stdin.flush();
    const decoder = new FrameDecoder();
    const frames: Frame[] = [];
    const reader = proc.stdout.getReader();
    while (frames.length < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      frames.push(...decoder.push(value));
    }
    await proc.stdin.end();
    expect(await proc.exited).toBe(0);
    const pid = daemonPid(rt)!;
    expect(frames.map((f) => f.header)).toEqual([
      { type: "hello", protocol: "pty-mcp", version: 1, daemon: expect.stringMatching(/^pty-mcp \d+\.\d+\.\d+/), pid },
      { type: "reply", id: 1, ok: true, result: { sessions: [] } },
      {
        type: "reply",
        id: 2,
        ok: false,
        error: {
          code: "SESSION_NOT_FOUND",
          message: 'No persistent session "local-nope" in the daemon: it was closed, expired after ending, or ended with an earlier daemon. list_remote_sessions shows the daemon\'s sessions.',
          retryable: false,
        },
      },
    ]);

    // A client offering only an unknown version is refused, with the versions the daemon speaks.
    const refused = Bun.spawnSync([binary, "client"], { env: { ...process.env, XDG_RUNTIME_DIR: rt }, stdin: encodeFrame({ ...clientHello("future"), versions: [99] }) });
    expect(refused.exitCode).toBe(0);
    expect(new FrameDecoder().push(refused.stdout).map((f) => f.header)).toEqual([
      { type: "hello_refused", protocol: "pty-mcp", versions: [1], message: expect.stringContaining("the client offered 99") },
    ]);
  }, 60_000);

  test("daemon killed: tools on its sessions return DAEMON_UNAVAILABLE; the next persistent session starts a new daemon", async () => {
    const rt = runtimeDir();
    const h = await server(rt);
    const s = await h.call<Json>("create_local_session", { command: "cat", persistent: true });
    const first = daemonPid(rt)!;
    await killDaemon(rt);
    await until(async () => (await h.call<Json>("get_session_state", { session_id: s.session_id })).is_alive === false, "the mirror to notice");
    const err = await h.callError("send_input", { session_id: s.session_id, input: "hello" });
    expect(err.code).toBe("DAEMON_UNAVAILABLE");
    expect(err.message).toContain("lost the connection to the pty-mcp daemon");
    const state = await h.call<Json>("get_session_state", { session_id: s.session_id });
    expect(state).toMatchObject({ is_alive: false, exit_code: null, persistent: true });
    expect((await h.callError("create_local_session", { session_id: s.session_id })).code).toBe("SESSION_NOT_FOUND");

    const again = await h.call<Json>("create_local_session", { command: "cat", persistent: true });
    expect(daemonPid(rt)).not.toBe(first);
    const echo = await h.call<Json>("send_input", { session_id: again.session_id, input: "back", wait_for: "^back$" });
    expect(echo).toMatchObject({ matched: true, is_alive: true });
  }, 60_000);

  test("an ended session keeps its exit code for reattach, then the retention time removes it; a running one with no client is never reaped", async () => {
    const rt = runtimeDir();
    // The retention clock starts when the session exits; from there to the reattach below the test closes
    // one server and starts another (two process start-ups). 4 s was too short for that on a loaded
    // machine (the reattach found SESSION_NOT_FOUND); 15 s leaves room and the wait below still ends on the removal.
    const env = { PTY_MCP_DAEMON_RETENTION: "15" };
    const h1 = await server(rt, env);
    const worker = await h1.call<Json>("create_local_session", { command: "sh -c 'while :; do read line; echo got $line; done'", persistent: true });
    await h1.call("detach_session", { session_id: worker.session_id });
    const s = await h1.call<Json>("create_local_session", { command: "sh -c 'echo bye; exit 3'", persistent: true });
    const id = s.session_id as string;
    const end = await h1.call<Json>("read_output", { session_id: id, wait_for: "never printed", timeout: 10 });
    expect(end).toMatchObject({ is_alive: false, exit_code: 3 });
    await h1.close();

    const h2 = await server(rt, env);
    const back = await h2.call<Json>("create_local_session", { session_id: id });
    expect(back).toMatchObject({ session_id: id, reattached: true, is_alive: false, exit_code: 3 });
    expect(await h2.call<Json>("get_session_state", { session_id: id })).toMatchObject({ is_alive: false, exit_code: 3 });
    expect((await h2.call<Json>("read_output", { session_id: id, since_cursor: 0 })).output).toBe("bye\n");
    const listed = await h2.call<{ sessions: Json[] }>("list_remote_sessions", { status: "exited" });
    expect(listed.sessions).toEqual([expect.objectContaining({ session_id: id, is_alive: false, exit_code: 3, exited_at: expect.any(String), expires_at: expect.any(String) })]);
    await h2.call("detach_session", { session_id: id });
    await until(async () => (await h2.call<{ sessions: Json[] }>("list_remote_sessions", { status: "exited" })).sessions.length === 0, "retention to remove the session", 60_000);
    expect((await h2.callError("create_local_session", { session_id: id })).code).toBe("SESSION_NOT_FOUND");
    // The worker outlived the retention time with nobody attached, and still works.
    const running = await h2.call<{ sessions: Json[] }>("list_remote_sessions", {});
    expect(running.sessions).toEqual([expect.objectContaining({ session_id: worker.session_id, is_alive: true, clients: 0 })]);
    await h2.call("create_local_session", { session_id: worker.session_id });
    const r = await h2.call<Json>("send_input", { session_id: worker.session_id, input: "ping", wait_for: "^got ping$" });
    expect(r).toMatchObject({ matched: true, is_alive: true });
  }, 120_000);

  test("a flood bigger than the ring buffer: the mirror's cursors stay the daemon's and lost output is reported", async () => {
    const rt = runtimeDir();
    const h = await server(rt);
    const s = await h.call<Json>("create_local_session", { ...plainBash, persistent: true });
    const id = s.session_id as string;
    await h.call("read_output", { session_id: id, wait_for: "^\\$ $", timeout: 10 });
    const r = await h.call<Json>("send_input", { session_id: id, input: "head -c 12000000 /dev/zero | tr '\\0' x; echo; echo FLOOD-DONE", wait_for: "^FLOOD-DONE$", wait_for_timeout: 120 });
    expect(r).toMatchObject({ matched: true, match_line: "FLOOD-DONE", is_truncated: true });
    await h.call("read_output", { session_id: id, wait_for: "^\\$ $", timeout: 10 });
    const state = await h.call<Json>("get_session_state", { session_id: id });
    const remote = await h.call<{ sessions: Json[] }>("list_remote_sessions", {});
    expect(remote.sessions[0]!.cursor).toBe(state.cursor);
    expect(state.cursor as number).toBeGreaterThan(12_000_000);
    const old = await h.call<Json>("read_output", { session_id: id, since_cursor: 0, max_bytes: 10 });
    expect(old).toMatchObject({ is_truncated: true, output: "xxxxxxxxxx" });
  }, 60_000);

  test("attach: a human in a real terminal sees the screen, types alongside the agent, the size follows the window, ctrl+] d detaches", async () => {
    const rt = runtimeDir();
    const h = await server(rt);
    const s = await h.call<Json>("create_local_session", { ...plainBash, persistent: true });
    const id = s.session_id as string;
    await h.call("read_output", { session_id: id, wait_for: "^\\$ $", timeout: 10 });
    await h.call("send_input", { session_id: id, input: "echo agent-was-here" });

    const term = new TerminalCapture();
    const proc = Bun.spawn([binary, "attach", id], { env: { ...process.env, XDG_RUNTIME_DIR: rt }, terminal: { cols: 100, rows: 30, data: (_t, bytes) => term.add(bytes) } });
    // The screen is replayed from the daemon's screen state: the earlier command and its output.
    await term.waitFor("\x1b[2;1Hagent-was-here");
    expect(term.text).toStartWith("\x1b[0m\x1b[H\x1b[2J\x1b[1;1H$ echo agent-was-here\x1b[2;1Hagent-was-here\x1b[3;1H$ ");
    await until(async () => (await h.call<Json>("get_session_state", { session_id: id })).cols === 100, "the agent's view to follow the window");
    expect(await h.call<Json>("get_session_state", { session_id: id })).toMatchObject({ cols: 100, rows: 30 });
    expect(await h.call<Json>("read_screen", { session_id: id })).toMatchObject({ cols: 100, rows: 30 });

    proc.terminal!.write("echo from-human\r");
    const seen = await h.call<Json>("read_output", { session_id: id, wait_for: "^from-human$", timeout: 10 });
    expect(seen).toMatchObject({ matched: true, match_line: "from-human" });
    await h.call("send_input", { session_id: id, input: "echo from-agent" });
    await term.waitFor("from-agent");

    proc.terminal!.write("\x1d");
    proc.terminal!.write("d");
    expect(await proc.exited).toBe(0);
    expect(term.text).toContain(`[pty-mcp] detached from ${id}; it keeps running (pty-mcp attach ${id} to return).`);
    const state = await h.call<Json>("get_session_state", { session_id: id });
    expect(state).toMatchObject({ is_alive: true, cols: 120, rows: 40 });
    const listed = await h.call<{ sessions: Json[] }>("list_remote_sessions", {});
    expect(listed.sessions).toEqual([expect.objectContaining({ session_id: id, clients: 1, cols: 120, rows: 40 })]);
    const r = await h.call<Json>("send_input", { session_id: id, input: "echo still-here" });
    expect(r).toMatchObject({ output: "still-here\n$ ", is_alive: true });
  }, 60_000);
});

/** What a terminal program wrote, with a wait for text to appear. */
class TerminalCapture {
  text = "";
  #waiters: Array<() => void> = [];
  add(bytes: Uint8Array): void {
    this.text += new TextDecoder().decode(bytes);
    for (const w of this.#waiters.splice(0)) w();
  }
  async waitFor(needle: string, timeoutMs = 15_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.text.includes(needle)) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`terminal never showed ${JSON.stringify(needle)}; it showed ${JSON.stringify(this.text.slice(-2000))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

if (!existsSync(binary)) throw new Error(`${binary} is missing: run bun scripts/build.ts`);
