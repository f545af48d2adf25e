// Serial consoles end to end: the compiled binary driven over stdio by the MCP SDK client, real
// `socat pty,raw,echo=0` pairs, and the scripted Cisco-style console (test/fixtures/fake-switch-fixture.ts)
// on the far end. Needs socat, strace and coreutils (stty, head, dd).
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listSerialPorts } from "../src/serial/list-ports.ts";
import { interfacesStatus, showVersion } from "./fixtures/fake-switch-output.ts";
import { binary, McpHarness } from "./harness/mcp.ts";
import { startFakeSwitch, startSocatPair, type SocatPair } from "./harness/socat.ts";

type Result = Record<string, unknown>;

let h: McpHarness;
let dir: string;
const cleanups: (() => PromiseLike<unknown> | unknown)[] = [];

beforeAll(async () => {
  // 4 MiB of output buffer, so the 1 MiB transfer is still whole when it is read back.
  h = await McpHarness.start({ env: { PTY_MCP_BUFFER_SIZE: "4M" } });
  dir = mkdtempSync(join(tmpdir(), "pty-mcp-serial-e2e-"));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

async function pair(): Promise<SocatPair> {
  const p = await startSocatPair();
  cleanups.push(() => p[Symbol.asyncDispose]());
  return p;
}

async function openSerial(args: Result): Promise<Result & { session_id: string }> {
  const created = await h.call<Result & { session_id: string }>("create_serial_session", args);
  cleanups.push(() => h.callRaw("close_session", { session_id: created.session_id }));
  return created;
}

/** A socat pair with the fake switch on the far end and a session on the near end. */
async function switchConsole(create: Result = {}, switchArgs: string[] = []): Promise<{ p: SocatPair; id: string }> {
  const p = await pair();
  const sw = await startFakeSwitch(p.b, switchArgs);
  cleanups.push(() => sw[Symbol.asyncDispose]());
  const created = await openSerial({ device: p.a, ...create });
  return { p, id: created.session_id };
}

async function send(id: string, input: string, extra: Result = {}): Promise<Result> {
  return h.call("send_input", { session_id: id, input, ...extra });
}

/** Wakes the console and logs in up to enable mode. */
async function loginEnable(id: string): Promise<void> {
  for (const input of ["", "admin", "cisco", "enable", "secret"]) await send(id, input);
  expect((await h.call("get_session_state", { session_id: id })).cli_mode).toBe("enable");
}

/** The far end reads exactly `bytes` bytes. */
function farEndReads(device: string, bytes: number): Promise<Buffer> {
  const proc = Bun.spawn(["head", "-c", String(bytes), device], { stdout: "pipe" });
  return new Response(proc.stdout).arrayBuffer().then((b) => Buffer.from(b));
}

/** Random printable ASCII in lines of 80 (so wait_for scans it line by line), each line ending in \n. */
function printableLines(size: number): Buffer {
  const data = randomBytes(size);
  for (let i = 0; i < size; i++) data[i] = (i + 1) % 81 === 0 ? 0x0a : 0x20 + ((data[i] ?? 0) % 95);
  return data;
}

const pageOf = (lines: string[]) => lines.map((line) => `${line}\n`).join("");
const ptyWarning = "A pseudo-terminal ignores these; on a real port the driver or adapter cannot do them.";
const noModemLines = "This device has no modem control lines (a pseudo-terminal, or an adapter without DTR/RTS).";

describe("create_serial_session", () => {
  test("create_serial_session: defaults are 9600 8N1, no flow control, line ending CR; get_session_state shows them", async () => {
    const p = await pair();
    const created = await openSerial({ device: p.a });
    expect(created).toEqual({
      session_id: expect.stringMatching(/^serial-[0-9a-f]{8}$/),
      type: "serial",
      target: p.a,
      settings: { baud_rate: 9600, data_bits: 8, parity: "none", stop_bits: 1, flow_control: "none" },
      line_ending: "\r",
      cols: 120,
      rows: 40,
    });
    expect(await h.call("get_session_state", { session_id: created.session_id })).toEqual({
      session_id: created.session_id,
      type: "serial",
      target: p.a,
      is_alive: true,
      cursor: 0,
      read_cursor: 0,
      state: "unknown",
      awaiting_secret: false,
      created_at: expect.any(String),
      last_used: expect.any(String),
      cols: 120,
      rows: 40,
      persistent: false,
      shell_integration: false,
      auto_pager: false,
      settings: { baud_rate: 9600, data_bits: 8, parity: "none", stop_bits: 1, flow_control: "none" },
      line_ending: "\r",
    });
    const words = new Set(Bun.spawnSync(["stty", "-F", p.a, "-a"]).stdout.toString().split(/[\s;]+/));
    expect(["9600", "cs8", "-parenb", "-cstopb", "-crtscts", "-ixon", "clocal", "hupcl", "-icanon", "-echo"].filter((w) => words.has(w))).toEqual([
      "9600",
      "cs8",
      "-parenb",
      "-cstopb",
      "-crtscts",
      "-ixon",
      "clocal",
      "hupcl",
      "-icanon",
      "-echo",
    ]);
  });

  test("create_serial_session: aliases port and baud, strings for numbers, 115200 7E2 rtscts dtr:false; what a pty refuses is a warning", async () => {
    const p = await pair();
    const created = await openSerial({ port: p.a, baud: "115200", data_bits: "7", parity: "even", stop_bits: 2, flow_control: "rtscts", dtr: "false", name: "core-sw1 console" });
    const warning = `The device did not accept: data_bits 7 (kept 8), parity even (kept none). ${ptyWarning} Could not set DTR off: ENOTTY. ${noModemLines}`;
    expect(created).toEqual({
      session_id: expect.stringMatching(/^serial-[0-9a-f]{8}$/),
      type: "serial",
      target: p.a,
      name: "core-sw1 console",
      settings: { baud_rate: 115200, data_bits: 8, parity: "none", stop_bits: 2, flow_control: "rtscts" },
      line_ending: "\r",
      cols: 120,
      rows: 40,
      warning,
    });
    // Read back from the other side of the kernel: speed, CSTOPB, CRTSCTS stick on a pty; dtr:false clears HUPCL.
    const stty = Bun.spawnSync(["stty", "-F", p.a, "-a"]).stdout.toString();
    const words = new Set(stty.split(/[\s;]+/));
    expect({ speed: /speed (\d+) baud/.exec(stty)?.[1], flags: ["cstopb", "crtscts", "-hupcl", "cs8"].filter((w) => words.has(w)) }).toEqual({
      speed: "115200",
      flags: ["cstopb", "crtscts", "-hupcl", "cs8"],
    });
    const state = await h.call("get_session_state", { session_id: created.session_id });
    expect({ name: state.name, settings: state.settings, warning: state.warning }).toEqual({ name: "core-sw1 console", settings: created.settings, warning });
  });

  test("create_serial_session: bad paths, settings and a busy port are refused with clear errors, and leave no session behind", async () => {
    const p = await pair();
    const file = join("/dev/shm", `pty-mcp-e2e-${process.pid}`);
    writeFileSync(file, "not a tty");
    cleanups.push(() => rmSync(file, { force: true }));
    const before = ((await h.call("list_sessions")).sessions as unknown[]).length;
    const errors = [];
    for (const args of [
      { device: "/dev/../etc/passwd" },
      { device: "/dev/ttyNOPE9" },
      { port: "/etc/passwd" },
      { device: file },
      { device: "/dev/null" },
      {},
      { device: p.a, port: "/dev/ttyS9" },
      { device: p.a, baud_rate: 12345 },
      { device: p.a, parity: "purple" },
      { device: p.a, data_bits: 9 },
      { device: p.a, line_ending: "enter" },
    ]) {
      errors.push(await h.callError("create_serial_session", args));
    }
    expect(errors).toEqual([
      { code: "INVALID_ARGUMENT", retryable: false, message: 'device "/dev/../etc/passwd" contains "..": give the device path itself, e.g. /dev/ttyUSB0 (list_serial_ports shows them).' },
      {
        code: "SERIAL_OPEN_FAILED",
        retryable: true,
        message: "No device /dev/ttyNOPE9: nothing is plugged in there. Check the cable and call list_serial_ports to see the ports present (a USB adapter can take a second to appear, and may get another number after replugging).",
      },
      { code: "INVALID_ARGUMENT", retryable: false, message: 'device "/etc/passwd" is not under /dev/: serial ports are device files such as /dev/ttyUSB0, /dev/ttyACM0 or /dev/cu.usbserial-1410 (list_serial_ports shows them).' },
      { code: "INVALID_ARGUMENT", retryable: false, message: `device "${file}" is a regular file, not a serial port (a character device such as /dev/ttyUSB0). list_serial_ports shows the ports present.` },
      { code: "SERIAL_OPEN_FAILED", retryable: false, message: "Cannot configure /dev/null: tcgetattr failed: ENOTTY. Is it a serial port?" },
      { code: "INVALID_ARGUMENT", retryable: false, message: "device is required: the serial port's path, e.g. /dev/ttyUSB0 (list_serial_ports shows the ports present)." },
      { code: "INVALID_ARGUMENT", retryable: false, message: `device and its alias port disagree ("${p.a}" vs "/dev/ttyS9"): give one of them.` },
      {
        code: "INVALID_ARGUMENT",
        retryable: false,
        message:
          "baud_rate 12345 is not a rate this OS can set. Valid: 50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000.",
      },
      { code: "INVALID_ARGUMENT", retryable: false, message: 'Invalid arguments — parity: Invalid option: expected one of "none"|"even"|"odd"|"mark"|"space".' },
      { code: "INVALID_ARGUMENT", retryable: false, message: "Invalid arguments — data_bits: Too big: expected number to be <=8." },
      { code: "INVALID_ARGUMENT", retryable: false, message: 'line_ending "enter" is not a line ending: use "\\r" (default), "\\n", "\\r\\n", or the names cr, lf, crlf, none.' },
    ]);
    expect(((await h.call("list_sessions")).sessions as unknown[]).length).toBe(before);

    // Busy: one session per port; the port opens again once that session is closed.
    const first = await h.call<{ session_id: string }>("create_serial_session", { device: p.a });
    expect(await h.callError("create_serial_session", { device: p.a })).toEqual({
      code: "SERIAL_OPEN_FAILED",
      retryable: true,
      message: `${p.a} is busy: another session of this pty-mcp server has it open exclusively. Close that session (close_session) or quit that program, then try again.`,
    });
    await h.call("close_session", { session_id: first.session_id });
    expect((await openSerial({ device: p.a })).target).toBe(p.a);
  });

  test("list_serial_ports: {ports} as the sysfs scan finds them, a read-only tool; both tools are listed with their parameters", async () => {
    expect(await h.call("list_serial_ports")).toEqual({ ports: listSerialPorts() });
    const { tools } = await h.client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    const list = byName.get("list_serial_ports");
    const create = byName.get("create_serial_session");
    expect({
      list: list?.annotations?.readOnlyHint,
      create: create?.annotations?.readOnlyHint,
      params: Object.keys(create?.inputSchema.properties ?? {}).slice(0, 11),
      common: ["name", "cols", "rows", "log_file", "auto_pager"].every((k) => k in (create?.inputSchema.properties ?? {})),
    }).toEqual({
      list: true,
      create: false,
      params: ["device", "port", "baud_rate", "baud", "data_bits", "parity", "stop_bits", "flow_control", "line_ending", "dtr", "rts"],
      common: true,
    });
  });
});

describe("console dialog", () => {
  test("send_input: login (Username at_prompt, password_prompt, no echo), enable, configure terminal, interface, end — exact outputs, state and cli_mode", async () => {
    const { id } = await switchConsole();
    const steps = [];
    let cursor = 0;
    for (const input of ["", "admin", "cisco", "enable", "secret", "configure terminal", "interface Gi0/1", "end", "disable"]) {
      const r = await send(id, input);
      // Each result starts where the previous one ended: nothing skipped, nothing read twice.
      expect({ start: r.cursor_start, end: r.cursor_end }).toEqual({ start: cursor, end: r.cursor });
      cursor = r.cursor as number;
      const state = await h.call("get_session_state", { session_id: id });
      steps.push({ input, output: r.output, state: r.state, is_complete: r.is_complete, cli_mode: state.cli_mode ?? null });
    }
    expect(steps).toEqual([
      { input: "", output: "\nUser Access Verification\n\nUsername: ", state: "at_prompt", is_complete: true, cli_mode: null },
      { input: "admin", output: "Password: ", state: "password_prompt", is_complete: true, cli_mode: null },
      { input: "cisco", output: "\n\nRouter>", state: "at_prompt", is_complete: true, cli_mode: "user" },
      { input: "enable", output: "Password: ", state: "password_prompt", is_complete: true, cli_mode: null },
      { input: "secret", output: "\nRouter#", state: "at_prompt", is_complete: true, cli_mode: "enable" },
      { input: "configure terminal", output: "Enter configuration commands, one per line.  End with CNTL/Z.\nRouter(config)#", state: "at_prompt", is_complete: true, cli_mode: "config" },
      { input: "interface Gi0/1", output: "Router(config-if)#", state: "at_prompt", is_complete: true, cli_mode: "config-if" },
      { input: "end", output: "Router#", state: "at_prompt", is_complete: true, cli_mode: "enable" },
      { input: "disable", output: "Router>", state: "at_prompt", is_complete: true, cli_mode: "user" },
    ]);
    expect(await send(id, "show version")).toEqual({
      output: `${pageOf(showVersion("Router"))}Router>`,
      cursor: expect.any(Number),
      cursor_start: cursor,
      cursor_end: expect.any(Number),
      is_alive: true,
      is_complete: true,
      state: "at_prompt",
      completion: "heuristic",
    });
    const state = await h.call("get_session_state", { session_id: id });
    expect({ state: state.state, last_prompt: state.last_prompt, cli_mode: state.cli_mode }).toEqual({ state: "at_prompt", last_prompt: "Router>", cli_mode: "user" });
  });

  test("auto_pager on send_input: show interfaces status (48 ports, 3 pages) comes back whole in one result, without --More--", async () => {
    const { id } = await switchConsole();
    await loginEnable(id);
    const r = await send(id, "show interfaces status", { auto_pager: true });
    expect({ output: r.output, state: r.state, is_complete: r.is_complete }).toEqual({ output: `${pageOf(interfacesStatus())}Router#`, state: "at_prompt", is_complete: true });
    // The session itself keeps auto_pager off; the console is back at its prompt with nothing left over.
    const state = await h.call("get_session_state", { session_id: id });
    expect({ auto_pager: state.auto_pager, state: state.state, cli_mode: state.cli_mode }).toEqual({ auto_pager: false, state: "at_prompt", cli_mode: "enable" });
    expect((await h.call("read_output", { session_id: id, since_cursor: r.cursor })).output).toBe("");
    // Reading the same range again (incremental mode) gives the same text.
    expect((await h.call("read_output", { session_id: id, since_cursor: r.cursor_start })).output).toBe(`show interfaces status\n${pageOf(interfacesStatus())}Router#`);
  });

  test("auto_pager on the session: every command's pages are answered; a device slow to answer the space (300 ms) still comes back whole", async () => {
    const { id } = await switchConsole({ auto_pager: true }, ["--more-delay", "300"]);
    await loginEnable(id);
    expect((await h.call("get_session_state", { session_id: id })).auto_pager).toBe(true);
    const r = await send(id, "show interfaces status");
    expect({ output: r.output, state: r.state, is_complete: r.is_complete }).toEqual({ output: `${pageOf(interfacesStatus())}Router#`, state: "at_prompt", is_complete: true });
  });

  test("without auto_pager: state is pager at --More--, the prompt is shown (also after an auto-paged command); space pages on, q stops", async () => {
    const { id } = await switchConsole();
    await loginEnable(id);
    const lines = interfacesStatus();
    expect((await send(id, "show interfaces status", { auto_pager: true })).output).toBe(`${pageOf(lines)}Router#`);
    const first = await send(id, "show interfaces status");
    expect({ output: first.output, state: first.state }).toEqual({ output: `${pageOf(lines.slice(0, 23))} --More-- `, state: "pager" });
    const state = await h.call("get_session_state", { session_id: id });
    expect({ state: state.state, last_prompt: state.last_prompt }).toEqual({ state: "pager", last_prompt: "--More--" });
    const second = await send(id, " ", { raw: true });
    expect({ output: second.output, state: second.state }).toEqual({ output: `${pageOf(lines.slice(23, 46))} --More-- `, state: "pager" });
    const quit = await send(id, "q", { raw: true });
    expect({ output: quit.output, state: quit.state }).toEqual({ output: "Router#", state: "at_prompt" });
  });
});

describe("serial line", () => {
  test("line_ending: CR by default (a newline inside the input too), \\r\\n as escaped text, crlf by name; raw sends exactly the input", async () => {
    const results = [];
    for (const [create, input, raw] of [
      [{}, "show version", false],
      [{}, "conf t\ninterface Gi0/1\nend", false],
      [{ line_ending: "\\r\\n" }, "x", false],
      [{ line_ending: "crlf" }, "y", false],
      [{ line_ending: "\n" }, "z", false],
      [{}, "no ending", true],
    ] as const) {
      const p = await pair();
      const created = await openSerial({ device: p.a, ...create });
      const expected = raw ? input : input.replaceAll("\n", created.line_ending as string) + created.line_ending;
      const received = farEndReads(p.b, Buffer.byteLength(expected));
      await h.call("send_input", { session_id: created.session_id, input, raw, timeout_ms: 0 });
      results.push({ line_ending: created.line_ending, received: (await received).toString() });
    }
    expect(results).toEqual([
      { line_ending: "\r", received: "show version\r" },
      { line_ending: "\r", received: "conf t\rinterface Gi0/1\rend\r" },
      { line_ending: "\r\n", received: "x\r\n" },
      { line_ending: "\r\n", received: "y\r\n" },
      { line_ending: "\n", received: "z\n" },
      { line_ending: "\r", received: "no ending" },
    ]);
  });

  test("exactly-once: 1 MiB of random printable text each way through the session; incremental reads join without a gap or overlap", async () => {
    const p = await pair();
    const { session_id } = await openSerial({ device: p.a, baud_rate: 4000000 });
    const size = 1 << 20;

    // Session → device: one raw send_input of 1 MiB (the input limit); the far end reads exactly that many bytes.
    const out = Buffer.from(printableLines(size).toString("latin1").replaceAll("\n", "."));
    const received = farEndReads(p.b, size);
    expect(await h.call("send_input", { session_id, input: out.toString(), raw: true, timeout_ms: 0 })).toMatchObject({ is_alive: true });
    expect((await received).equals(out)).toBe(true);
    // Nothing more follows: the next bytes the far end reads are the next input.
    const after = farEndReads(p.b, 4);
    await h.call("send_input", { session_id, input: "ping", raw: true, timeout_ms: 0 });
    expect((await after).toString()).toBe("ping");

    // Device → session: dd writes 1 MiB and an end marker; read back in 256 KiB steps from cursor 0.
    const inbound = Buffer.concat([printableLines(size), Buffer.from("\n<<END-OF-TRANSFER>>\n")]);
    writeFileSync(join(dir, "inbound"), inbound);
    const dd = Bun.spawn(["dd", `if=${join(dir, "inbound")}`, `of=${p.b}`, "bs=65536", "status=none"]);
    const done = await h.call("read_output", { session_id, wait_for: "^<<END-OF-TRANSFER>>$", timeout: 60 });
    expect({ exit: await dd.exited, matched: done.matched, cursor: done.cursor }).toEqual({ exit: 0, matched: true, cursor: inbound.length });
    const parts: string[] = [];
    let cursor = 0;
    while (cursor < inbound.length) {
      const r = await h.call("read_output", { session_id, since_cursor: cursor, max_bytes: 256 * 1024 });
      expect(r.cursor_start).toBe(cursor);
      parts.push(r.output as string);
      cursor = r.cursor as number;
    }
    const text = parts.join("");
    expect({ cursor, length: text.length, equal: text === inbound.toString("latin1") }).toEqual({ cursor: inbound.length, length: inbound.length, equal: true });
  }, 60_000);

  test("device vanishes: killing socat flips is_alive, ends a pending wait_for at once; the server keeps serving another console", async () => {
    const a = await switchConsole();
    const b = await switchConsole();
    const woke = await send(a.id, "");
    const pending = h.call("read_output", { session_id: a.id, wait_for: "never printed", timeout: 600 });
    await a.p.kill();
    expect(await pending).toEqual({ matched: false, timed_out: false, tail: "\n\nUser Access Verification\n\nUsername: ", cursor: woke.cursor, is_alive: false, exit_code: null });
    const reason = `The serial device ${a.p.a} went away: unplugged, powered off, or its driver detached.`;
    const state = await h.call("get_session_state", { session_id: a.id });
    expect({ is_alive: state.is_alive, state: state.state, exit_code: state.exit_code, exit_reason: state.exit_reason }).toEqual({ is_alive: false, state: "unknown", exit_code: null, exit_reason: reason });
    expect(await h.callError("send_input", { session_id: a.id, input: "admin" })).toEqual({
      code: "SESSION_CLOSED",
      retryable: false,
      message: `Session ${a.id} has ended (${reason}); its output stays readable with read_output. Create a new session to continue.`,
    });
    // The other console carries on, and the dead one's output stays readable.
    expect((await send(b.id, "")).output).toBe("\nUser Access Verification\n\nUsername: ");
    expect((await h.call("read_output", { session_id: a.id, since_cursor: 0 })).output).toBe("\n\nUser Access Verification\n\nUsername: ");
    const listed = ((await h.call("list_sessions")).sessions as Result[]).filter((s) => s.session_id === a.id || s.session_id === b.id);
    expect(listed.map((s) => [s.session_id, s.is_alive])).toEqual([
      [a.id, false],
      [b.id, true],
    ]);
    expect(await h.call("close_session", { session_id: a.id })).toEqual({ success: true, session_id: a.id, exit_code: null });
  });

  test("send_control: break is a real BREAK and dtr/rts keys reach the port (strace on the server); a pty has no modem lines", async () => {
    const strace = Bun.which("strace");
    if (!strace) throw new Error("strace is needed for this test: apt-get install -y strace");
    const p = await pair();
    const log = join(dir, "strace.log");
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    const transport = new StdioClientTransport({ command: strace, args: ["-f", "-qq", "--seccomp-bpf", "-e", "trace=openat,ioctl", "-o", log, binary, "serve"], env, stderr: "pipe" });
    const client = new Client({ name: "pty-mcp-tests", version: "0.0.0" });
    await client.connect(transport);
    const call = async (name: string, args: Result) => (await client.callTool({ name, arguments: args })) as CallToolResult;
    const payload = (r: CallToolResult) => (r.isError ? JSON.parse((r.content[0] as { text: string }).text) : r.structuredContent);
    const created = payload(await call("create_serial_session", { device: p.a })) as { session_id: string };
    const results = [];
    for (const key of ["break", "dtr_off", "dtr_on", "rts_off", "rts_on"]) results.push(payload(await call("send_control", { session_id: created.session_id, key })));
    await call("close_session", { session_id: created.session_id });
    await client.close();
    expect(results).toEqual([
      { success: true, key: "break", cursor: 0, is_alive: true },
      ...["DTR off", "DTR on", "RTS off", "RTS on"].map((what) => ({ code: "INVALID_ARGUMENT", retryable: false, message: `Cannot set ${what} on ${p.a}: ENOTTY. The device has no modem control lines (a pseudo-terminal, or an adapter without DTR/RTS).` })),
    ]);
    // The server has exited (stdin closed), so strace has written its whole log.
    const lines = readFileSync(log, "utf8").split("\n").map((l) => l.replace(/^\d+\s+/, "").replace(/\s+=/, " ="));
    const fd = lines.map((l) => /^openat\(AT_FDCWD, "([^"]+)", O_RDWR\|O_NOCTTY\|O_NONBLOCK[^)]*\) = (\d+)/.exec(l)).find((m) => m?.[1] === p.a)?.[2];
    expect(lines.filter((l) => /TIOC(?:[SC]BRK|MBI[SC])/.test(l))).toEqual([
      `ioctl(${fd}, TIOCSBRK) = 0`,
      `ioctl(${fd}, TIOCCBRK) = 0`,
      `ioctl(${fd}, TIOCMBIC, [TIOCM_DTR]) = -1 ENOTTY (Inappropriate ioctl for device)`,
      `ioctl(${fd}, TIOCMBIS, [TIOCM_DTR]) = -1 ENOTTY (Inappropriate ioctl for device)`,
      `ioctl(${fd}, TIOCMBIC, [TIOCM_RTS]) = -1 ENOTTY (Inappropriate ioctl for device)`,
      `ioctl(${fd}, TIOCMBIS, [TIOCM_RTS]) = -1 ENOTTY (Inappropriate ioctl for device)`,
    ]);
  }, 30_000);
});
