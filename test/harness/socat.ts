// A real serial pair for tests: `socat pty,raw,echo=0 pty,raw,echo=0` makes two pseudo-terminals
// wired back to back. What one side writes, the other reads, as over a null-modem cable.
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SocatPair extends AsyncDisposable {
  /** The device the transport under test opens: the real /dev/pts/N (the links live in a temp dir, outside /dev/). */
  a: string;
  /** The far end, where a fake device or the test itself sits. */
  b: string;
  linkA: string;
  linkB: string;
  pid: number;
  /** Kills socat (both ptys hang up, like a USB adapter pulled out) and waits for it to exit. */
  kill(): Promise<void>;
}

export async function startSocatPair(): Promise<SocatPair> {
  const dir = mkdtempSync(join(tmpdir(), "pty-mcp-socat-"));
  const linkA = join(dir, "a");
  const linkB = join(dir, "b");
  let proc: Bun.Subprocess;
  try {
    proc = await spawnSocat([`pty,raw,echo=0,link=${linkA}`, `pty,raw,echo=0,link=${linkB}`]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const kill = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    await proc.exited;
  };
  return {
    a: realpathSync(linkA),
    b: realpathSync(linkB),
    linkA,
    linkB,
    pid: proc.pid,
    kill,
    async [Symbol.asyncDispose]() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `socat -d -d ADDRESSES…` and resolves once it logs `readyLine` ("starting data transfer
 * loop": both sides exist, links made; "listening on" for a listener); its stderr keeps being
 * drained so it never blocks on a full pipe.
 */
export async function spawnSocat(addresses: string[], env?: Record<string, string | undefined>, readyLine = "starting data transfer loop", said?: (log: string) => void): Promise<Bun.Subprocess> {
  const proc = Bun.spawn(["socat", "-d", "-d", ...addresses], { env: env ?? process.env, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const decoder = new TextDecoder();
  let log = "";
  const reader = proc.stderr.getReader();
  while (!log.includes(readyLine)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`socat exited before it was ready (exit ${await proc.exited}):\n${log}`);
    log += decoder.decode(value, { stream: true });
  }
  said?.(log);
  void (async () => {
    for (;;) if ((await reader.read().catch(() => ({ done: true }))).done) break;
  })();
  return proc;
}

/**
 * A shell behind a serial line: a raw pty at `device` (what a session opens), and bash on a pty
 * of socat's own, as a console server runs it: echo and ctrl+c are the far end's line discipline.
 */
export async function startSerialShell(env: Record<string, string> = {}): Promise<{ device: string; kill(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "pty-mcp-serial-shell-"));
  const link = join(dir, "ttyS");
  let proc: Bun.Subprocess;
  try {
    proc = await spawnSocat([`pty,raw,echo=0,link=${link}`, "EXEC:bash --norc --noprofile -i,pty,setsid,ctty,stderr,sane"], { ...process.env, ...env });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    device: realpathSync(link),
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A shell behind a raw TCP console port on 127.0.0.1 (one connection), like a ser2net raw port; the OS picks the port. */
export async function startTcpShell(env: Record<string, string> = {}): Promise<{ port: number; kill(): Promise<void> }> {
  let port = 0;
  const proc = await spawnSocat(["TCP-LISTEN:0,bind=127.0.0.1,reuseaddr", "EXEC:bash --norc --noprofile -i,pty,setsid,ctty,stderr,sane"], { ...process.env, ...env }, "listening on", (log) => {
    port = Number(/listening on AF=2 127\.0\.0\.1:(\d+)/.exec(log)?.[1] ?? 0);
  });
  if (!port) {
    proc.kill();
    throw new Error("socat TCP-LISTEN:0 did not say its port");
  }
  return {
    port,
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

export interface FakeSwitch extends AsyncDisposable {
  pid: number;
  exited: Promise<number>;
}

/** Starts test/fixtures/fake-switch-fixture.ts on `device` and waits for its "ready". */
export async function startFakeSwitch(device: string, extraArgs: string[] = []): Promise<FakeSwitch> {
  const fixture = new URL("../fixtures/fake-switch-fixture.ts", import.meta.url).pathname;
  const proc = Bun.spawn([process.execPath, fixture, device, ...extraArgs], { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  let out = "";
  while (!out.includes("ready\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`fake switch exited before it was ready (exit ${await proc.exited}): ${out}`);
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return {
    pid: proc.pid,
    exited: proc.exited,
    async [Symbol.asyncDispose]() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}
