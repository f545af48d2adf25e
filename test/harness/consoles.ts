// Network consoles for tests, all on loopback: a real telnet daemon (inetutils telnetd behind
// socat, one process per connection, as inetd would run it) logging in a throwaway user through
// /bin/login; ser2net (YAML config) in front of socat pty pairs; scripted hostile servers.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McpHarness } from "./mcp.ts";
import { startSerialShell } from "./socat.ts";
import { ready, type TransportCase } from "./transport-cases.ts";

/** A port the OS just handed out (bound, then released) for a server that cannot listen on port 0 itself (ser2net). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Loopback TCP ports in LISTEN state, from /proc/net/tcp (no connection made: ser2net opens the device on connect). */
function listening(): Set<number> {
  const ports = new Set<number>();
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[3] === "0A" && fields[1]) ports.add(Number.parseInt(fields[1].split(":")[1] ?? "0", 16));
  }
  return ports;
}

async function waitListening(ports: number[], proc: { exitCode: number | null }, what: () => string): Promise<void> {
  for (;;) {
    const open = listening();
    if (ports.every((p) => open.has(p))) return;
    if (proc.exitCode !== null) throw new Error(`${what()} exited (${proc.exitCode}) before listening`);
    await Bun.sleep(20);
  }
}

export type Ser2netMode = "telnet" | "rfc2217" | "raw";

export interface Ser2net extends AsyncDisposable {
  /** TCP port of each configured device, in order. */
  ports: number[];
  pid: number;
  /** strace output (ioctl calls of ser2net), when started with strace. */
  straceLog?: string;
  stop(): Promise<void>;
}

/**
 * ser2net 4 with one YAML connection per device (`accepter: telnet(rfc2217),tcp,127.0.0.1,PORT`
 * and so on, `connector: serialdev,DEVICE,9600n81,local`), in the foreground (-n), without UUCP
 * locks (-u). With `strace`, ser2net runs under `strace -f -e trace=ioctl` to see BREAK and modem lines.
 */
