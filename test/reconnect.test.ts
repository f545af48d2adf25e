// reconnect_session end to end: the compiled binary driven by the MCP SDK client, a real sshd in a
// network namespace (the "remote host") that goes away mid-session — its link down, then the daemon
// killed, as a reboot does — and comes back; a port on loopback that never answers again.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { startTelnetd } from "./harness/consoles.ts";
import { McpHarness } from "./harness/mcp.ts";
import { netnsAvailable, netnsHost } from "./harness/netns.ts";
import { knownHostsLine, makeKey, startSshd, tempDir, type Sshd } from "./harness/sshd.ts";

setDefaultTimeout(120_000);

const home = tempDir(`pty-mcp-reconnect-${process.pid}-`);
const sshDir = join(home.path, ".ssh");
let h: McpHarness;
let pub: string;

beforeAll(async () => {
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  pub = makeKey(join(sshDir, "id_ed25519")).pub;
  writeFileSync(join(sshDir, "known_hosts"), "");
  writeFileSync(join(sshDir, "config"), "");
  // The "human" answers a password prompt from this file (the telnet login).
  writeFileSync(join(home.path, "secret"), "", { mode: 0o600 });
  // The audit trail in a local JSONL file: a reconnect is recorded between the two connections' ends.
  mkdirSync(join(home.path, ".config", "pty-mcp"), { recursive: true });
  writeFileSync(join(home.path, ".config", "pty-mcp", "config"), `audit-log=${join(home.path, "audit.jsonl")}\naudit-user=tester\n`, { mode: 0o600 });
  h = await McpHarness.start({ env: { HOME: home.path, XDG_CONFIG_HOME: join(home.path, ".config"), SSH_AUTH_SOCK: "", PTY_MCP_SECRET_COMMAND: `cat ${join(home.path, "secret")}` } });
});

afterAll(async () => {
  await h?.close();
  home[Symbol.dispose]();
});

/** An sshd trusted by our known_hosts, with keepalives of 1 s × 2 so a dead link is noticed in ~3 s. */
async function trustedSshd(options: Parameters<typeof startSshd>[0] = {}): Promise<Sshd> {
  const sshd = await startSshd(options);
  sshd.authorize(pub);
  const host = options.listenAddress ?? "127.0.0.1";
  appendFileSync(join(sshDir, "known_hosts"), `${knownHostsLine(sshd, host)}\n`);
  appendFileSync(join(sshDir, "config"), `Host ${host}\n  ServerAliveInterval 1\n  ServerAliveCountMax 2\n`);
  return sshd;
}

async function open(host: string, port: number, extra: Record<string, unknown> = {}): Promise<string> {
  const created = await h.call<{ session_id: string }>("create_ssh_session", { host, port, user: "root", ...extra });
  return created.session_id;
}

/** Blocks until the session's link has ended (a wait ends at once with is_alive: false). */
async function linkEnded(id: string): Promise<void> {
  const r = await h.call<{ is_alive: boolean }>("read_output", { session_id: id, wait_for: "never printed", timeout: 60 });
  expect(r.is_alive).toBe(false);
}

