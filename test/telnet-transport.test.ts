// TelnetTransport against real servers on loopback: inetutils telnetd with /bin/login, ser2net in
// front of socat pty pairs (telnet, RFC 2217 and raw accepters), scripted hostile servers, and an
// unreachable address in a network namespace.
import { afterEach, describe, expect, test } from "bun:test";
import { closeSync, constants, mkdtempSync, openSync, readFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "node:net";
import { startScriptedServer, startSer2net, startTelnetd } from "./harness/consoles.ts";
import { startSocatPair } from "./harness/socat.ts";
import type { PtyError } from "../src/errors.ts";
import { TelnetTransport, type TelnetConnectOptions } from "../src/telnet/telnet-transport.ts";
import type { TransportExit } from "../src/session/transport.ts";

const cleanups: (() => PromiseLike<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const size = { cols: 91, rows: 33 };
const encode = (s: string) => new TextEncoder().encode(s);

/** A connected transport plus what it received, as text (latin1) and the exit. */
async function open(options: Partial<TelnetConnectOptions> & { port: number }) {
  const t = await TelnetTransport.connect({ host: "127.0.0.1", mode: "telnet", connectTimeoutMs: 5000, size, ...options });
  cleanups.push(() => t.close());
  let out = "";
  let bytes = 0;
  let exit: TransportExit | undefined;
  const changed = new Set<() => void>();
  t.onData((b) => {
    bytes += b.length;
    if (out.length < 1_000_000) out += Buffer.from(b).toString("latin1");
    for (const c of changed) c();
  });
  t.onExit((e) => {
    exit = e;
    for (const c of changed) c();
  });
  const until = (done: () => boolean) =>
    new Promise<void>((resolve) => {
      if (done()) return resolve();
      const check = () => {
        if (!done()) return;
        changed.delete(check);
        resolve();
      };
      changed.add(check);
    });
  return {
    t,
    get out() {
      return out;
    },
    get bytes() {
      return bytes;
    },
    get exit() {
      return exit;
    },
    take() {
      const o = out;
      out = "";
      return o;
    },
    /** Resolves once the output holds `text` (or the connection ended). */
    waitFor: (text: string) => until(() => out.includes(text) || exit !== undefined),
    waitBytes: (n: number) => until(() => bytes >= n || exit !== undefined),
    waitExit: () => until(() => exit !== undefined),
  };
}

async function connectError(options: Partial<TelnetConnectOptions> & { port: number }): Promise<{ code: string; message: string; retryable: boolean }> {
  try {
    const t = await TelnetTransport.connect({ host: "127.0.0.1", mode: "telnet", connectTimeoutMs: 5000, size, ...options });
    await t.close();
  } catch (err) {
    const e = err as PtyError;
    return { code: e.code, message: e.message, retryable: e.retryable };
  }
  throw new Error("connect unexpectedly succeeded");
}

describe("telnet transport: inetutils telnetd with /bin/login", () => {
  test("login, TERM xterm-256color, stty size follows resize (NAWS), ctrl+c, one Enter per CR LF, exit ends the transport", async () => {
    const telnetd = await startTelnetd();
    cleanups.push(() => telnetd.stop());
    const c = await open({ port: telnetd.port });
    await c.waitFor("login: ");
    c.take();
    await c.t.write(encode(`${telnetd.user}\r\n`));
    await c.waitFor("Password: ");
    expect(c.take()).toEqual(`${telnetd.user}\r\nPassword: `);
    await c.t.write(encode(`${telnetd.password}\r\n`));
    await c.waitFor("$ ");
    c.take();
    await c.t.write(encode("echo $TERM; stty size\r\n"));
    await c.waitFor("$ ");
    expect(c.take()).toEqual("echo $TERM; stty size\r\nxterm-256color\r\n33 91\r\n$ ");
    c.t.resize({ cols: 132, rows: 50 });
    await c.t.write(encode("stty size\r\n"));
    await c.waitFor("$ ");
    expect(c.take()).toEqual("stty size\r\n50 132\r\n$ ");
    // The ctrl+c once sleep runs (pgrep, a duration of its own): sent at the echo, it could reach bash before it
    // started sleep; bash then ran sleep anyway and only dropped "echo done" (the prompt came 100 s later).
    const sleep = `sleep 100.${process.pid}`;
    await c.t.write(encode(`${sleep}; echo done\r\n`));
    await c.waitFor(`${sleep}; echo done\r\n`);
    c.take();
    while (Bun.spawnSync(["pgrep", "-x", "-f", sleep]).exitCode !== 0) await Bun.sleep(10);
    await c.t.write(encode("\x03"));
    await c.waitFor("$ ");
    expect(c.take()).toEqual("^C\r\n$ ");
    await c.t.write(encode("printf 'caf\\303\\251 \\377 x\\n'\r\n"));
    await c.waitFor("x\r\n$ ");
    expect(Buffer.from(c.take(), "latin1")).toEqual(Buffer.from("printf 'caf\\303\\251 \\377 x\\n'\r\ncafé \xff x\r\n$ ".replace("é", "\xc3\xa9"), "latin1"));
    await c.t.write(encode("exit\r\n"));
    await c.waitExit();
    expect(c.exit).toEqual({ code: null, signal: null, reason: `The server 127.0.0.1:${telnetd.port} closed the connection.` });
    expect(await c.t.write(encode("x")).catch((e: PtyError) => ({ code: e.code, message: e.message }))).toEqual({
      code: "SESSION_CLOSED",
      message: `The server 127.0.0.1:${telnetd.port} closed the connection. Create a new session to reconnect.`,
    });
  });
});

/** The far end of a socat pair, where the device sits: read and write bytes. */
function farEnd(path: string) {
  const fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  const reader = Bun.file(fd).stream().getReader();
  let got: number[] = [];
  cleanups.push(async () => {
    await reader.cancel().catch(() => {});
    closeSync(fd);
  });
  return {
    write: (bytes: Uint8Array) => void writeSync(fd, bytes),
    async read(count: number): Promise<number[]> {
      while (got.length < count) {
        const { done, value } = await reader.read();
        if (done) break;
        got = [...got, ...value];
      }
      const out = got.slice(0, count);
      got = got.slice(count);
      return out;
    },
  };
}

/**
 * Data both ways through a serial server, 255 included (IAC doubled on the wire, undoubled by the
 * server): what the transport writes reaches the device at `device` exactly, and back.
 */
async function expectDataBothWays(c: Awaited<ReturnType<typeof open>>, device: string): Promise<void> {
  const far = farEnd(device);
  await c.t.write(Uint8Array.of(65, 255, 66, 10));
  expect(await far.read(4)).toEqual([65, 255, 66, 10]);
  far.write(Uint8Array.of(67, 255, 68));
  await c.waitBytes(3);
  expect(c.take()).toEqual("C\xffD");
}

/** Break and modem-line ioctls in a strace log, in order. */
function ioctlCalls(log: string): string[] {
  return readFileSync(log, "utf8")
    .split("\n")
    .map((l) => /ioctl\(\d+, (TIOC[SC]BRK|TIOCM(?:BI[SC]|SET))/.exec(l)?.[1])
    .filter((m) => m !== undefined);
}

describe("telnet transport: ser2net in front of a socat pair", () => {
  async function device() {
    const pair = await startSocatPair();
    cleanups.push(() => pair[Symbol.asyncDispose]());
    return pair;
  }

  test("rfc2217: baud, data bits, parity, stop bits, flow control negotiated; the server's answers read back; stty -F shows the speed", async () => {
    const pair = await device();
    const ser2net = await startSer2net([{ device: pair.a, mode: "rfc2217" }]);
    cleanups.push(() => ser2net[Symbol.asyncDispose]());
    const c = await open({ port: ser2net.ports[0]!, mode: "rfc2217", comPort: { baudRate: 115200, dataBits: 7, parity: "even", stopBits: 2, flowControl: "none" } });
    const { signature: _signature, lineState: _lineState, modemState: _modemState, ...answered } = c.t.comPort;
    expect({ answered, warnings: c.t.warnings }).toEqual({ answered: { baudRate: 115200, dataBits: 7, parity: "even", stopBits: 2, flowControl: "none" }, warnings: [] });
    const stty = Bun.spawnSync(["stty", "-F", pair.a]).stdout.toString();
    // A pty keeps any speed but always CS8 without parity (Linux pty driver); the speed is what ser2net set.
    expect(stty.split("\n")[0]).toEqual("speed 115200 baud; line = 0;");
    await expectDataBothWays(c, pair.b);
  });

  test("rfc2217: BREAK reaches the device: ser2net calls TIOCSBRK then TIOCCBRK on it (strace)", async () => {
    const pair = await device();
    const ser2net = await startSer2net([{ device: pair.a, mode: "rfc2217" }], { strace: true });
    cleanups.push(() => ser2net[Symbol.asyncDispose]());
    const c = await open({ port: ser2net.ports[0]!, mode: "rfc2217", comPort: {} });
    // ser2net clears BREAK (TIOCCBRK) when it opens the device, which may be logged after the COM-PORT answer: wait for it.
    while (!ioctlCalls(ser2net.straceLog!).includes("TIOCCBRK")) await Bun.sleep(10);
    const before = ioctlCalls(ser2net.straceLog!).length;
    await c.t.capabilities.sendBreak!(100);
    // Wait for the condition (the second ioctl in the trace), bounded by the test's timeout.
    while (ioctlCalls(ser2net.straceLog!).length < before + 2) await Bun.sleep(10);
    expect(ioctlCalls(ser2net.straceLog!).slice(before)).toEqual(["TIOCSBRK", "TIOCCBRK"]);
  });

  test("rfc2217: DTR and RTS reach the device: ser2net sets the modem lines it was asked for (strace; the pty's refusal faked away)", async () => {
    // A pty has no modem lines (TIOCMGET fails with ENOTTY and ser2net stops there). Attached to ser2net
    // with every ioctl answered 0 by strace, ser2net goes on to the TIOCMSET it would make on a UART.
    const strace = Bun.which("strace");
    if (!strace) throw new Error("strace is needed for this test: apt-get install -y strace");
    const pair = await device();
    const ser2net = await startSer2net([{ device: pair.a, mode: "rfc2217" }]);
    cleanups.push(() => ser2net[Symbol.asyncDispose]());
    const c = await open({ port: ser2net.ports[0]!, mode: "rfc2217", comPort: {} });
    const log = join(mkdtempSync(join(tmpdir(), `pty-mcp-strace-${process.pid}-`)), "strace.log");
    const tracer = Bun.spawn([strace, "-f", "-p", String(ser2net.pid), "-e", "trace=ioctl", "-e", "inject=ioctl:retval=0", "-o", log], { stderr: "pipe" });
    cleanups.push(async () => {
      tracer.kill("SIGINT");
      await tracer.exited;
    });
    const reader = tracer.stderr.getReader();
    let said = "";
    while (!said.includes("attached")) said += new TextDecoder().decode((await reader.read()).value);
    const sets = () =>
      readFileSync(log, "utf8")
        .split("\n")
        .map((l) => /ioctl\(\d+, TIOCMSET, \[([^\]]*)\]/.exec(l)?.[1])
        .filter((m) => m !== undefined);
    const commands = [{ dtr: false }, { rts: false }, { dtr: true }, { rts: true }];
    for (const [i, lines] of commands.entries()) {
      await c.t.capabilities.setModemLines!(lines);
      // Each TIOCMSET before the next command (bounded by the test's timeout).
      while (sets().length <= i) await Bun.sleep(10);
    }
    tracer.kill("SIGINT");
    await tracer.exited;
    // The faked TIOCMGET leaves whatever was in ser2net's buffer, so only the line asked for is certain in each TIOCMSET.
    const seen = sets().map((bits, i) => {
      const [key, on] = Object.entries(commands[i] ?? {})[0] as ["dtr" | "rts", boolean];
      return `${key} ${bits.split("|").includes(`TIOCM_${key.toUpperCase()}`) ? "on" : "off"} (asked ${on ? "on" : "off"})`;
    });
    expect(seen).toEqual(["dtr off (asked off)", "rts off (asked off)", "dtr on (asked on)", "rts on (asked on)"]);
  });

  test("telnet and raw accepters: data both ways, 255 intact; raw sends no negotiation bytes", async () => {
    const telnetPair = await device();
    const rawPair = await device();
    const ser2net = await startSer2net([
      { device: telnetPair.a, mode: "telnet" },
      { device: rawPair.a, mode: "raw" },
    ]);
    cleanups.push(() => ser2net[Symbol.asyncDispose]());
    for (const [pair, port, mode] of [
      [telnetPair, ser2net.ports[0]!, "telnet"],
      [rawPair, ser2net.ports[1]!, "raw"],
    ] as const) {
      const c = await open({ port, mode });
      const far = farEnd(pair.b);
      await c.t.write(Uint8Array.of(120, 255, 121, 10));
      expect({ mode, got: await far.read(4) }).toEqual({ mode, got: [120, 255, 121, 10] });
      far.write(Uint8Array.of(255, 0, 97));
      await c.waitBytes(3);
      expect({ mode, out: c.take() }).toEqual({ mode, out: "\xff\x00a" });
      await c.t.close();
    }
  });

  test("rfc2217 against a second implementation (pyserial's PortManager): 57600 8N2 xonxoff answered and set on the pty (a pty refuses CS7 to pyserial), data both ways with 255", async () => {
    const python = "/usr/bin/python3";
    if (!Bun.spawnSync([python, "-c", "import serial.rfc2217"]).success) throw new Error("python3-serial is needed for this test: apt-get install -y python3-serial");
    const pair = await device();
    // A minimal RFC 2217 server on pyserial's PortManager (as its examples/rfc2217_server.py), one connection.
    const server = `
import socket, sys, threading, serial, serial.rfc2217
ser = serial.serial_for_url(sys.argv[1], timeout=0.1)
# A pty has no modem lines (TIOCMGET fails): report them all low.
for line in ("cts", "dsr", "ri", "cd"): setattr(type(ser), line, property(lambda self: False))
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
print(srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
class Link:
    def write(self, data): conn.sendall(data)
pm = serial.rfc2217.PortManager(ser, Link())
def reader():
    while True:
        data = ser.read(ser.in_waiting or 1)
        if data: conn.sendall(b"".join(pm.escape(data)))
threading.Thread(target=reader, daemon=True).start()
while True:
    data = conn.recv(1024)
    if not data: break
    ser.write(b"".join(pm.filter(data)))
`;
    const proc = Bun.spawn([python, "-c", server, pair.a], { stdout: "pipe", stderr: "inherit" });
    cleanups.push(async () => {
      proc.kill();
      await proc.exited;
    });
    const reader = proc.stdout.getReader();
    let said = "";
    while (!said.includes("\n")) said += new TextDecoder().decode((await reader.read()).value);
    const c = await open({ port: Number(said.trim()), mode: "rfc2217", comPort: { baudRate: 57600, dataBits: 8, parity: "none", stopBits: 2, flowControl: "xonxoff" } });
    const { signature: _s, lineState: _l, modemState: _m, ...answered } = c.t.comPort;
    expect({ answered, warnings: c.t.warnings }).toEqual({ answered: { baudRate: 57600, dataBits: 8, parity: "none", stopBits: 2, flowControl: "xonxoff" }, warnings: [] });
    expect(Bun.spawnSync(["stty", "-F", pair.a]).stdout.toString().split("\n")[0]).toEqual("speed 57600 baud; line = 0;");
    await expectDataBothWays(c, pair.b);
  });

  test("rfc2217 against a plain telnet port: PROTOCOL_ERROR saying it is not an RFC 2217 server", async () => {
    const pair = await device();
    const ser2net = await startSer2net([{ device: pair.a, mode: "telnet" }]);
    cleanups.push(() => ser2net[Symbol.asyncDispose]());
    const port = ser2net.ports[0]!;
    expect(await connectError({ port, mode: "rfc2217", comPort: { baudRate: 9600 } })).toEqual({
      code: "PROTOCOL_ERROR",
      message: `127.0.0.1:${port} refused RFC 2217 COM-PORT-OPTION: it is not an RFC 2217 server (ser2net needs "telnet(rfc2217)" in the accepter). Use socket://127.0.0.1:${port} for a raw port, or create_telnet_session.`,
      retryable: false,
    });
  });
  test("harness: a port another socket holds when ser2net starts is seen (ser2net neither exits nor tells a client): that ser2net is killed, another starts on other ports", async () => {
    // A socket bound to P, not listening: ser2net cannot bind P, and /proc/net/tcp does not show it.
    const holder = Bun.spawn(["python3", "-c", "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1], flush=True); sys.stdin.read()"], { stdin: "pipe", stdout: "pipe" });
    cleanups.push(async () => {
      holder.kill();
      await holder.exited;
    });
    const reader = holder.stdout.getReader();
    let said = "";
    while (!said.includes("\n")) said += new TextDecoder().decode((await reader.read()).value);
    const held = Number(said.trim());
    const pair = await device();
    // The harness picks its ports with Math.random: make the first pick P.
    const random = Math.random;
    let picks = 0;
    const [floor, top] = [10_000, Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").split(/\s+/)[0])];
    Math.random = () => (++picks === 1 ? (held - floor + 0.5) / (top - floor) : random());
    let ser2net: Awaited<ReturnType<typeof startSer2net>>;
    try {
      ser2net = await startSer2net([{ device: pair.a, mode: "rfc2217" }]);
    } finally {
      Math.random = random;
    }
    cleanups.push(() => ser2net[Symbol.asyncDispose]());
    const c = await open({ port: ser2net.ports[0]!, mode: "rfc2217", comPort: { baudRate: 19200 } });
    const running = Bun.spawnSync(["pgrep", "-c", "-f", `ser2net .*pty-mcp-ser2net-${process.pid}-`]).stdout.toString().trim();
    expect({ otherPort: ser2net.ports[0] !== held, picks, baudRate: c.t.comPort.baudRate, running }).toEqual({ otherPort: true, picks: 2, baudRate: 19200, running: "1" });
  });
});

describe("telnet transport: connection failures", () => {
  test("closed port: CONN_FAILED at once, retryable", async () => {
    const server = await startScriptedServer(() => {});
    const port = server.port;
    await server.close();
    expect(await connectError({ port })).toEqual({ code: "CONN_FAILED", message: `Cannot connect to 127.0.0.1:${port}: nothing listens on port ${port} (connection refused): check the port, or whether the console server's port is enabled.`, retryable: true });
  });

  test("unknown host name: CONN_FAILED naming DNS", async () => {
    const { message, ...rest } = await connectError({ host: "no-such-host.invalid", port: 23 });
    // ENOTFOUND with a resolver, EAI_AGAIN on a machine without one.
    expect({ ...rest, dns: /^Cannot connect to no-such-host\.invalid:23: the name no-such-host\.invalid (does not resolve|could not be resolved now) \(DNS/.test(message) }).toEqual({ code: "CONN_FAILED", retryable: true, dns: true });
  });

  test("unreachable (an address whose packets vanish, in a network namespace): CONN_FAILED after connect_timeout", async () => {
    const ns = `ptymcp-tn-${process.pid}`;
    const ip = (...args: string[]) => {
      const r = Bun.spawnSync(["ip", ...args], { stderr: "pipe" });
      if (r.exitCode !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.toString()}`);
    };
    ip("netns", "add", ns);
    cleanups.push(() => void Bun.spawnSync(["ip", "netns", "del", ns]));
    ip("-n", ns, "link", "set", "lo", "up");
    // A veth pair inside the namespace, a permanent neighbour entry for 10.203.0.2 with a MAC nobody has:
    // SYNs leave bh0, bh1 drops frames not addressed to it, nothing ever answers (no RST, no ICMP).
    ip("-n", ns, "link", "add", "bh0", "type", "veth", "peer", "name", "bh1");
    ip("-n", ns, "addr", "add", "10.203.0.1/24", "dev", "bh0");
    ip("-n", ns, "link", "set", "bh0", "up");
    ip("-n", ns, "link", "set", "bh1", "up");
    ip("-n", ns, "neigh", "add", "10.203.0.2", "lladdr", "02:00:00:00:00:02", "dev", "bh0", "nud", "permanent");
    const module = new URL("../src/telnet/telnet-transport.ts", import.meta.url).pathname;
    const script = `import { TelnetTransport } from ${JSON.stringify(module)};
const started = Date.now();
try { await TelnetTransport.connect({ host: "10.203.0.2", port: 23, mode: "telnet", connectTimeoutMs: 1500, size: { cols: 80, rows: 24 } }); console.log("connected"); }
catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, retryable: e.retryable, waitedEnough: Date.now() - started >= 1500 })); }`;
    const proc = Bun.spawn(["ip", "netns", "exec", ns, process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" });
    expect(await proc.exited).toBe(0);
    expect(JSON.parse(await new Response(proc.stdout).text())).toEqual({
      code: "CONN_FAILED",
      message: "No connection to 10.203.0.2:23 within 2 s: the host is unreachable or a firewall drops the packets. Check the address and port, or raise connect_timeout.",
      retryable: true,
      waitedEnough: true,
    });
  });
});

describe("telnet transport: hostile servers", () => {
  const IAC = 255;
  /** Our opening requests in telnet mode: DO SGA, DO ECHO, WILL BINARY, DO BINARY, WILL NAWS, WILL TERMINAL-TYPE. */
  const OPENING = [IAC, 253, 3, IAC, 253, 1, IAC, 251, 0, IAC, 253, 0, IAC, 251, 31, IAC, 251, 24];

  test("garbage and truncated IAC sequences: clean output, no protocol byte, the session goes on", async () => {
    const server = await startScriptedServer((s) => {
      s.write(Buffer.from([65, IAC, 0x41, 66, IAC, IAC, IAC, 250, 99, IAC, 240, 67, IAC, 251]));
      setTimeout(() => s.write(Buffer.from([1, 68, IAC])), 20);
      setTimeout(() => s.write(Buffer.from([249, 69, 10])), 40);
    });
    cleanups.push(() => server.close());
    const c = await open({ port: server.port });
    await c.waitFor("\n");
    // IAC 0x41 (no command) and IAC GA vanish; IAC SB 99 IAC SE is an empty subnegotiation; IAC WILL ECHO is negotiation.
    expect(c.take()).toEqual("AB\xffCDE\n");
    expect(c.exit).toBeUndefined();
  });

  test("writes wait for the answers to the opening requests: an Enter typed at once goes out as the mode the server agreed (CR with BINARY), never CR LF first", async () => {
    const [WILL, DO, DONT, SB, SE] = [251, 253, 254, 250, 240];
    // The server answers our opening 300 ms late: SGA, ECHO, BINARY both ways, NAWS; no TERMINAL-TYPE.
    const server = await startScriptedServer((s) => {
      let got = 0;
      s.on("data", (chunk) => {
        got += chunk.length;
        if (got < OPENING.length || got - chunk.length >= OPENING.length) return;
        setTimeout(() => s.write(Buffer.from([IAC, WILL, 3, IAC, WILL, 1, IAC, DO, 0, IAC, WILL, 0, IAC, DO, 31, IAC, DONT, 24])), 300);
      });
    });
    cleanups.push(() => server.close());
    const c = await open({ port: server.port });
    await c.t.write(encode("\r\n"));
    const received = () => [...Buffer.concat(server.received[0] ?? [])];
    // Until the Enter arrived (bounded by the test's timeout; 5 s was a time on a loaded machine).
    while (received().at(-1) !== 13) await Bun.sleep(10);
    // Our opening, the NAWS size once agreed (91 x 33), then the Enter as one CR.
    expect(received()).toEqual([...OPENING, IAC, SB, 31, 0, 91, 0, 33, IAC, SE, 13]);
  });

  test("a server that never answers the opening requests: the first write goes out after the bound and an Enter is the NVT's CR LF", async () => {
    const server = await startScriptedServer(() => {});
    cleanups.push(() => server.close());
    const c = await open({ port: server.port, openingAnswerTimeoutMs: 200 });
    await c.t.write(encode("\r\n"));
    const received = () => [...Buffer.concat(server.received[0] ?? [])];
    while (received().length < OPENING.length + 2) await Bun.sleep(10);
    expect(received()).toEqual([...OPENING, 13, 10]);
  });

  test("an endless subnegotiation: the transport ends with PROTOCOL_ERROR at 4 KB of it, the data before it shown", async () => {
    const server = await startScriptedServer((s) => {
      s.write(Buffer.from([72, 105, IAC, 250, 24]));
      const junk = Buffer.alloc(64 * 1024, 0x41);
      const pump = () => {
        while (!s.destroyed && s.write(junk));
        if (!s.destroyed) s.once("drain", pump);
      };
      pump();
    });
    cleanups.push(() => server.close());
    const c = await open({ port: server.port });
    await c.waitExit();
    expect({ out: c.out, exit: c.exit }).toEqual({
      out: "Hi",
      exit: {
        code: null,
        signal: null,
        reason: `The server 127.0.0.1:${server.port} broke the telnet protocol (the server sent a subnegotiation (option 24) longer than 4096 bytes); the connection was closed. If it is a plain TCP console, use raw: true (or socket://).`,
        errorCode: "PROTOCOL_ERROR",
      },
    });
    expect(await c.t.write(encode("x")).catch((e: PtyError) => e.code)).toBe("PROTOCOL_ERROR");
  });

  test("a flood of option requests: a bounded number of refusals, data still flows", async () => {
    let socket: Socket | undefined;
    const server = await startScriptedServer((s) => {
      socket = s;
      const flood = Buffer.alloc(3 * 100_000);
      for (let i = 0; i < 100_000; i++) flood.set([IAC, i % 2 ? 253 : 251, 100 + (i % 50)], i * 3);
      s.write(flood);
      s.write("after the flood\n");
    });
    cleanups.push(() => server.close());
    const c = await open({ port: server.port });
    await c.waitFor("after the flood\n");
    expect(c.take()).toEqual("after the flood\n");
    // Our opening (21 bytes) plus at most 4 refusals of 3 bytes for each of 50 options × 2 sides.
    await c.t.write(encode("end\n"));
    const received = () => Buffer.concat(server.received[0] ?? []);
    while (!received().includes("end\n")) await Bun.sleep(10);
    expect(received().length).toBeLessThanOrEqual(21 + 50 * 2 * 4 * 3 + 4);
    expect(socket?.destroyed).toBe(false);
  });

  test("100 MB of output: every byte arrives, other connections stay responsive, memory bounded", async () => {
    const total = 100 * 1024 * 1024;
    const server = await startScriptedServer((s, index) => {
      if (index === 1) {
        s.on("data", (d) => s.write(d)); // an echo server next to the flood
        return;
      }
      const chunk = Buffer.alloc(256 * 1024, 0x61);
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!s.write(chunk)) return void s.once("drain", pump);
        }
        s.end();
      };
      pump();
    });
    cleanups.push(() => server.close());
    const rssBefore = process.memoryUsage().rss;
    const flood = await open({ port: server.port });
    const echo = await open({ port: server.port });
    await flood.waitBytes(10 * 1024 * 1024);
    await echo.t.write(encode("ping\n"));
    await echo.waitFor("ping\n");
    expect({ echoed: echo.out, floodStillRunning: flood.bytes < total }).toEqual({ echoed: "ping\n", floodStillRunning: true });
    await flood.waitExit();
    expect(flood.bytes).toBe(total);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
  });
});
