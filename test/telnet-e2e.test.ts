// Network consoles end to end: the compiled binary driven over stdio by the MCP SDK client, against
// a real telnet daemon with /bin/login (login: true, the password from PTY_MCP_SECRET_COMMAND), and
// ser2net 4 in front of socat pty pairs with the fake Cisco-style switch on the far end, in its
// telnet, RFC 2217 and raw modes, one port and eight in parallel.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { interfacesStatus, showVersion } from "./fixtures/fake-switch-output.ts";
import { startScriptedServer, startSer2net, startTelnetd, type Ser2netMode, type Telnetd } from "./harness/consoles.ts";
import { until } from "./harness/daemon.ts";
import { McpHarness } from "./harness/mcp.ts";
import { startFakeSwitch, startSocatPair } from "./harness/socat.ts";

type Result = Record<string, unknown>;

let h: McpHarness;
let dir: string;
let telnetd: Telnetd;
const results: string[] = [];
const cleanups: (() => PromiseLike<unknown> | unknown)[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), `pty-mcp-telnet-e2e-${process.pid}-`));
  telnetd = await startTelnetd();
  writeFileSync(join(dir, "secret"), `${telnetd.password}\n`, { mode: 0o600 });
  h = await McpHarness.start({ env: { HOME: dir, XDG_CONFIG_HOME: join(dir, ".config"), PTY_MCP_SECRET_COMMAND: `cat ${join(dir, "secret")}` }, args: ["serve", "--audit-log", join(dir, "audit.jsonl")] });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await h?.close();
  await telnetd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every result is kept, to check that the password never appears in one. */
async function call(name: string, args: Result): Promise<Result> {
  const r = await h.call(name, args);
  results.push(JSON.stringify(r));
  return r;
}

async function create(tool: string, args: Result): Promise<Result & { session_id: string }> {
  const created = (await call(tool, args)) as Result & { session_id: string };
  cleanups.push(() => h.callRaw("close_session", { session_id: created.session_id }));
  return created;
}

const send = (session_id: string, input: string, extra: Result = {}) => call("send_input", { session_id, input, ...extra });
const pageOf = (lines: string[]) => lines.map((line) => `${line}\n`).join("");

