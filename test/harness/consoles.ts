// Network consoles for tests, all on loopback: a real telnet daemon (inetutils telnetd behind
// socat, one process per connection, as inetd would run it) logging in a throwaway user through
// /bin/login; ser2net (YAML config) in front of socat pty pairs; scripted hostile servers.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McpHarness } from "./mcp.ts";
import { startSerialShell } from "./socat.ts";
import { ready, type TransportCase } from "./transport-cases.ts";

/**
 * Ports for a server that cannot listen on port 0 itself (ser2net): random ones BELOW the kernel's
 * ephemeral range (ip_local_port_range), free when picked. The kernel never hands those out for a
 * bind to port 0 or an outgoing connection, so only a server asking for that very port can take
 * one before ser2net binds it; startSer2net checks that the listening sockets are ser2net's own.
 */
function unusedPorts(count: number): number[] {
  const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
  const floor = 10_000;
  const top = Number.isInteger(low) && low > floor + 1000 ? low : 32_768;
  const taken = new Set([...listening().keys()]);
  const ports = new Set<number>();
  while (ports.size < count) {
    const port = floor + Math.floor(Math.random() * (top - floor));
    if (!taken.has(port)) ports.add(port);
  }
  return [...ports];
}

/** Loopback and wildcard TCP ports in LISTEN state (IPv4 and IPv6), each with its socket inode, from /proc/net/tcp{,6}. */
function listening(): Map<number, Set<string>> {
  const ports = new Map<number, Set<string>>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue; // no IPv6
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] !== "0A" || !fields[1] || !fields[9]) continue;
      const port = Number.parseInt(fields[1].split(":").at(-1) ?? "0", 16);
      let inodes = ports.get(port);
      if (!inodes) ports.set(port, (inodes = new Set()));
      inodes.add(fields[9]);
    }
  }
  return ports;
}

/** A process and its descendants (strace's child ser2net), from /proc/PID/task/TID/children. */
function processTree(root: number): number[] {
  const pids = [root];
  for (let i = 0; i < pids.length; i++) {
    try {
      for (const tid of readdirSync(`/proc/${pids[i]}/task`)) {
        for (const child of readFileSync(`/proc/${pids[i]}/task/${tid}/children`, "utf8").trim().split(/\s+/)) if (child) pids.push(Number(child));
      }
    } catch {
      // gone
    }
  }
  return pids;
}

/** Socket inodes among the open files of a process tree ("socket:[N]" links in /proc/PID/fd). */
function socketInodes(root: number): Set<string> {
  const inodes = new Set<string>();
  for (const pid of processTree(root)) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        // closed meanwhile
      }
    }
  }
  return inodes;
}

/**
 * Waits until `proc` (or a child of it) listens on every port: "listening" when each port's LISTEN
 * socket is its own; "taken" as soon as one port's LISTEN socket belongs to another process or
 * the log says a port could not be bound (ser2net does not exit then, and a client would reach
 * the other server); throws when it exited.
 */
async function waitOwnListening(ports: number[], proc: { pid: number; exitCode: number | null }, log: () => string, what: () => string): Promise<"listening" | "taken"> {
  for (;;) {
    const open = listening();
    // The table first, then the fds: a socket of ours listening in the table is in our fds by then.
    const ours = socketInodes(proc.pid);
    if (proc.exitCode !== null) throw new Error(`${what()} exited (${proc.exitCode}) before listening`);
    if (/Unable to startup network port/.test(log())) return "taken";
    if (ports.some((p) => [...(open.get(p) ?? [])].some((inode) => !ours.has(inode)))) return "taken";
    if (ports.every((p) => [...(open.get(p) ?? [])].some((inode) => ours.has(inode)))) return "listening";
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
 * and so on, `connector: serialdev,DEVICE,9600n81,local`), in the foreground with its log on stderr (-d), without UUCP
 * locks (-u). With `strace`, ser2net runs under `strace -f -e trace=ioctl` to see BREAK and modem lines.
 */
export async function startSer2net(lines: { device: string; mode: Ser2netMode }[], options: { strace?: boolean } = {}): Promise<Ser2net> {
  const strace = Bun.which("strace");
  if (options.strace && !strace) throw new Error("strace is needed for this test: apt-get install -y strace");
  // A port another server took between the pick and ser2net's bind is seen, not guessed at: that
  // ser2net is killed and another one starts on other ports (at most a few times: ports are random).
  for (let attempt = 1; ; attempt++) {
    const started = await startSer2netOn(lines, unusedPorts(lines.length), options.strace ? strace : null);
    if (started) return started;
    if (attempt === 5) throw new Error(`ser2net: 5 sets of random ports were each taken by another server before ser2net bound them`);
  }
}

/** One ser2net on `ports`; undefined when another process listens on one of them (that ser2net is killed). */
async function startSer2netOn(lines: { device: string; mode: Ser2netMode }[], ports: number[], strace: string | null): Promise<Ser2net | undefined> {
  const dir = mkdtempSync(join(tmpdir(), `pty-mcp-ser2net-${process.pid}-`));
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
  const straceLog = strace ? join(dir, "strace.log") : undefined;
  // -d: ser2net's log on stderr, where a port it cannot bind is said ("Unable to startup network port").
  const argv = ["ser2net", "-d", "-u", "-c", config, "-P", join(dir, "ser2net.pid")];
  const proc = Bun.spawn(strace ? [strace, "-f", "-qq", "-e", "trace=ioctl", "-o", straceLog!, ...argv] : argv, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  let stderr = "";
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) stderr += decoder.decode(chunk, { stream: true });
  })().catch(() => {});
  let state: "listening" | "taken";
  try {
    state = await waitOwnListening(ports, proc, () => stderr, () => `ser2net (${stderr})`);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  if (state === "taken") {
    // A ser2net that could not bind a port neither exits nor ends on SIGTERM (seen with 4.3.11):
    // SIGKILL it (and strace: a tracer killed first would leave ser2net running, detached).
    for (const target of processTree(proc.pid).reverse()) {
      try {
        process.kill(target, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  // Under strace, ser2net is strace's child: signal ser2net itself, strace then exits with it.
  const pid = strace ? (processTree(proc.pid).find((p) => p !== proc.pid) ?? proc.pid) : proc.pid;
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
