/**
 * A throwaway OpenSSH server on 127.0.0.1 for tests: its own host key, config
 * and authorized_keys in a temp dir, an OS-assigned port, `await using`
 * disposal. Runs as root (CI does); key auth works for root, password auth
 * for a dedicated test user (see ensurePasswordUser).
 */
import { spawn, spawnSync, type Subprocess } from "bun";
import { createHash } from "node:crypto";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const SSHD = "/usr/sbin/sshd";
export const sshdAvailable = (() => {
  try {
    return spawnSync([SSHD, "-V"]).exitCode !== null && spawnSync(["ssh-keygen", "-?"]).exitCode !== null;
  } catch {
    return false;
  }
})();

export interface KeyPair {
  path: string;
  /** The `.pub` line (`type base64 comment`). */
  pub: string;
  /** The raw public key blob. */
  blob: Buffer;
  fingerprint: string;
  type: string;
}

export interface Sshd extends AsyncDisposable {
  port: number;
  dir: string;
  hostKey: KeyPair;
  pid: number;
  /** Authorize a public key line for every user. */
  authorize(pub: string): void;
  /** Pids of the per-connection sshd processes (children of the listener). */
  connectionPids(): number[];
  /** The sshd log so far: everything sshd wrote up to this call (a file, -E, read synchronously). */
  log(): string;
  stop(): Promise<void>;
}

/** Temp dir removed on dispose. */
export function tempDir(prefix = "pty-mcp-ssh-"): { path: string } & Disposable {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

export function makeKey(path: string, options: { type?: "ed25519" | "ecdsa" | "rsa"; passphrase?: string; comment?: string } = {}): KeyPair {
  const type = options.type ?? "ed25519";
  const args = ["ssh-keygen", "-q", "-t", type, "-N", options.passphrase ?? "", "-C", options.comment ?? "pty-mcp-test", "-f", path];
  if (type === "rsa") args.splice(4, 0, "-b", "2048");
  const r = spawnSync(args);
  if (r.exitCode !== 0) throw new Error(`ssh-keygen failed: ${r.stderr.toString()}`);
  return readPublicKey(path);
}

export function readPublicKey(privatePath: string): KeyPair {
  const pub = readFileSync(`${privatePath}.pub`, "utf8").trim();
  const [type = "", b64 = ""] = pub.split(/\s+/);
  const blob = Buffer.from(b64, "base64");
  const fingerprint = `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
  return { path: privatePath, pub, blob, fingerprint, type };
}

/** A port the OS says is free right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolves once this sshd logged that it listens on the port and the port sends an SSH banner. The
 * log line first: a banner alone may come from another sshd still (or already) on that port.
 */
async function waitForBanner(port: number, proc: Subprocess, timeoutMs: number, log: () => string, host = "127.0.0.1"): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  await waitForListening(port, proc, timeoutMs, log, host);
  while (performance.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`sshd exited (${proc.exitCode ?? proc.signalCode}): ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, host);
      s.once("data", (d) => {
        s.destroy();
        resolve(d.toString().startsWith("SSH-"));
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await Bun.sleep(25);
  }
  throw new Error(`sshd did not come up on port ${port}: ${log()}`);
}

/** Resolves once this sshd logged "Server listening on ADDR port N." (it logs it after listen() succeeded). */
async function waitForListening(port: number, proc: Subprocess, timeoutMs: number, log: () => string, host = "127.0.0.1"): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (log().includes(`Server listening on ${host} port ${port}.`)) return;
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`sshd exited (${proc.exitCode ?? proc.signalCode}): ${log()}`);
    await Bun.sleep(25);
  }
  throw new Error(`sshd did not log that it listens on port ${port}: ${log()}`);
}