export async function startSer2net(lines: { device: string; mode: Ser2netMode }[], options: { strace?: boolean } = {}): Promise<Ser2net> {
  const dir = mkdtempSync(join(tmpdir(), `pty-mcp-ser2net-${process.pid}-`));
  const ports: number[] = [];
  for (let i = 0; i < lines.length; i++) ports.push(await freePort());
  const accepter = (mode: Ser2netMode) => (mode === "raw" ? "tcp" : mode === "telnet" ? "telnet,tcp" : "telnet(rfc2217),tcp");
  const yaml = lines
    .map(
      (line, i) => `connection: &con${i}
  accepter: ${accepter(line.mode)},127.0.0.1,${ports[i]}
  connector: serialdev,${line.device},9600n81,local
  options:
    kickolduser: true
`,
    )
    .join("\n");
  const config = join(dir, "ser2net.yaml");
  writeFileSync(config, yaml);
  const straceLog = options.strace ? join(dir, "strace.log") : undefined;
  const strace = Bun.which("strace");
  if (options.strace && !strace) throw new Error("strace is needed for this test: apt-get install -y strace");
  const argv = ["ser2net", "-n", "-u", "-c", config, "-P", join(dir, "ser2net.pid")];
  const proc = Bun.spawn(straceLog && strace ? [strace, "-f", "-qq", "-e", "trace=ioctl", "-o", straceLog, ...argv] : argv, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  let stderr = "";
  void new Response(proc.stderr).text().then((t) => (stderr = t));
  await waitListening(ports, proc, () => `ser2net (${stderr})`);
  // Under strace, ser2net is strace's child: signal ser2net itself (its pid file), strace then exits with it.
  const pidFile = join(dir, "ser2net.pid");
  const ser2netPid = async () => {
    for (let i = 0; i < 100; i++) {
      const pid = Number(readFileSync(pidFile, { encoding: "utf8", flag: "a+" }).trim());
      if (pid > 0) return pid;
      await Bun.sleep(20);
    }
    return proc.pid;
  };
  const pid = straceLog ? await ser2netPid() : proc.pid;
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
      await proc.exited;
    })();
    return stopped;
  };
  return {
    ports,
    pid,
    straceLog,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Telnetd extends AsyncDisposable {
  port: number;
  user: string;
  password: string;
  /** Connections being served: telnetd processes (one per connection). */
  stop(): Promise<void>;
}

/**
 * inetutils telnetd behind `socat TCP-LISTEN:0,fork EXEC:telnetd,nofork` (each connection execs a
 * telnetd with the socket as stdin/stdout, as inetd does), with a throwaway user (/bin/sh, a
 * random password set with chpasswd) that /bin/login accepts. Needs root (useradd, login).
 */
export async function startTelnetd(): Promise<Telnetd> {
  if (process.getuid?.() !== 0) throw new Error("the telnetd tests need root (useradd, /bin/login): run them as root, as .ci/run does");
  if (!Bun.which("telnetd", { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" })) throw new Error("telnetd is needed for this test: apt-get install -y inetutils-telnetd");
  const user = `ptymcp${process.pid}${randomBytes(2).toString("hex")}`;
  const password = `pw-${randomBytes(9).toString("base64url")}`;
  const home = mkdtempSync(join(tmpdir(), `pty-mcp-telnetd-${process.pid}-`));
  const run = (argv: string[], stdin?: string) => {
    const r = Bun.spawnSync(argv, { stdin: stdin === undefined ? "ignore" : Buffer.from(stdin), stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString()}`);
  };
  run(["useradd", "-M", "-d", home, "-s", "/bin/sh", user]);
  run(["chown", user, home]);
  try {
    run(["chpasswd"], `${user}:${password}\n`);
  } catch (err) {
    run(["userdel", user]);
    throw err;
  }
  const proc = Bun.spawn(["socat", "-d", "-d", "TCP-LISTEN:0,bind=127.0.0.1,reuseaddr,fork", "EXEC:/usr/sbin/telnetd -h,nofork"], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const reader = proc.stderr.getReader();
  let log = "";
  let port = 0;
  while (!port) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`socat for telnetd exited: ${log}`);
    log += new TextDecoder().decode(value);
    const m = /listening on AF=2 127\.0\.0\.1:(\d+)/.exec(log);
    if (m) port = Number(m[1]);
  }
  void (async () => {
    for (;;) if ((await reader.read().catch(() => ({ done: true }))).done) break;
  })();
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await proc.exited;
      // Processes of the throwaway user still running (a shell whose connection is still open), by pid.
      const pids = Bun.spawnSync(["pgrep", "-u", user]).stdout.toString().split("\n").filter(Boolean).map(Number);
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone meanwhile
        }
      }
      for (let i = 0; i < 50; i++) {
        if (Bun.spawnSync(["userdel", user], { stderr: "ignore" }).exitCode === 0) break;
        await Bun.sleep(50);
      }
      rmSync(home, { recursive: true, force: true });
    })();
    return stopped;
  };
  return { port, user, password, stop, [Symbol.asyncDispose]: stop };
}

export interface ScriptedServer extends AsyncDisposable {
  port: number;
  /** Bytes received from the client so far, per connection in order. */
  received: Uint8Array[][];
  close(): Promise<void>;
}

/** A loopback TCP server that runs `script` for each connection (hostile servers, echo floors). */
export async function startScriptedServer(script: (socket: Socket, index: number) => void): Promise<ScriptedServer> {
  const received: Uint8Array[][] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    const index = received.length;
    const mine: Uint8Array[] = [];
    received.push(mine);
    sockets.add(socket);
    socket.on("data", (chunk) => mine.push(new Uint8Array(chunk)));
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    script(socket, index);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
    return closed;
  };
  return { port, received, close, [Symbol.asyncDispose]: close };
}

// ---- cases of the cross-transport interaction suite (test/interaction.test.ts) -------------------

/** A shell on inetutils telnetd (telnet negotiation, NAWS): the throwaway user's /bin/sh ("$ "), logged in with login: true. Needs root. */
export const telnetdCase: TransportCase = {
  name: "telnet (telnetd)",
  traits: { resizeReachesProgram: true },
  async start() {
    const telnetd = await startTelnetd();
    const dir = mkdtempSync(join(tmpdir(), `pty-mcp-ix-telnet-${process.pid}-`));
    writeFileSync(join(dir, "secret"), `${telnetd.password}\n`, { mode: 0o600 });
    const h = await McpHarness.start({ env: { HOME: dir, PTY_MCP_SECRET_COMMAND: `cat ${join(dir, "secret")}` } });
    return {
      server: h,
      open: async () => {
        const created = await h.call<{ session_id: string; login: { completed: boolean } }>("create_telnet_session", { host: "127.0.0.1", port: telnetd.port, user: telnetd.user, login: true });
        if (!created.login.completed) throw new Error(`telnet login failed: ${JSON.stringify(created)}`);
        return ready(h, created.session_id);
      },
      close: async () => {
        await h.close();
        await telnetd.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** A bash behind a serial line behind ser2net's RFC 2217 port (create_serial_session rfc2217://). */
export const rfc2217Case: TransportCase = {
  name: "rfc2217 (ser2net)",
  traits: { resizeReachesProgram: false },
  async start() {
    const h = await McpHarness.start();
    const stops: Array<() => PromiseLike<void>> = [];
    return {
      server: h,
      open: async () => {
        const shell = await startSerialShell({ PS1: "$ ", PROMPT_COMMAND: "", TERM: "xterm-256color" });
        stops.push(() => shell.kill());
        const ser2net = await startSer2net([{ device: shell.device, mode: "rfc2217" }]);
        stops.push(() => ser2net[Symbol.asyncDispose]());
        const created = await h.call<{ session_id: string }>("create_serial_session", { device: `rfc2217://127.0.0.1:${ser2net.ports[0]}`, baud_rate: 115200 });
        return ready(h, created.session_id);
      },
      close: async () => {
        await h.close();
        for (const stop of stops.splice(0).reverse()) await stop();
      },
    };
  },
};