describe("create_telnet_session: inetutils telnetd with /bin/login", () => {
  test("login: true answers login: with user and Password: with the secret; commands, stty size follows resize_session (NAWS), ctrl+c; the server closing ends a pending wait", async () => {
    const log = join(dir, "login.log");
    const cast = join(dir, "login.cast");
    const created = await create("create_telnet_session", { host: "127.0.0.1", port: telnetd.port, user: telnetd.user, login: true, cols: 91, rows: 33, connect_timeout: "5", log_file: log, record: cast });
    const id = created.session_id;
    expect(created).toEqual({ session_id: id, type: "telnet", target: `127.0.0.1:${telnetd.port}`, mode: "telnet", line_ending: "\r\n", cols: 91, rows: 33, login: { completed: true } });
    const r1 = await send(id, "echo $TERM; stty size; id -un", { wait_for: "\\$ $", wait_for_timeout: 10 });
    expect((await call("read_output", { session_id: id, since_cursor: r1.cursor_start as number })).output).toEqual(`echo $TERM; stty size; id -un\nxterm-256color\n33 91\n${telnetd.user}\n$ `);
    expect(await call("resize_session", { session_id: id, cols: 132, rows: 50 })).toEqual({ session_id: id, cols: 132, rows: 50 });
    const r2 = await send(id, "stty size", { wait_for: "^\\d+ \\d+$" });
    expect(r2.match_line).toEqual("50 132");
    await call("read_output", { session_id: id, wait_for: "\\$ $" });
    // A duration of its own: pgrep below finds this sleep and no other test's "sleep 100".
    const sleep = `sleep 100.${process.pid}`;
    const sleeping = await send(id, sleep, { timeout_ms: 300 });
    expect(sleeping.is_complete).toBe(false);
    // 300 ms is a time: on a loaded machine the echo may come later (it would then follow the cursor) and a
    // ctrl+c before bash started sleep hits readline. Wait for the sleep process and the whole echo line.
    await until(() => Bun.spawnSync(["pgrep", "-x", "-f", sleep]).exitCode === 0, `${sleep} to run`);
    let echoed: Result = {};
    await until(async () => (echoed = await call("read_output", { session_id: id, since_cursor: sleeping.cursor_start as number })).output === `${sleep}\n`, `the echo of ${sleep}`);
    await call("send_control", { session_id: id, key: "ctrl+c" });
    await call("read_output", { session_id: id, wait_for: "\\$ $", timeout: 10 });
    expect((await call("read_output", { session_id: id, since_cursor: echoed.cursor as number })).output).toEqual("^C\n$ ");
    const state = await call("get_session_state", { session_id: id });
    expect({ type: state.type, target: state.target, is_alive: state.is_alive, state: state.state, mode: state.mode, line_ending: state.line_ending }).toEqual({
      type: "telnet",
      target: `127.0.0.1:${telnetd.port}`,
      is_alive: true,
      state: "at_prompt",
      mode: "telnet",
      line_ending: "\r\n",
    });
    // A wait pending when the server closes the connection returns at once with is_alive false.
    const pending = call("read_output", { session_id: id, wait_for: "never-printed", timeout: 60 });
    await Bun.sleep(200);
    await send(id, "exit", { timeout_ms: 200 });
    const ended = await pending;
    expect({ matched: ended.matched, is_alive: ended.is_alive }).toEqual({ matched: false, is_alive: false });
    const after = await call("get_session_state", { session_id: id });
    expect({ is_alive: after.is_alive, exit_reason: after.exit_reason }).toEqual({ is_alive: false, exit_reason: `The server 127.0.0.1:${telnetd.port} closed the connection.` });
    expect(await h.callError("send_input", { session_id: id, input: "x" })).toEqual({ code: "SESSION_CLOSED", message: expect.stringContaining("closed the connection"), retryable: false });
    // The password is in no result, not in the log file, not in the recording; the user name is.
    const logText = readFileSync(log, "utf8");
    const castText = readFileSync(cast, "utf8");
    const auditText = readFileSync(join(dir, "audit.jsonl"), "utf8");
    const events = auditText
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string; session_id?: string })
      .filter((e) => e.session_id === id && e.event !== "output")
      .map((e) => e.event);
    expect({
      inResults: results.filter((r) => r.includes(telnetd.password)).length,
      inLog: logText.includes(telnetd.password),
      inRecording: castText.includes(telnetd.password),
      inAudit: auditText.includes(telnetd.password),
      userLogged: logText.includes(telnetd.user),
      audited: [events[0], events.includes("input"), events.includes("secret"), events.includes("control")],
    }).toEqual({ inResults: 0, inLog: false, inRecording: false, inAudit: false, userLogged: true, audited: ["create", true, true, true] });
  });

  test("login: a wrong password is reported (login.completed false, refused), the session stays at the login prompt", async () => {
    writeFileSync(join(dir, "secret"), "not-the-password\n");
    try {
      const created = await create("create_telnet_session", { host: "127.0.0.1", port: telnetd.port, user: telnetd.user, login: true });
      expect({ login: created.login, warning: created.warning }).toEqual({
        login: { completed: false, failed_step: "refused", tail: expect.stringMatching(/Login incorrect/) },
        warning: "The login was refused (wrong user or password?); the session is at the login prompt again.",
      });
    } finally {
      writeFileSync(join(dir, "secret"), `${telnetd.password}\n`);
    }
  });

  test("login: a console silent until Enter (a console-server port) gets one Enter after 5 s, then Username:, the secret at Password:, the prompt", async () => {
    // A scripted console behind a telnet port that never negotiates: silent until a line arrives.
    const lines: string[] = [];
    const server = await startScriptedServer((s) => {
      let buffer = "";
      let step = 0;
      s.on("data", (d) => {
        buffer += d.toString("latin1").replace(/\xff[\xfb-\xfe]./gs, "");
        for (let at = buffer.search(/[\r\n]/); at >= 0; at = buffer.search(/[\r\n]/)) {
          const line = buffer.slice(0, at);
          buffer = buffer.slice(at + 1).replace(/^[\n\0]/, "");
          lines.push(line);
          if (step === 0) s.write("\r\nUser Access Verification\r\n\r\nUsername: ");
          else if (step === 1) s.write(`${line}\r\nPassword: `);
          else if (step === 2) s.write(line === telnetd.password ? "\r\n\r\nRouter>" : "\r\n% Login invalid\r\n\r\nUsername: ");
          step++;
        }
      });
    });
    cleanups.push(() => server.close());
    const created = await create("create_telnet_session", { host: "127.0.0.1", port: server.port, user: "admin", login: true });
    expect({ login: created.login, lines }).toEqual({ login: { completed: true }, lines: ["", "admin", telnetd.password] });
    expect((await call("get_session_state", { session_id: created.session_id })).last_prompt).toBe("Router>");
  });

  test("errors: login without user, a closed port (CONN_FAILED, retryable), a bad line_ending", async () => {
    expect(await h.callError("create_telnet_session", { host: "127.0.0.1", login: true })).toEqual({
      code: "INVALID_ARGUMENT",
      message: "login: true needs user (the name typed at the login prompt); the password is asked from the human.",
      retryable: false,
    });
    const server = await startScriptedServer(() => {});
    const port = server.port;
    await server.close();
    expect(await h.callError("create_telnet_session", { host: "127.0.0.1", port })).toEqual({
      code: "CONN_FAILED",
      message: `Cannot connect to 127.0.0.1:${port}: nothing listens on port ${port} (connection refused): check the port, or whether the console server's port is enabled.`,
      retryable: true,
    });
    expect((await h.callError("create_telnet_session", { host: "127.0.0.1", port, line_ending: "enter" })).code).toBe("INVALID_ARGUMENT");
    expect((await call("list_sessions", {})).sessions).toEqual([]);
  });
});

