// SerialTransport against real socat pty pairs: settings, exactly-once delivery, vanishing devices,
// path rules, exclusivity. The MCP-level tests (through the compiled binary) are in serial-e2e.test.ts.
import { afterEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { dlopen, FFIType } from "bun:ffi";
import { chmodSync, chownSync, closeSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { PtyError } from "../src/errors";
import { SerialTransport } from "../src/serial/serial-transport";
import { startFakeSwitch, startSocatPair, type SocatPair } from "./harness/socat";

const cleanups: (() => PromiseLike<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function pair(): Promise<SocatPair> {
  const p = await startSocatPair();
  cleanups.push(() => p[Symbol.asyncDispose]());
  return p;
}

async function open(options: Parameters<typeof SerialTransport.open>[0]): Promise<SerialTransport> {
  const t = await SerialTransport.open(options);
  cleanups.push(() => t.close());
  return t;
}

async function openError(options: Parameters<typeof SerialTransport.open>[0]): Promise<{ code: string; message: string; retryable: boolean }> {
  try {
    const t = await SerialTransport.open(options);
    await t.close();
  } catch (err) {
    if (err instanceof PtyError) return { code: err.code, message: err.message, retryable: err.retryable };
    throw err;
  }
  throw new Error("open succeeded");
}

/** Collects everything a transport reads until `predicate` holds. */
function collect(t: SerialTransport) {
  const chunks: Uint8Array[] = [];
  let length = 0;
  let waiter: { predicate: (n: number) => boolean; resolve: () => void } | undefined;
  t.onData((bytes) => {
    chunks.push(bytes);
    length += bytes.length;
    if (waiter?.predicate(length)) waiter.resolve();
  });
  return {
    get length() {
      return length;
    },
    bytes: () => Buffer.concat(chunks),
    text: () => Buffer.concat(chunks).toString("latin1"),
    until: (predicate: (n: number) => boolean) =>
      new Promise<void>((resolve) => {
        if (predicate(length)) return resolve();
        waiter = { predicate, resolve };
      }),
  };
}

function printable(size: number): Buffer {
  const random = randomBytes(size);
  for (let i = 0; i < size; i++) random[i] = 0x20 + ((random[i] ?? 0) % 95);
  return random;
}

function stty(device: string): string {
  const proc = Bun.spawnSync(["stty", "-F", device, "-a"]);
  return proc.stdout.toString();
}

describe("SerialTransport", () => {
  test("open: 115200 7E2 rtscts is applied; stty on the device reads back what a pty keeps", async () => {
    const p = await pair();
    const t = await open({ device: p.a, baudRate: 115200, dataBits: 7, parity: "even", stopBits: 2, flowControl: "rtscts" });
    // Linux ptys force CS8 and clear PARENB (drivers/tty/pty.c pty_set_termios); speed, CSTOPB and CRTSCTS stick.
    expect({ settings: t.settings, warnings: t.warnings }).toEqual({
      settings: { baudRate: 115200, dataBits: 8, parity: "none", stopBits: 2, flowControl: "rtscts" },
      warnings: ["The device did not accept: data_bits 7 (kept 8), parity even (kept none). A pseudo-terminal ignores these; on a real port the driver or adapter cannot do them."],
    });
    const out = stty(p.a);
    const words = new Set(out.split(/[\s;]+/));
    expect({
      speed: /speed (\d+) baud/.exec(out)?.[1],
      flags: ["cstopb", "crtscts", "clocal", "cread", "hupcl", "cs8", "-parenb", "-icanon", "-echo", "-isig", "-opost", "-icrnl", "-ixon", "-ixoff"].filter((f) => words.has(f)),
      min: /min = (\d+)/.exec(out)?.[1],
      time: /time = (\d+)/.exec(out)?.[1],
    }).toEqual({
      speed: "115200",
      flags: ["cstopb", "crtscts", "clocal", "cread", "hupcl", "cs8", "-parenb", "-icanon", "-echo", "-isig", "-opost", "-icrnl", "-ixon", "-ixoff"],
      min: "1",
      time: "0",
    });
  });

  test("open: 9600 8N1 xonxoff with defaults; hupcl stays on unless dtr is false", async () => {
    const p = await pair();
    const t = await open({ device: p.a, flowControl: "xonxoff" });
    expect({ settings: t.settings, warnings: t.warnings }).toEqual({
      settings: { baudRate: 9600, dataBits: 8, parity: "none", stopBits: 1, flowControl: "xonxoff" },
      warnings: [],
    });
    const words = new Set(stty(p.a).split(/[\s;]+/));
    expect(["hupcl", "ixon", "ixoff", "-crtscts", "-cstopb"].filter((f) => words.has(f))).toEqual(["hupcl", "ixon", "ixoff", "-crtscts", "-cstopb"]);
    expect(/speed (\d+) baud/.exec(stty(p.a))?.[1]).toBe("9600");
  });

  test("exactly-once: 1 MiB of random printable bytes each way, nothing lost or doubled", async () => {
    const p = await pair();
    const t = await open({ device: p.a, baudRate: 4000000 });
    const size = 1 << 20;
    const marker = Buffer.from("\r\n<<END-OF-TRANSFER>>\r\n");

    // Transport → far end: `head` reads exactly size + marker bytes; a lost byte would leave it waiting,
    // a doubled one would shift the marker.
    const out = printable(size);
    const sink = Bun.spawn(["head", "-c", String(size + marker.length), p.b], { stdout: "pipe" });
    const received = new Response(sink.stdout).arrayBuffer();
    let start = performance.now();
    await t.write(out);
    await t.write(marker);
    const got = Buffer.from(await received);
    const outMs = performance.now() - start;
    expect(got.length).toBe(size + marker.length);
    expect(got.equals(Buffer.concat([out, marker]))).toBe(true);

    // Far end → transport: dd writes the file to the far pty; the transport must read it all, once.
    const dir = mkdtempSync(join(tmpdir(), "pty-mcp-serial-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const inbound = printable(size);
    writeFileSync(join(dir, "in"), Buffer.concat([inbound, marker]));
    const sink2 = collect(t);
    start = performance.now();
    const source = Bun.spawn(["dd", `if=${join(dir, "in")}`, `of=${p.b}`, "bs=65536", "status=none"]);
    await sink2.until((n) => n >= size + marker.length);
    const inMs = performance.now() - start;
    expect(await source.exited).toBe(0);
    // Nothing more arrives after the marker: a round trip proves the line is quiet.
    await t.write(Buffer.from("ping"));
    const echo = Bun.spawn(["head", "-c", "4", p.b], { stdout: "pipe" });
    expect(await new Response(echo.stdout).text()).toBe("ping");
    expect(sink2.length).toBe(size + marker.length);
    expect(sink2.bytes().equals(Buffer.concat([inbound, marker]))).toBe(true);
    console.error(`serial 1 MiB: out ${outMs.toFixed(0)} ms (${(size / 1024 / 1024 / (outMs / 1000)).toFixed(0)} MiB/s), in ${inMs.toFixed(0)} ms (${(size / 1024 / 1024 / (inMs / 1000)).toFixed(0)} MiB/s)`);
  });

  test("vanish: killing socat ends the transport with a reason; writes then fail with SESSION_CLOSED", async () => {
    const p = await pair();
    const t = await open({ device: p.a });
    const exited = new Promise<{ code: number | null; signal: string | null; reason?: string }>((resolve) => t.onExit(resolve));
    await p.kill();
    expect(await exited).toEqual({
      code: null,
      signal: null,
      reason: `The serial device ${p.a} went away: unplugged, powered off, or its driver detached.`,
    });
    expect(t.isOpen).toBe(false);
    const err = await t.write(Buffer.from("x")).catch((e: PtyError) => ({ code: e.code, message: e.message }));
    expect(err).toEqual({
      code: "SESSION_CLOSED",
      message: `The serial device ${p.a} went away: unplugged, powered off, or its driver detached. Create a new session once it is back.`,
    });
    await t.close(); // still safe
  });

  test("vanish during close: socat killed while close() runs; onExit fires once, both settle", async () => {
    const p = await pair();
    const t = await SerialTransport.open({ device: p.a });
    const exits: unknown[] = [];
    t.onExit((exit) => exits.push(exit));
    await Promise.all([p.kill(), t.close(), t.close()]);
    expect(exits.length).toBe(1);
    expect(t.isOpen).toBe(false);
  });

  test("close: a write blocked by a far end that never reads does not hang close, and the port reopens", async () => {
    const p = await pair();
    const t = await open({ device: p.a });
    const pending = t.write(printable(4 << 20)).then(
      () => "written",
      (e: PtyError) => e.code,
    );
    const exited = new Promise((resolve) => t.onExit(resolve));
    await t.close();
    expect(await exited).toEqual({ code: null, signal: null });
    expect(await pending).toBe("SESSION_CLOSED");
    const again = await open({ device: p.a });
    expect(again.isOpen).toBe(true);
  });

  test("busy: a second open of the same port fails clearly; after close it opens again", async () => {
    const p = await pair();
    const first = await SerialTransport.open({ device: p.a });
    expect(await openError({ device: p.a })).toEqual({
      code: "SERIAL_OPEN_FAILED",
      message: `${p.a} is busy: another session of this pty-mcp server has it open exclusively. Close that session (close_session) or quit that program, then try again.`,
      retryable: true,
    });
    await first.close();
    const second = await open({ device: p.a });
    expect(second.isOpen).toBe(true);
  });

  test("close gives up the port at once, even while a dup of its descriptor is still open (Bun's read stream closes its own a moment later)", async () => {
    const p = await pair();
    const first = await SerialTransport.open({ device: p.a });
    // Our descriptors on the port, then a dup of one: the same open file, so the same flock.
    const ours = readdirSync("/proc/self/fd").filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === p.a;
      } catch {
        return false;
      }
    });
    const libc = dlopen(process.platform === "darwin" ? "libc.dylib" : "libc.so.6", { dup: { args: [FFIType.i32], returns: FFIType.i32 } });
    const copy = libc.symbols.dup(Number(ours[0]));
    cleanups.push(() => {
      closeSync(copy);
      libc.close();
    });
    await first.close();
    const second = await open({ device: p.a });
    expect({ descriptors: ours.length >= 1, copy: copy >= 0, reopened: second.isOpen }).toEqual({ descriptors: true, copy: true, reopened: true });
  });

  test("path rules: outside /dev, '..', missing device, regular file, directory, symlink leaving /dev", async () => {
    const shm = mkdtempSync("/dev/shm/pty-mcp-test-");
    cleanups.push(() => rmSync(shm, { recursive: true, force: true }));
    writeFileSync(join(shm, "file"), "not a tty");
    symlinkSync("/etc/hostname", join(shm, "escape"));
    const results = await Promise.all(
      ["/tmp/ttyUSB0", "ttyUSB0", "/dev/../tmp/x", "/dev/ttyNOPE9", join(shm, "file"), shm, join(shm, "escape")].map((device) => openError({ device })),
    );
    expect(results).toEqual([
      { code: "INVALID_ARGUMENT", retryable: false, message: `device "/tmp/ttyUSB0" is not under /dev/: serial ports are device files such as /dev/ttyUSB0, /dev/ttyACM0 or /dev/cu.usbserial-1410 (list_serial_ports shows them).` },
      { code: "INVALID_ARGUMENT", retryable: false, message: `device "ttyUSB0" is not under /dev/: serial ports are device files such as /dev/ttyUSB0, /dev/ttyACM0 or /dev/cu.usbserial-1410 (list_serial_ports shows them).` },
      { code: "INVALID_ARGUMENT", retryable: false, message: `device "/dev/../tmp/x" contains "..": give the device path itself, e.g. /dev/ttyUSB0 (list_serial_ports shows them).` },
      { code: "SERIAL_OPEN_FAILED", retryable: true, message: `No device /dev/ttyNOPE9: nothing is plugged in there. Check the cable and call list_serial_ports to see the ports present (a USB adapter can take a second to appear, and may get another number after replugging).` },
      { code: "INVALID_ARGUMENT", retryable: false, message: `device "${shm}/file" is a regular file, not a serial port (a character device such as /dev/ttyUSB0). list_serial_ports shows the ports present.` },
      { code: "INVALID_ARGUMENT", retryable: false, message: `device "${shm}" is a directory, not a serial port (a character device such as /dev/ttyUSB0). list_serial_ports shows the ports present.` },
      { code: "INVALID_ARGUMENT", retryable: false, message: `device "${shm}/escape" resolves to /etc/hostname, which is outside /dev/: only device files are allowed.` },
    ]);
  });

  test("settings: an unknown baud rate and a character device that is no tty are refused", async () => {
    expect(await openError({ device: "/dev/null", baudRate: 12345 })).toEqual({
      code: "INVALID_ARGUMENT",
      retryable: false,
      message: "baud_rate 12345 is not a rate this OS can set. Valid: 50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000.",
    });
    expect(await openError({ device: "/dev/null" })).toEqual({
      code: "SERIAL_OPEN_FAILED",
      retryable: false,
      message: "Cannot configure /dev/null: tcgetattr failed: ENOTTY. Is it a serial port?",
    });
  });

  test("break and modem lines: BREAK completes and the line still works; a pty has no DTR/RTS", async () => {
    const p = await pair();
    const t = await open({ device: p.a, dtr: false });
    expect(t.warnings).toEqual([
      "Could not set DTR off: ENOTTY. This device has no modem control lines (a pseudo-terminal, or an adapter without DTR/RTS).",
    ]);
    // dtr: false also clears HUPCL, so closing does not pulse DTR (a board reset) again.
    expect(stty(p.a).split(/[\s;]+/).includes("-hupcl")).toBe(true);
    await t.sendBreak(50);
    const echo = Bun.spawn(["head", "-c", "5", p.b], { stdout: "pipe" });
    await t.write(Buffer.from("after"));
    expect(await new Response(echo.stdout).text()).toBe("after");
    const err = await t.setModemLines({ rts: false }).catch((e: PtyError) => ({ code: e.code, message: e.message }));
    expect(err).toEqual({
      code: "INVALID_ARGUMENT",
      message: `Cannot set RTS off on ${p.a}: ENOTTY. The device has no modem control lines (a pseudo-terminal, or an adapter without DTR/RTS).`,
    });
  });

  test("fake switch: login without password echo, enable, --More-- pages, config modes, over the bare transport", async () => {
    const p = await pair();
    const sw = await startFakeSwitch(p.b);
    cleanups.push(() => sw[Symbol.asyncDispose]());
    const t = await open({ device: p.a });
    const seen = collect(t);
    const step = async (input: string, ending: string) => {
      const from = seen.length;
      await t.write(Buffer.from(input));
      await seen.until(() => seen.text().slice(from).endsWith(ending));
      return seen.text().slice(from);
    };
    expect([
      await step("\r", "Username: "),
      await step("admin\r", "Password: "),
      await step("cisco\r", "Router>"),
      await step("enable\r", "Password: "),
      await step("secret\r", "Router#"),
      await step("conf t\r", "Router(config)#"),
      await step("interface Gi0/1\r", "Router(config-if)#"),
      await step("end\r", "Router#"),
    ]).toEqual([
      "\r\n\r\nUser Access Verification\r\n\r\nUsername: ",
      "admin\r\nPassword: ",
      "\r\n\r\nRouter>",
      "enable\r\nPassword: ",
      "\r\nRouter#",
      "conf t\r\nEnter configuration commands, one per line.  End with CNTL/Z.\r\nRouter(config)#",
      "interface Gi0/1\r\nRouter(config-if)#",
      "end\r\nRouter#",
    ]);
    const first = await step("show interfaces status\r", " --More-- ");
    const second = await step(" ", " --More-- ");
    const third = await step(" ", "Router#");
    const lines = (first + second + third).replaceAll("\b".repeat(10) + " ".repeat(10) + "\b".repeat(10), "").replaceAll(" --More-- ", "").split("\r\n");
    expect(lines.length).toBe(1 + 2 + 48 + 1);
    expect([lines[0], lines[2], lines[3], lines[50], lines[51]]).toEqual([
      "show interfaces status",
      "Port      Name               Status       Vlan       Duplex  Speed Type",
      "Gi1/0/1   uplink-core        connected    10         a-full  a-1000 10/100/1000BaseTX",
      "Gi1/0/48                     notconnect   20         auto    auto   10/100/1000BaseTX",
      "Router#",
    ]);
  });

  test("break: a real BREAK reaches the kernel (strace sees TIOCSBRK then TIOCCBRK on the port's fd)", async () => {
    // A pty carries no BREAK condition to its peer, so the far end cannot see it; the kernel call is what we check.
    const strace = Bun.which("strace");
    if (!strace) throw new Error("strace is needed for this test: apt-get install -y strace");
    const p = await pair();
    const dir = mkdtempSync(join(tmpdir(), "pty-mcp-break-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const module = new URL("../src/serial/serial-transport.ts", import.meta.url).pathname;
    const script = `import { SerialTransport } from ${JSON.stringify(module)};
const t = await SerialTransport.open({ device: process.argv[1] ?? "" });
await t.sendBreak(100);
await t.close();`;
    const log = join(dir, "strace.log");
    const proc = Bun.spawn([strace, "-f", "-qq", "-e", "trace=openat,ioctl", "-o", log, process.execPath, "-e", script, p.a], { stderr: "pipe" });
    expect({ exit: await proc.exited, stderr: await new Response(proc.stderr).text() }).toEqual({ exit: 0, stderr: "" });
    const lines = (await Bun.file(log).text()).split("\n");
    const fd = /openat\(AT_FDCWD, "([^"]+)", O_RDWR\|O_NOCTTY\|O_NONBLOCK[^)]*\) = (\d+)/;
    const opened = lines.map((l) => fd.exec(l)).find((m) => m?.[1] === p.a)?.[2];
    const breaks = lines.filter((l) => /TIOC[SC]BRK/.test(l)).map((l) => l.replace(/^\d+\s+/, "").replace(/\s+=/, " ="));
    expect(breaks).toEqual([`ioctl(${opened}, TIOCSBRK) = 0`, `ioctl(${opened}, TIOCCBRK) = 0`]);
  });

  test("busy: a port another program holds names the programs that have it open", async () => {
    const p = await pair();
    // A child process locks the port; socat itself also keeps the pty open.
    const script = `import { SerialTransport } from ${JSON.stringify(new URL("../src/serial/serial-transport.ts", import.meta.url).pathname)};
const t = await SerialTransport.open({ device: process.argv[1] ?? "" });
process.stdout.write("locked\\n");
await new Promise(() => {});`;
    const child = Bun.spawn([process.execPath, "-e", script, p.a], { stdout: "pipe" });
    cleanups.push(async () => {
      child.kill();
      await child.exited;
    });
    const reader = child.stdout.getReader();
    let out = "";
    while (!out.includes("locked")) out += new TextDecoder().decode((await reader.read()).value);
    expect(await openError({ device: p.a })).toEqual({
      code: "SERIAL_OPEN_FAILED",
      message: `${p.a} is busy: it is held open by pid ${p.pid} (socat), pid ${child.pid} (${basename(process.execPath).slice(0, 15)}). Close that session (close_session) or quit that program, then try again.`,
      retryable: true,
    });
  });

  test("permission denied: names the device's group and how to join it (opened as nobody)", async () => {
    const p = await pair();
    chmodSync(p.a, 0o660);
    chownSync(p.a, 0, 20); // group dialout (gid 20 on Debian/Ubuntu)
    const module = new URL("../src/serial/serial-transport.ts", import.meta.url).pathname;
    const script = `import { SerialTransport } from ${JSON.stringify(module)};
process.setgroups([]); process.setgid(65534); process.setuid(65534);
try { await SerialTransport.open({ device: process.argv[1] ?? "" }); console.log("opened"); }
catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, retryable: e.retryable })); }`;
    const child = Bun.spawn([process.execPath, "-e", script, p.a], { stdout: "pipe" });
    expect(JSON.parse(await new Response(child.stdout).text())).toEqual({
      code: "SERIAL_OPEN_FAILED",
      message: `Permission denied opening ${p.a} (crw-rw----, group dialout). Members of group "dialout" may open it (usually dialout, or uucp on Arch): sudo usermod -aG dialout "$USER", then log out and in again (or start a shell with: newgrp dialout).`,
      retryable: false,
    });
  });
});