/** The session's audit entries (output snippets left out), with the fields that tell them apart. */
function auditOf(id: string): Record<string, unknown>[] {
  return readFileSync(join(home.path, "audit.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((e) => e.session_id === id && e.event !== "output")
    .map((e) => Object.fromEntries(Object.entries(e).filter(([k]) => ["event", "cmd", "reason"].includes(k))));
}

const gapLine = /^\[pty-mcp: link to root@[\d.]+:\d+ ended \d{4}-\d\d-\d\dT[\d:.]+Z, reconnected \d{4}-\d\d-\d\dT[\d:.]+Z \(down \d+\.\d s, \d+ attempts?\); a new shell follows\]$/m;

describe("reconnect_session after a reboot", () => {
  test.skipIf(!netnsAvailable)("reconnect_session: the host comes back after 5 s with the same key — same id, cursors go on, one gap line, a fresh hooked shell", async () => {
    using net = netnsHost();
    const first = await trustedSshd({ prefix: net.prefix, listenAddress: net.address });
    let second: Sshd | undefined;
    try {
      const logFile = join(home.path, `reboot-${process.pid}.log`);
      const id = await open(net.address, first.port, { log_file: logFile });
      expect(await h.call("send_input", { session_id: id, input: "X=before; echo \"[$X]\"" })).toMatchObject({ output: expect.stringMatching(/^\[before\]\n/), exit_code: 0 });
      const before = (await h.call<{ cursor: number }>("get_session_state", { session_id: id })).cursor;
      // The reboot: the link goes first, then the daemon (and the shell) die with the host.
      net.linkDown();
      await first.stop();
      await linkEnded(id);
      const progress: string[] = [];
      const pending = h.call<Record<string, unknown>>("reconnect_session", { session_id: id, timeout: 60 }, { onprogress: (p) => progress.push((p as { message?: string }).message ?? "") });
      await Bun.sleep(5000);
      net.linkUp();
      second = await startSshd({ prefix: net.prefix, listenAddress: net.address, port: first.port, hostKeyPath: first.hostKey.path });
      second.authorize(pub);
      const r = await pending;
      expect(r).toEqual({ reconnected: true, down_for_ms: expect.any(Number), attempts: expect.any(Number), cursor: expect.any(Number) });
      expect(r.down_for_ms as number).toBeGreaterThanOrEqual(5000);
      expect(r.attempts as number).toBeGreaterThanOrEqual(2);
      expect(r.cursor as number).toBeGreaterThan(before);
      console.error(`reconnect_session after a 5 s reboot: ${JSON.stringify(r)}`);
      expect(progress[0]).toBe(`attempt 1: connecting to root@${net.address}:${first.port}`);
      // A fresh shell (the variable is gone), hooked again (exit codes).
      expect(await h.call("send_input", { session_id: id, input: "echo \"[$X]\"; false" })).toMatchObject({ output: expect.stringMatching(/^\[\]\n/), exit_code: 1, is_alive: true });
      const all = await h.call<{ output: string }>("read_output", { session_id: id, since_cursor: 0 });
      expect(all.output.match(new RegExp(gapLine.source, "gm"))?.length).toBe(1);
      expect(all.output.indexOf("[before]")).toBeLessThan(all.output.search(gapLine));
      expect(await h.call("get_session_state", { session_id: id })).toMatchObject({ session_id: id, is_alive: true, shell_integration: true });
      await h.call("close_session", { session_id: id });
      // The log file went on across the gap: the gap line and what the new shell printed are in it.
      const log = readFileSync(logFile, "utf8");
      expect([log.includes("[before]"), gapLine.test(log), log.includes("[]")]).toEqual([true, true, true]);
      expect(auditOf(id)).toEqual([
        { event: "create" },
        { event: "input", cmd: 'X=before; echo "[$X]"' },
        { event: "close", reason: `connection to root@${net.address}:${first.port} lost: Keepalive timeout` },
        { event: "reconnect", reason: "reconnect_session: a new connection after the link ended" },
        { event: "input", cmd: 'echo "[$X]"; false' },
        { event: "close", reason: "close_session" },
      ]);
    } finally {
      await second?.[Symbol.asyncDispose]();
      await first[Symbol.asyncDispose]();
    }
  });

  test.skipIf(!netnsAvailable)("reconnect_session: a host back with a different host key is SSH_HOST_KEY_MISMATCH, and the session stays ended", async () => {
    using net = netnsHost();
    const first = await trustedSshd({ prefix: net.prefix, listenAddress: net.address });
    let second: Sshd | undefined;
    try {
      const id = await open(net.address, first.port);
      net.linkDown();
      await first.stop();
      await linkEnded(id);
      net.linkUp();
      second = await startSshd({ prefix: net.prefix, listenAddress: net.address, port: first.port });
      second.authorize(pub);
      const err = await h.callError("reconnect_session", { session_id: id, timeout: 30 });
      expect({ code: err.code, retryable: err.retryable, fingerprint: err.fingerprint }).toEqual({ code: "SSH_HOST_KEY_MISMATCH", retryable: false, fingerprint: second.hostKey.fingerprint });
      expect(err.message).toStartWith(`HOST KEY CHANGED for root@${net.address}:${first.port}: it now presents`);
      expect(await h.call("get_session_state", { session_id: id })).toMatchObject({ is_alive: false });
      await h.call("close_session", { session_id: id });
    } finally {
      await second?.[Symbol.asyncDispose]();
      await first[Symbol.asyncDispose]();
    }
  });
});

describe("reconnect_session when the host does not come back", () => {
  /** A session to an sshd on loopback whose port then stays closed (refused at once). */
  async function deadHost(): Promise<{ id: string; port: number; sshd: Sshd }> {
    const sshd = await trustedSshd();
    const id = await open("127.0.0.1", sshd.port);
    await sshd.stop();
    await linkEnded(id);
    return { id, port: sshd.port, sshd };
  }

  test("reconnect_session: a host that never comes back ends at the timeout with reconnected false and the attempts made (1 s, 2 s backoff)", async () => {
    const { id, port, sshd } = await deadHost();
    try {
      const r = await h.call("reconnect_session", { session_id: id, timeout: 4 });
      expect(r).toEqual({
        reconnected: false,
        down_for_ms: expect.any(Number),
        attempts: 3,
        cursor: expect.any(Number),
        timed_out: true,
        last_error: { code: "SSH_CONN_FAILED", message: `Connection to root@127.0.0.1:${port} refused: nothing listens on port ${port}. Check the port and that sshd runs.` },
      });
      expect(await h.call("get_session_state", { session_id: id })).toMatchObject({ is_alive: false });
    } finally {
      await h.callRaw("close_session", { session_id: id });
      await sshd[Symbol.asyncDispose]();
    }
  });

  test("reconnect_session: the last attempt cut short by the timeout — last_error is the earlier attempt's own reason, not the cut-short timeout", async () => {
    const { id, port, sshd } = await deadHost();
    // Something else took the port: its first connection gets an identification SSH cannot speak (a failure
    // of its own, at once); later ones get silence, so attempt 2 hangs until the timeout (6 s) cuts it short
    // with less than a whole connect timeout (10 s).
    const accepted: Socket[] = [];
    const squatter: Server = createServer((socket) => {
      if (accepted.push(socket) === 1) socket.write("SSH-1.5-OldServer\r\n");
    });
    await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", resolve));
    const progress: string[] = [];
    try {
      const r = await h.call("reconnect_session", { session_id: id, timeout: 6 }, { onprogress: (p) => progress.push(p.message ?? "") });
      const own = `SSH handshake with root@127.0.0.1:${port} failed: Invalid identification string. Check that the port speaks SSH and the server allows a modern algorithm.`;
      expect(r).toEqual({ reconnected: false, down_for_ms: expect.any(Number), attempts: 2, cursor: expect.any(Number), timed_out: true, last_error: { code: "SSH_CONN_FAILED", message: own } });
      // Attempt 2 reached the port and was cut short there: its own failure, in the progress, is the timeout.
      const second = progress.filter((m) => m.startsWith("attempt 2: Connecting to ")).map((m) => /^attempt 2: Connecting to root@127\.0\.0\.1:\d+ timed out after \d\.\d s\./.test(m));
      expect([accepted.length, second]).toEqual([2, [true]]);
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => squatter.close(resolve));
      await h.callRaw("close_session", { session_id: id });
      await sshd[Symbol.asyncDispose]();
    }
  });

  test("reconnect_session: cancellation ends it at once, and no attempt is made after it", async () => {
    const { id, port, sshd } = await deadHost();
    // Something answers on the port again, but never speaks SSH: every attempt is one connection here.
    const attempts: number[] = [];
    const blackhole: Server = createServer((socket) => {
      attempts.push(performance.now());
      socket.destroy();
    });
    await new Promise<void>((resolve) => blackhole.listen(port, "127.0.0.1", resolve));
    try {
      const abort = new AbortController();
      const pending = h.callRaw("reconnect_session", { session_id: id, timeout: 60 }, { signal: abort.signal });
      while (attempts.length < 2) await Bun.sleep(20);
      abort.abort();
      const cancelledAt = performance.now();
      await expect(pending).rejects.toThrow();
      // The next attempt was due 2 s after the second; wait past it.
      await Bun.sleep(3000);
      expect(attempts.filter((t) => t > cancelledAt)).toEqual([]);
      // The session is free for a new call at once (no reconnect still running on it).
      const again = await h.call("reconnect_session", { session_id: id, timeout: 0.5 });
      expect(again).toMatchObject({ reconnected: false, attempts: 1, timed_out: true });
    } finally {
      await new Promise((resolve) => blackhole.close(resolve));
      await h.callRaw("close_session", { session_id: id });
      await sshd[Symbol.asyncDispose]();
    }
  });

  test("reconnect_session: refused for a session still connected, and for a local session", async () => {
    const sshd = await trustedSshd();
    try {
      const id = await open("127.0.0.1", sshd.port);
      expect(await h.callError("reconnect_session", { session_id: id })).toMatchObject({ code: "INVALID_ARGUMENT", retryable: true });
      await h.call("close_session", { session_id: id });
      const local = await h.call<{ session_id: string }>("create_local_session", { command: "true" });
      await linkEnded(local.session_id);
      expect(await h.callError("reconnect_session", { session_id: local.session_id })).toMatchObject({ code: "INVALID_ARGUMENT" });
      await h.call("close_session", { session_id: local.session_id });
    } finally {
      await sshd[Symbol.asyncDispose]();
    }
  });
});

/** A TCP forwarder to `port`: the "host" a console session reaches; down() drops every connection and stops listening. */
async function forwarder(port: number): Promise<{ port: number; down(): Promise<void>; up(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let listenPort = 0;
  const up = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(port, "127.0.0.1");
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
          s.on("error", () => undefined);
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(listenPort, "127.0.0.1", () => {
        const address = server!.address();
        listenPort = typeof address === "object" && address ? address.port : 0;
        resolve();
      });
    });
  await up();
  return {
    port: listenPort,
    up,
    down: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server?.close(resolve));
    },
  };
}