/** socat pairs with the fake switch on the far end of each, and one ser2net serving them all. */
async function consoleServer(modes: Ser2netMode[], options: { strace?: boolean } = {}) {
  const devices: string[] = [];
  for (const _ of modes) {
    const pair = await startSocatPair();
    cleanups.push(() => pair[Symbol.asyncDispose]());
    const sw = await startFakeSwitch(pair.b);
    cleanups.push(() => sw[Symbol.asyncDispose]());
    devices.push(pair.a);
  }
  const ser2net = await startSer2net(
    modes.map((mode, i) => ({ device: devices[i]!, mode })),
    options,
  );
  cleanups.push(() => ser2net[Symbol.asyncDispose]());
  return { devices, ports: ser2net.ports, ser2net };
}

/** The switch dialog up to enable, then show version and a paged command with auto_pager, and cli_mode. */
async function switchDialog(id: string): Promise<unknown[]> {
  const steps: unknown[] = [];
  for (const input of ["", "admin", "cisco", "enable", "secret", "configure terminal", "end"]) {
    const r = await send(id, input);
    const state = await call("get_session_state", { session_id: id });
    steps.push({ input, output: r.output, state: r.state, cli_mode: state.cli_mode ?? null });
  }
  const version = await send(id, "show version");
  steps.push({ input: "show version", same: version.output === `${pageOf(showVersion("Router"))}Router#` });
  const paged = await send(id, "show interfaces status", { auto_pager: true });
  steps.push({ input: "show interfaces status", same: paged.output === `${pageOf(interfacesStatus())}Router#` });
  return steps;
}

const dialogSteps = [
  { input: "", output: "\nUser Access Verification\n\nUsername: ", state: "at_prompt", cli_mode: null },
  { input: "admin", output: "Password: ", state: "password_prompt", cli_mode: null },
  { input: "cisco", output: "\n\nRouter>", state: "at_prompt", cli_mode: "user" },
  { input: "enable", output: "Password: ", state: "password_prompt", cli_mode: null },
  { input: "secret", output: "\nRouter#", state: "at_prompt", cli_mode: "enable" },
  { input: "configure terminal", output: "Enter configuration commands, one per line.  End with CNTL/Z.\nRouter(config)#", state: "at_prompt", cli_mode: "config" },
  { input: "end", output: "Router#", state: "at_prompt", cli_mode: "enable" },
  { input: "show version", same: true },
  { input: "show interfaces status", same: true },
];