export async function startSshd(
  options: {
    extraConfig?: string;
    hostKeyType?: "ed25519" | "ecdsa" | "rsa";
    hostKeyPath?: string;
    /** Listen here instead of 127.0.0.1 (with `prefix`, an address inside a network namespace). */
    listenAddress?: string;
    /** Runs sshd through this, e.g. ["ip", "netns", "exec", NAME]. */
    prefix?: string[];
    /** Listen on this port (a host that comes back after a reboot) instead of a free one. */
    port?: number;
    /**
     * The address cannot be reached from here (a host behind a jump host, netns.ts netnsBehind): ready
     * when sshd logs that it listens, instead of when its banner is read.
     */
    unreachable?: boolean;
  } = {},
): Promise<Sshd> {
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), "pty-mcp-sshd-"));
  const hostKey = options.hostKeyPath === undefined ? makeKey(join(dir, "host_key"), { type: options.hostKeyType ?? "ed25519" }) : readPublicKey(options.hostKeyPath);
  const authorizedKeys = join(dir, "authorized_keys");
  writeFileSync(authorizedKeys, "", { mode: 0o644 });
  // root's sessions get a HOME of their own: the machine's /root/.bashrc (bash reads it even for a
  // command run by sshd) may print anything, e.g. pyenv's "cannot rehash" when two shells start at
  // once (1 in 5 rounds of 12 at once here), and that line would land in a test's exact output. In
  // a Match block SetEnv replaces the global one, so it repeats the test's own SetEnv values, first:
  // sshd keeps the first value of a name, so a HOME the test sets wins.
  const rootHome = join(dir, "root-home");
  mkdirSync(rootHome, { mode: 0o700 });
  const testSetEnv = /^[ \t]*SetEnv[ \t]+(.+)$/im.exec(options.extraConfig ?? "")?.[1]?.trim();
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = options.port ?? (await freePort());
    const config = join(dir, "sshd_config");
    writeFileSync(
      config,
      [
        `Port ${port}`,
        `ListenAddress ${options.listenAddress ?? "127.0.0.1"}`,
        `HostKey ${hostKey.path}`,
        `PidFile ${join(dir, "sshd.pid")}`,
        `AuthorizedKeysFile ${authorizedKeys}`,
        "PubkeyAuthentication yes",
        "PasswordAuthentication yes",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin yes",
        "UsePAM no",
        "StrictModes no",
        "AllowTcpForwarding yes",
        "PrintMotd no",
        "PrintLastLog no",
        "ClientAliveInterval 0",
        "MaxStartups 100",
        "LogLevel VERBOSE",
        "Subsystem sftp internal-sftp",
        options.extraConfig ?? "",
        "Match User root",
        `  SetEnv ${testSetEnv === undefined ? "" : `${testSetEnv} `}HOME=${rootHome}`,
        "",
      ].join("\n"),
    );
    // The log goes to a file (-E), not a pipe: a pipe is read by this process's event loop some time
    // after sshd wrote it, so a count of "Accepted publickey" lines taken right after a login could miss it.
    // What sshd prints before it opens the file (a bad option) still comes on stderr.
    const logFile = join(dir, `sshd-${attempt}.log`);
    let stderr = "";
    const log = (): string => {
      let text = "";
      try {
        text = readFileSync(logFile, "utf8");
      } catch {
        // not opened yet
      }
      return stderr + text;
    };
    const proc = spawn([...(options.prefix ?? []), SSHD, "-D", "-E", logFile, "-f", config], { stdout: "ignore", stderr: "pipe", stdin: "ignore" });
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of proc.stderr) stderr += decoder.decode(chunk);
    })();
    try {
      if (options.unreachable) await waitForListening(port, proc, 10_000, log, options.listenAddress);
      else await waitForBanner(port, proc, 10_000, log, options.listenAddress);
      // The banner probe's connection has its own sshd child, gone only once the listener reaped it
      // (1 in 10 starts still had it here, for ~100 ms): tests count connectionPids() exactly.
      const deadline = performance.now() + 10_000;
      while (childPids(proc.pid).length > 0) {
        if (performance.now() > deadline) throw new Error(`sshd on port ${port}: the banner probe's connection did not end: ${log()}`);
        await Bun.sleep(10);
      }
    } catch (err) {
      lastError = err;
      proc.kill("SIGKILL");
      await proc.exited;
      if (/Address already in use/.test(log()) && options.port === undefined) continue;
      throw err;
    }
    const stop = async (): Promise<void> => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      // A host going down. The listener is stopped first, so that no new connection (a client that
      // reconnects at once) gets in while the ones it has are killed; then it goes on just long enough
      // to reap them (sshd reaps in its SIGCHLD handler) and to see the SIGTERM (checked before any accept).
      // Reaped by the listener, they do not linger as zombies under PID 1.
      signal(proc.pid, "SIGSTOP");
      const killed = childPids(proc.pid);
      for (const pid of killed) signal(pid, "SIGKILL");
      const deadline = performance.now() + 3000;
      while (killed.some(isRunning) && performance.now() < deadline) await Bun.sleep(10);
      signal(proc.pid, "SIGTERM");
      signal(proc.pid, "SIGCONT");
      await proc.exited;
    };
    return {
      port,
      dir,
      hostKey,
      pid: proc.pid,
      authorize: (pub) => appendFileSync(authorizedKeys, `${pub}\n`),
      connectionPids: () => childPids(proc.pid),
      log,
      stop,
      [Symbol.asyncDispose]: async () => {
        await stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  throw lastError instanceof Error ? lastError : new Error("could not start sshd");
}

/** Sends a signal to a process that may be gone already. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone (or reaped): nothing to do.
  }
}

/** Whether pid is still a process that runs (not gone, not a zombie waiting to be reaped). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** Direct children of pid (from /proc; no pgrep dependency). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  const r = spawnSync(["ps", "-o", "pid=", "--ppid", String(pid)]);
  for (const line of r.stdout.toString().split("\n")) {
    const n = Number(line.trim());
    if (Number.isInteger(n) && n > 0) out.push(n);
  }
  return out;
}

/** Every process under pid, each before its own children (grandchildren too: sshd's privilege-separated child). */
export function descendantPids(pid: number): number[] {
  return childPids(pid).flatMap((child) => [child, ...descendantPids(child)]);
}

/** A dedicated local account with a known password for password-auth tests (created once, kept). */
export const PASSWORD_USER = "ptymcptest";
export const PASSWORD_USER_PASSWORD = "pty-mcp-test-Pw-4";

export function ensurePasswordUser(): { user: string; password: string } {
  if (spawnSync(["id", PASSWORD_USER]).exitCode !== 0) {
    const r = spawnSync(["useradd", "-m", "-s", "/bin/bash", PASSWORD_USER]);
    if (r.exitCode !== 0 && spawnSync(["id", PASSWORD_USER]).exitCode !== 0) throw new Error(`useradd failed: ${r.stderr.toString()}`);
  }
  const r = spawnSync(["chpasswd"], { stdin: Buffer.from(`${PASSWORD_USER}:${PASSWORD_USER_PASSWORD}\n`) });
  if (r.exitCode !== 0) throw new Error(`chpasswd failed: ${r.stderr.toString()}`);
  return { user: PASSWORD_USER, password: PASSWORD_USER_PASSWORD };
}

export interface Agent extends AsyncDisposable {
  socket: string;
  add(keyPath: string): void;
}

/** A real ssh-agent in the foreground on a socket in `dir`. */
export async function startAgent(dir: string): Promise<Agent> {
  const socket = join(dir, "agent.sock");
  const proc = spawn(["ssh-agent", "-D", "-a", socket], { stdout: "ignore", stderr: "ignore", stdin: "ignore" });
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    const r = spawnSync(["ssh-add", "-l"], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
    // 1 = agent reachable but empty; 2 = cannot connect yet.
    if (r.exitCode === 0 || r.exitCode === 1) break;
    await Bun.sleep(20);
  }
  return {
    socket,
    add(keyPath) {
      const r = spawnSync(["ssh-add", keyPath], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
      if (r.exitCode !== 0) throw new Error(`ssh-add failed: ${r.stderr.toString()}`);
    },
    [Symbol.asyncDispose]: async () => {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

/** A known_hosts line for the server's key (`[127.0.0.1]:port type b64`). */
export function knownHostsLine(sshd: Sshd, host = "127.0.0.1"): string {
  const [type, b64] = sshd.hostKey.pub.split(/\s+/);
  return `[${host}]:${sshd.port} ${type} ${b64}`;
}
