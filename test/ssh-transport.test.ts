/**
 * The SSH transport against real OpenSSH servers on loopback: auth methods,
 * config aliases, ProxyJump, known_hosts policy, liveness, error codes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "bun";
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { PtyError } from "../src/errors";
import type { TransportExit } from "../src/session/transport";
import { parseKnownHosts } from "../src/ssh/known-hosts";
import { openSshTransport, type SshSessionOptions, type SshTransport } from "../src/ssh/ssh-transport";
import { ensurePasswordUser, freePort, knownHostsLine, makeKey, startAgent, startSshd, tempDir, type KeyPair, type Sshd } from "./harness/sshd";

interface Watched {
  text(): string;
  waitFor(needle: string | RegExp, timeoutMs?: number): Promise<void>;
  exit: Promise<TransportExit>;
}

function watch(t: SshTransport): Watched {
  let text = "";
  const waiters = new Set<() => void>();
  t.onData((bytes) => {
    text += new TextDecoder().decode(bytes);
    for (const w of waiters) w();
  });
  const exit = new Promise<TransportExit>((resolve) => {
    t.onExit((e) => {
      resolve(e);
      for (const w of waiters) w();
    });
  });
  return {
    text: () => text,
    waitFor(needle, timeoutMs = 15_000) {
      const found = (): boolean => (typeof needle === "string" ? text.includes(needle) : needle.test(text));
      if (found()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${String(needle)}; output so far:\n${text}`));
        }, timeoutMs);
        const check = (): void => {
          if (found()) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          }
        };
        waiters.add(check);
      });
    },
    exit,
  };
}

async function connectError(options: SshSessionOptions): Promise<{ code: string; retryable: boolean; message: string; details: Record<string, unknown> | undefined }> {
  try {
    const t = await openSshTransport(options);
    await t.close();
  } catch (err) {
    if (err instanceof PtyError) return { code: err.code, retryable: err.retryable, message: err.message, details: err.details };
    throw err;
  }
  throw new Error("connected, but an error was expected");
}

const enc = new TextEncoder();
const send = (t: SshTransport, s: string): Promise<void> => t.write(enc.encode(s));

describe("ssh transport", () => {
  const home = tempDir("pty-mcp-ssh-home-");
  const sshDir = join(home.path, ".ssh");
  const knownHosts = join(sshDir, "known_hosts");
  const userConfig = join(sshDir, "config");
  let sshd: Sshd;
  let clientKey: KeyPair;
  const base = (): SshSessionOptions => ({
    host: "127.0.0.1",
    port: sshd.port,
    user: "root",
    cols: 80,
    rows: 24,
    home: home.path,
    userConfigFile: userConfig,
    systemConfigFile: "/nonexistent/ssh_config",
  });
  const resetKnownHosts = (): void => writeFileSync(knownHosts, `${knownHostsLine(sshd)}\n`);
  const resetConfig = (text = ""): void => writeFileSync(userConfig, text);
  /** A HOME with known_hosts but no identity files. */
  const noKeysHome = (): string => {
    const dir = join(home.path, "nokeys");
    mkdirSync(join(dir, ".ssh"), { recursive: true });
    writeFileSync(join(dir, ".ssh", "known_hosts"), `${knownHostsLine(sshd)}\n`);
    return dir;
  };

  beforeAll(async () => {
    delete process.env.SSH_AUTH_SOCK;
    mkdirSync(sshDir, { recursive: true, mode: 0o700 });
    sshd = await startSshd();
    clientKey = makeKey(join(sshDir, "id_ed25519"));
    sshd.authorize(clientKey.pub);
    resetKnownHosts();
    resetConfig();
  });
  afterAll(async () => {
    await sshd[Symbol.asyncDispose]();
    home[Symbol.dispose]();
  });

  test("key auth: runs commands in an xterm-256color shell and reports the exit status", async () => {
    resetConfig();
    const t = await openSshTransport(base());
    const w = watch(t);
    expect({ target: t.target, auth: t.authMethod, hostKey: t.hostKey }).toEqual({
      target: `root@127.0.0.1:${sshd.port}`,
      auth: `publickey (${clientKey.path})`,
      hostKey: { fingerprint: sshd.hostKey.fingerprint, key_type: "ssh-ed25519" },
    });
    await send(t, "echo T=$TERM S=$(stty size) R=$((40+2))\r");
    await w.waitFor("T=xterm-256color S=24 80 R=42");
    t.resize({ cols: 100, rows: 50 });
    await send(t, "echo SIZE=$(stty size)\r");
    await w.waitFor("SIZE=50 100");
    await send(t, "exit 3\r");
    expect(await w.exit).toEqual({ code: 3, signal: null });
    await t.close();
    await t.close();
    const err = await t.write(enc.encode("x")).catch((e: unknown) => e);
    expect(err instanceof PtyError ? err.code : err).toBe("SESSION_CLOSED");
  });

  test("command: runs a remote command on a PTY and exits with its code", async () => {
    const t = await openSshTransport({ ...base(), command: "printf 'hi %s\\n' there; exit 7" });
    const w = watch(t);
    await w.waitFor("hi there");
    expect(await w.exit).toEqual({ code: 7, signal: null });
    await t.close();
  });

  test("password auth: no keys, password given", async () => {
    const { user, password } = ensurePasswordUser();
    const t = await openSshTransport({ ...base(), user, password, home: noKeysHome() });
    const w = watch(t);
    expect(t.authMethod).toBe("password");
    await send(t, "echo I=$(id -un)\r");
    await w.waitFor(`I=${user}`);
    await t.close();
  });

  test("agent auth: a real ssh-agent holding the key (IdentityAgent from the config)", async () => {
    using agentHome = tempDir();
    mkdirSync(join(agentHome.path, ".ssh"));
    const key = makeKey(join(agentHome.path, "agent_key"));
    sshd.authorize(key.pub);
    await using agent = await startAgent(agentHome.path);
    agent.add(key.path);
    const config = join(agentHome.path, ".ssh", "config");
    writeFileSync(config, `Host *\n  IdentityAgent ${agent.socket}\n`);
    writeFileSync(join(agentHome.path, ".ssh", "known_hosts"), `${knownHostsLine(sshd)}\n`);
    const t = await openSshTransport({ ...base(), home: agentHome.path, userConfigFile: config });
    const w = watch(t);
    expect(t.authMethod).toBe("publickey (agent)");
    await send(t, "echo AGENT_OK\r");
    await w.waitFor("AGENT_OK");
    await t.close();
  });

  test("encrypted key: used with the passphrase, asked through askPassphrase, skipped without", async () => {
    using dir = tempDir();
    const key = makeKey(join(dir.path, "enc_key"), { passphrase: "s3cret phrase" });
    sshd.authorize(key.pub);
    const opts: SshSessionOptions = { ...base(), keyPath: key.path, home: join(dir.path, "home") };
    writeFileSync(join(dir.path, "kh"), `${knownHostsLine(sshd)}\n`);
    writeFileSync(join(dir.path, "cfg"), `UserKnownHostsFile ${join(dir.path, "kh")}\n`);
    opts.userConfigFile = join(dir.path, "cfg");

    const t1 = await openSshTransport({ ...opts, passphrase: "s3cret phrase" });
    expect(t1.authMethod).toBe(`publickey (${key.path})`);
    await t1.close();

    const asked: string[] = [];
    const t2 = await openSshTransport({ ...opts, askPassphrase: async (file) => (asked.push(file), "s3cret phrase") });
    expect(asked).toEqual([key.path]);
    await t2.close();

    const err = await connectError({ ...opts, passphrase: "wrong" });
    expect({ code: err.code, retryable: err.retryable, details: err.details }).toEqual({
      code: "SSH_AUTH_FAILED",
      retryable: false,
      details: { tried_methods: [], skipped_keys: [`${key.path} (encrypted, passphrase did not decrypt it)`] },
    });
    expect(err.message).not.toContain("wrong");
    const none = await connectError(opts);
    expect(none.details).toEqual({ tried_methods: [], skipped_keys: [`${key.path} (encrypted, no passphrase given)`] });
    expect(none.message).toContain("passphrase parameter");
  });

  test("config alias: HostName, Port, User, IdentityFile via Include and wildcard blocks", async () => {
    const aliasKey = makeKey(join(sshDir, "alias_key"));
    sshd.authorize(aliasKey.pub);
    mkdirSync(join(sshDir, "conf.d"), { recursive: true });
    writeFileSync(join(sshDir, "conf.d", "lab.conf"), `Host lab-*\n  HostName 127.0.0.1\n  Port ${sshd.port}\n`);
    resetConfig(`Include conf.d/*.conf\nHost lab-box\n  IdentityFile ~/.ssh/alias_key\n  IdentitiesOnly yes\nHost *\n  User root\n  ServerAliveInterval 5\n`);
    const t = await openSshTransport({ ...base(), host: "lab-box", port: undefined, user: undefined });
    expect({ target: t.target, auth: t.authMethod }).toEqual({ target: `root@127.0.0.1:${sshd.port}`, auth: `publickey (${aliasKey.path})` });
    await t.close();
    resetConfig();
  });

  test("ProxyJump: through a bastion sshd (chain from the config)", async () => {
    await using bastion = await startSshd();
    bastion.authorize(clientKey.pub);
    appendFileSync(knownHosts, `${knownHostsLine(bastion)}\n`);
    resetConfig(`Host bastion\n  HostName 127.0.0.1\n  Port ${bastion.port}\n  User root\nHost inner\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n  ProxyJump bastion\n`);
    const t = await openSshTransport({ ...base(), host: "inner", port: undefined, user: undefined });
    const w = watch(t);
    await send(t, "echo VIA=$SSH_CLIENT\r");
    await w.waitFor(/VIA=127\.0\.0\.1 \d+ \d+/);
    expect(bastion.log()).toContain(`Accepted publickey for root`);
    await t.close();
    resetConfig();
    resetKnownHosts();
  });

  test("ProxyJump: the jump parameter with two hops", async () => {
    await using b1 = await startSshd();
    await using b2 = await startSshd();
    b1.authorize(clientKey.pub);
    b2.authorize(clientKey.pub);
    appendFileSync(knownHosts, `${knownHostsLine(b1)}\n${knownHostsLine(b2)}\n`);
    const t = await openSshTransport({ ...base(), jump: `root@127.0.0.1:${b1.port},root@127.0.0.1:${b2.port}` });
    const w = watch(t);
    await send(t, "echo TWO_HOPS\r");
    await w.waitFor("TWO_HOPS");
    await t.close();
    resetKnownHosts();
  });

  test("known_hosts: a hashed entry is accepted", async () => {
    writeFileSync(knownHosts, `${knownHostsLine(sshd)}\n`);
    expect(spawnSync(["ssh-keygen", "-H", "-f", knownHosts]).exitCode).toBe(0);
    expect(readFileSync(knownHosts, "utf8").startsWith("|1|")).toBe(true);
    const t = await openSshTransport(base());
    await t.close();
    resetKnownHosts();
  });

  test("known_hosts: unknown host gives the fingerprint; accept_host_key trusts and records exactly that key", async () => {
    writeFileSync(knownHosts, "");
    const err = await connectError(base());
    expect({ code: err.code, retryable: err.retryable, details: err.details }).toEqual({
      code: "SSH_HOST_KEY_UNKNOWN",
      retryable: false,
      details: { fingerprint: sshd.hostKey.fingerprint, key_type: "ssh-ed25519", host: "127.0.0.1", port: sshd.port },
    });
    expect(err.message).toContain(`accept_host_key: "${sshd.hostKey.fingerprint}"`);

    const wrong = await connectError({ ...base(), acceptHostKey: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" });
    expect(wrong.code).toBe("SSH_HOST_KEY_UNKNOWN");
    expect(readFileSync(knownHosts, "utf8")).toBe("");

    const t = await openSshTransport({ ...base(), acceptHostKey: sshd.hostKey.fingerprint });
    await t.close();
    const entries = parseKnownHosts(readFileSync(knownHosts, "utf8"), knownHosts);
    expect(entries.map((e) => ({ patterns: e.patterns, type: e.keyType, key: e.key.toString("base64") }))).toEqual([
      { patterns: [`[127.0.0.1]:${sshd.port}`], type: "ssh-ed25519", key: sshd.hostKey.blob.toString("base64") },
    ]);
    const again = await openSshTransport(base());
    await again.close();
    resetKnownHosts();
  });

  test("known_hosts: a changed host key is a mismatch, bypassed only by ignore_host_key", async () => {
    using dir = tempDir();
    const other = makeKey(join(dir.path, "other"));
    writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${other.pub}\n`);
    const err = await connectError({ ...base(), acceptHostKey: sshd.hostKey.fingerprint });
    expect({ code: err.code, details: err.details }).toEqual({
      code: "SSH_HOST_KEY_MISMATCH",
      details: { fingerprint: sshd.hostKey.fingerprint, key_type: "ssh-ed25519", host: "127.0.0.1", port: sshd.port, known_hosts_file: knownHosts, known_hosts_line: 1 },
    });
    const t = await openSshTransport({ ...base(), ignoreHostKey: true });
    await t.close();
    expect(readFileSync(knownHosts, "utf8")).toBe(`[127.0.0.1]:${sshd.port} ${other.pub}\n`);

    writeFileSync(knownHosts, `${knownHostsLine(sshd)}\n@revoked * ${sshd.hostKey.pub}\n`);
    const revoked = await connectError(base());
    expect({ code: revoked.code, revoked: revoked.details?.revoked }).toEqual({ code: "SSH_HOST_KEY_MISMATCH", revoked: true });
    resetKnownHosts();
  });

  test("known_hosts: the key type listed for the host is preferred in key exchange (RSA-only entry, server also has ed25519)", async () => {
    using dir = tempDir();
    const rsaHostKey = makeKey(join(dir.path, "host_rsa"), { type: "rsa" });
    await using multi = await startSshd({ extraConfig: `HostKey ${rsaHostKey.path}` });
    multi.authorize(clientKey.pub);
    const [, b64] = rsaHostKey.pub.split(/\s+/);
    writeFileSync(knownHosts, `[127.0.0.1]:${multi.port} ssh-rsa ${b64}\n`);
    const t = await openSshTransport({ ...base(), port: multi.port });
    expect(t.hostKey).toEqual({ fingerprint: rsaHostKey.fingerprint, key_type: "ssh-rsa" });
    await t.close();
    resetKnownHosts();
  });

  test("IdentitiesOnly: agent keys that are not configured identities are not offered", async () => {
    using agentHome = tempDir();
    mkdirSync(join(agentHome.path, ".ssh"));
    const agentKey = makeKey(join(agentHome.path, "agent_only"));
    sshd.authorize(agentKey.pub);
    const configured = makeKey(join(agentHome.path, "configured"));
    await using agent = await startAgent(agentHome.path);
    agent.add(agentKey.path);
    writeFileSync(join(agentHome.path, ".ssh", "known_hosts"), `${knownHostsLine(sshd)}\n`);
    const config = join(agentHome.path, ".ssh", "config");
    writeFileSync(config, `Host *\n  IdentityAgent ${agent.socket}\n  IdentityFile ${configured.path}\n  IdentitiesOnly yes\n`);
    const err = await connectError({ ...base(), home: agentHome.path, userConfigFile: config });
    expect({ code: err.code, details: err.details }).toEqual({ code: "SSH_AUTH_FAILED", details: { tried_methods: ["publickey (agent)", `publickey (${configured.path})`] } });
    // Without IdentitiesOnly the agent's key gets in.
    writeFileSync(config, `Host *\n  IdentityAgent ${agent.socket}\n  IdentityFile ${configured.path}\n`);
    const t = await openSshTransport({ ...base(), home: agentHome.path, userConfigFile: config });
    expect(t.authMethod).toBe("publickey (agent)");
    await t.close();
  });

  test("liveness: killing the server side ends the session at once with a reason; writes fail with SESSION_CLOSED", async () => {
    const before = new Set(sshd.connectionPids());
    const t = await openSshTransport(base());
    const w = watch(t);
    await send(t, "echo READY\r");
    await w.waitFor("READY");
    const mine = sshd.connectionPids().filter((p) => !before.has(p));
    expect(mine.length).toBe(1);
    process.kill(mine[0] as number, "SIGKILL");
    const exit = await w.exit;
    expect(exit).toEqual({ code: null, signal: null, reason: `connection to root@127.0.0.1:${sshd.port} lost` });
    const err = await t.write(enc.encode("echo\r")).catch((e: unknown) => e);
    expect(err instanceof PtyError ? err.code : err).toBe("SESSION_CLOSED");
    await t.close();
  });

  test("liveness: a silent dead link is detected by keepalives (ServerAliveInterval/CountMax)", async () => {
    resetConfig("Host *\n  ServerAliveInterval 1\n  ServerAliveCountMax 2\n");
    const before = new Set(sshd.connectionPids());
    const t = await openSshTransport(base());
    const w = watch(t);
    await send(t, "echo READY\r");
    await w.waitFor("READY");
    const mine = sshd.connectionPids().filter((p) => !before.has(p));
    expect(mine.length).toBe(1);
    const pid = mine[0] as number;
    // A frozen server: TCP stays up, nothing answers (like a dropped VPN).
    process.kill(pid, "SIGSTOP");
    try {
      const exit = await w.exit;
      expect({ code: exit.code, signal: exit.signal, lost: exit.reason?.startsWith(`connection to root@127.0.0.1:${sshd.port} lost`) }).toEqual({ code: null, signal: null, lost: true });
    } finally {
      // SIGKILL ends a stopped process too; sshd may reap it at once, so no second signal after it
      // (a SIGCONT then failed with ESRCH in 2 of 8 loaded runs).
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await t.close();
    resetConfig();
  });

  test("tail -f of a remote file, then ctrl+c returns to the shell", async () => {
    using dir = tempDir();
    const file = join(dir.path, "app.log");
    writeFileSync(file, "first\n");
    const t = await openSshTransport(base());
    const w = watch(t);
    await send(t, `tail -f ${file}\r`);
    await w.waitFor("first");
    appendFileSync(file, "ERROR disk full\n");
    await w.waitFor("ERROR disk full");
    await send(t, "\x03");
    await send(t, "echo AFTER_$((6*7))\r");
    await w.waitFor("AFTER_42");
    await t.close();
  });

  test("errors: wrong password, wrong user, closed port", async () => {
    const { user } = ensurePasswordUser();
    const noKeys = noKeysHome();
    const wrongPw = await connectError({ ...base(), user, password: "not-the-password", home: noKeys });
    expect({ code: wrongPw.code, retryable: wrongPw.retryable, details: wrongPw.details }).toEqual({ code: "SSH_AUTH_FAILED", retryable: false, details: { tried_methods: ["password"] } });
    expect(wrongPw.message).not.toContain("not-the-password");

    const wrongUser = await connectError({ ...base(), user: "no-such-user-x" });
    expect({ code: wrongUser.code, details: wrongUser.details }).toEqual({ code: "SSH_AUTH_FAILED", details: { tried_methods: [`publickey (${clientKey.path})`] } });

    const closed = await connectError({ ...base(), port: await freePort() });
    expect({ code: closed.code, retryable: closed.retryable }).toEqual({ code: "SSH_CONN_FAILED", retryable: true });
    expect(closed.message).toContain("refused");

    const dns = await connectError({ ...base(), host: "no-such-host.invalid", connectTimeoutMs: 5000 });
    expect({ code: dns.code, retryable: dns.retryable }).toEqual({ code: "SSH_CONN_FAILED", retryable: true });
  });

  test("errors: a server that never speaks SSH times out with SSH_CONN_FAILED", async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    try {
      const err = await connectError({ ...base(), port, connectTimeoutMs: 300 });
      expect({ code: err.code, retryable: err.retryable, message: err.message }).toEqual({
        code: "SSH_CONN_FAILED",
        retryable: true,
        message: `Connecting to root@127.0.0.1:${port} timed out after 0.3 s. Check that the host is up and reachable (VPN, firewall, ProxyJump), or raise connect_timeout.`,
      });
    } finally {
      silent.close();
    }
  });
});