describe("reconnect_session over telnet", () => {
  test("reconnect_session: a telnet console back after its host restarted logs in again (the password from the human) into a fresh shell", async () => {
    const telnetd = await startTelnetd();
    const host = await forwarder(telnetd.port);
    try {
      writeFileSync(join(home.path, "secret"), `${telnetd.password}\n`);
      const created = await h.call<{ session_id: string; login: unknown }>("create_telnet_session", { host: "127.0.0.1", port: host.port, user: telnetd.user, login: true });
      expect(created.login).toEqual({ completed: true });
      const id = created.session_id;
      expect((await h.call<{ output: string }>("send_input", { session_id: id, input: "X=before; echo \"[$X]\"" })).output).toBe("[before]\n$ ");
      await host.down();
      await linkEnded(id);
      const pending = h.call("reconnect_session", { session_id: id, timeout: 60 });
      await Bun.sleep(2500);
      await host.up();
      const r = await pending;
      expect(r).toEqual({ reconnected: true, down_for_ms: expect.any(Number), attempts: expect.any(Number), login: { completed: true }, cursor: expect.any(Number) });
      expect([(r.down_for_ms as number) >= 2500, (r.attempts as number) >= 2]).toEqual([true, true]);
      expect((await h.call<{ output: string }>("send_input", { session_id: id, input: "echo \"[$X]\"" })).output).toBe("[]\n$ ");
      const all = await h.call<{ output: string }>("read_output", { session_id: id, since_cursor: 0 });
      expect(all.output).toMatch(/\n\[pty-mcp: link to 127\.0\.0\.1:\d+ ended \S+, reconnected \S+ \(down \d+\.\d s, \d+ attempts\); a new shell follows\]\n/);
      expect(all.output).not.toContain(telnetd.password);
      await h.call("close_session", { session_id: id });
    } finally {
      await host.down();
      await telnetd.stop();
    }
  });
});