describe("ser2net in front of the fake switch", () => {
  test("create_serial_session rfc2217://: 115200 7E2 negotiated, the server's answers in the result and get_session_state, stty -F shows the speed; the switch dialog, pager and cli_mode as over a local port", async () => {
    const { devices, ports } = await consoleServer(["rfc2217"]);
    const url = `rfc2217://127.0.0.1:${ports[0]}`;
    const created = await create("create_serial_session", { device: url, baud_rate: 115200, data_bits: 7, parity: "even", stop_bits: 2 });
    const id = created.session_id;
    const settings = { baud_rate: 115200, data_bits: 7, parity: "even", stop_bits: 2, flow_control: "none" };
    expect(created).toEqual({ session_id: id, type: "serial", target: url, line_ending: "\r", cols: 120, rows: 40, settings: { ...settings, modem_state: expect.any(Number) } });
    expect(Bun.spawnSync(["stty", "-F", devices[0]!]).stdout.toString().split("\n")[0]).toEqual("speed 115200 baud; line = 0;");
    const state = await call("get_session_state", { session_id: id });
    expect({ type: state.type, target: state.target, line_ending: state.line_ending, settings: state.settings }).toEqual({ type: "serial", target: url, line_ending: "\r", settings: { ...settings, modem_state: expect.any(Number) } });
    expect(await switchDialog(id)).toEqual(dialogSteps);
  });

  test("create_telnet_session to a ser2net telnet port (default line ending) and create_serial_session socket:// / create_telnet_session raw: true to a raw port: the same dialog", async () => {
    const { ports } = await consoleServer(["telnet", "raw", "raw"]);
    // The default line ending "\r\n": ser2net agrees to BINARY, so it goes out as CR (one Enter on the device).
    const viaTelnet = await create("create_telnet_session", { host: "127.0.0.1", port: ports[0] });
    expect(await switchDialog(viaTelnet.session_id)).toEqual(dialogSteps);
    const viaSocket = await create("create_serial_session", { device: `socket://127.0.0.1:${ports[1]}` });
    expect(viaSocket).toEqual({ session_id: viaSocket.session_id, type: "serial", target: `socket://127.0.0.1:${ports[1]}`, line_ending: "\r", cols: 120, rows: 40 });
    expect(await switchDialog(viaSocket.session_id)).toEqual(dialogSteps);
    const viaRaw = await create("create_telnet_session", { host: "127.0.0.1", port: ports[2], raw: true, line_ending: "\\r" });
    expect({ mode: viaRaw.mode, line_ending: viaRaw.line_ending }).toEqual({ mode: "raw", line_ending: "\r" });
    expect(await switchDialog(viaRaw.session_id)).toEqual(dialogSteps);
  });

  test("send_control break reaches ser2net's device: SET-CONTROL BREAK on rfc2217:// (TIOCSBRK, TIOCCBRK), IAC BRK on a telnet session (TCSBRK); dtr_off and rts_on are accepted on rfc2217://", async () => {
    const { ports, ser2net } = await consoleServer(["rfc2217", "telnet"], { strace: true });
    const serial = await create("create_serial_session", { device: `rfc2217://127.0.0.1:${ports[0]}` });
    const telnet = await create("create_telnet_session", { host: "127.0.0.1", port: ports[1] });
    // Each device is its own fd in ser2net: the calls per fd, in order.
    const breaks = () =>
      readFileSync(ser2net.straceLog!, "utf8")
        .split("\n")
        .map((l) => /ioctl\((\d+), (TIOC[SC]BRK|TCSBRK)\b/.exec(l))
        .filter((m) => m !== null)
        .map((m) => m[2]);
    // ser2net clears BREAK (TIOCCBRK) when it opens a device: wait until both are open.
    while (breaks().filter((c) => c === "TIOCCBRK").length < 2) await Bun.sleep(20);
    const before = breaks().length;
    for (const key of ["break", "dtr_off", "rts_on"]) expect(await call("send_control", { session_id: serial.session_id, key })).toEqual({ success: true, key, cursor: expect.any(Number), is_alive: true });
    while (breaks().length < before + 2) await Bun.sleep(20);
    expect(breaks().slice(before)).toEqual(["TIOCSBRK", "TIOCCBRK"]);
    expect(await call("send_control", { session_id: telnet.session_id, key: "break" })).toEqual({ success: true, key: "break", cursor: expect.any(Number), is_alive: true });
    while (breaks().length < before + 3) await Bun.sleep(20);
    expect(breaks().slice(before + 2)).toEqual(["TCSBRK"]);
    // A telnet session has no modem lines.
    expect((await h.callError("send_control", { session_id: telnet.session_id, key: "dtr_on" })).code).toBe("INVALID_ARGUMENT");
  });

  test("a console server with 8 ports (one ser2net config, 8 fake switches) driven in parallel: every console logs in and shows version", async () => {
    const { ports } = await consoleServer(["telnet", "telnet", "telnet", "telnet", "rfc2217", "rfc2217", "raw", "raw"]);
    const sessions = await Promise.all(
      ports.map((port, i) => (i < 4 ? create("create_telnet_session", { host: "127.0.0.1", port }) : create("create_serial_session", { device: i < 6 ? `rfc2217://127.0.0.1:${port}` : `socket://127.0.0.1:${port}` }))),
    );
    const outcomes = await Promise.all(
      sessions.map(async ({ session_id }) => {
        for (const input of ["", "admin", "cisco"]) await send(session_id, input);
        const r = await send(session_id, "show version");
        return { output: r.output === `${pageOf(showVersion("Router"))}Router>`, cli_mode: (await call("get_session_state", { session_id })).cli_mode };
      }),
    );
    expect(outcomes).toEqual(Array.from({ length: 8 }, () => ({ output: true, cli_mode: "user" })));
  });

  test("create_serial_session: rfc2217:// to a port that is not RFC 2217 is PROTOCOL_ERROR; a malformed URL is INVALID_ARGUMENT", async () => {
    const { ports } = await consoleServer(["raw"]);
    expect((await h.callError("create_serial_session", { device: `rfc2217://127.0.0.1:${ports[0]}`, connect_timeout: 5 })).code).toEqual("PROTOCOL_ERROR");
    expect(await h.callError("create_serial_session", { device: "rfc2217://host-without-port" })).toEqual({
      code: "INVALID_ARGUMENT",
      message: '"rfc2217://host-without-port" is not a network serial URL: use rfc2217://host:port (RFC 2217) or socket://host:port (raw TCP).',
      retryable: false,
    });
  });
});

describe("hostile servers through the MCP server", () => {
  test("100 MB of output on one console while another answers; an endless subnegotiation ends its session with PROTOCOL_ERROR; the server stays up", async () => {
    const total = 100 * 1024 * 1024;
    const server = await startScriptedServer((s, index) => {
      if (index === 0) {
        const chunk = Buffer.alloc(256 * 1024, 0x61);
        for (let i = 0; i < chunk.length; i += 128) chunk[i] = 0x0a;
        let sent = 0;
        const pump = () => {
          while (sent < total) {
            sent += chunk.length;
            if (!s.write(chunk)) return void s.once("drain", pump);
          }
          s.end("\nflood done\n");
        };
        pump();
      } else if (index === 1) {
        s.on("data", () => s.write("pong\n"));
      } else {
        s.write(Buffer.from([0x48, 0x69, 255, 250, 24]));
        s.write(Buffer.alloc(1024 * 1024, 0x41));
      }
    });
    cleanups.push(() => server.close());
    const flood = await create("create_telnet_session", { host: "127.0.0.1", port: server.port, raw: true });
    const echo = await create("create_telnet_session", { host: "127.0.0.1", port: server.port, raw: true, line_ending: "lf" });
    const answered = await send(echo.session_id, "ping", { wait_for: "^pong$", wait_for_timeout: 30 });
    expect(answered.matched).toBe(true);
    const done = await call("read_output", { session_id: flood.session_id, wait_for: "^flood done$", timeout: 300 });
    // Every byte arrived: the cursor is the stream's length.
    expect({ matched: done.matched, cursor: done.cursor }).toEqual({ matched: true, cursor: total + "\nflood done\n".length });
    const hostile = await create("create_telnet_session", { host: "127.0.0.1", port: server.port });
    const ended = await call("read_output", { session_id: hostile.session_id, wait_for: "never", timeout: 30 });
    const state = await call("get_session_state", { session_id: hostile.session_id });
    expect({ is_alive: ended.is_alive, exit_reason: state.exit_reason }).toEqual({
      is_alive: false,
      exit_reason: `The server 127.0.0.1:${server.port} broke the telnet protocol (the server sent a subnegotiation (option 24) longer than 4096 bytes); the connection was closed. If it is a plain TCP console, use raw: true (or socket://).`,
    });
    expect((await h.callError("send_input", { session_id: hostile.session_id, input: "x" })).code).toBe("PROTOCOL_ERROR");
    // The server's memory after 100 MB went through: bounded by the output buffer, not the volume.
    const rssKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${h.transport.pid}/status`, "utf8"))?.[1]);
    expect({ peakRssUnder400MB: rssKb < 400 * 1024 }).toEqual({ peakRssUnder400MB: true });
  });
});
