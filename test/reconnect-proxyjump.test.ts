// Reconnecting through a ProxyJump chain, end to end: the compiled binary driven over MCP, two real
// sshd in network namespaces — a jump host reachable from here, and a target reachable ONLY from the
// jump host's namespace (netnsBehind: no route between it and us) — an ~/.ssh/config alias with
// ProxyJump, the link cut at the jump host or the target, and the session brought back through the
// same chain: reconnect_session for an SSH shell, the mirror's own reconnect (and a new server's
// reattach) for a persistent session. Host keys are checked on every hop of every reconnect.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "bun";
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { binary, McpHarness } from "./harness/mcp.ts";
import { netnsAvailable, netnsBehind, netnsHost } from "./harness/netns.ts";
import { knownHostsLine, makeKey, startSshd, tempDir, type Sshd } from "./harness/sshd.ts";

setDefaultTimeout(120_000);

const home = tempDir(`pty-mcp-proxyjump-${process.pid}-`);
const sshDir = join(home.path, ".ssh");
const knownHosts = join(sshDir, "known_hosts");
/** The remote pty-mcp of persistent sessions: a private copy of dist/pty-mcp (found through PTY_MCP_REMOTE_PATH, no deploy). */
const remoteBinary = join(home.path, "bin", "pty-mcp");
let pub: string;
let h: McpHarness;
let chains = 0;

const startServer = () => McpHarness.start({ env: { HOME: home.path, XDG_CONFIG_HOME: join(home.path, ".config"), SSH_AUTH_SOCK: "", PTY_MCP_REMOTE_PATH: remoteBinary } });

beforeAll(async () => {
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  mkdirSync(join(home.path, "bin"));
  copyFileSync(binary, remoteBinary);
  pub = makeKey(join(sshDir, "id_ed25519")).pub;
  writeFileSync(knownHosts, "");
  writeFileSync(join(sshDir, "config"), "");
  h = await startServer();
});

afterAll(async () => {
  await h?.close();
  home[Symbol.dispose]();
});

interface Chain extends AsyncDisposable {
  /** The ssh_config alias of the target (ProxyJump names the jump host's alias). */
  alias: string;
  jump: Sshd;
  target: Sshd;
  /** How our messages name the hops. */
  jumpLabel: string;
  targetLabel: string;
  /** `user@address:port` of the final hop (the session's target). */
  targetAddress: string;
  /** The jump host's address on the link to the target: every connection the target sees comes from there. */
  jumpInside: string;
  /** The known_hosts line (1-based) of each hop. */
  jumpLine: number;
  targetLine: number;
  /** The remote daemon's runtime dir (persistent sessions). */
  run: string;
  /** Stops the hop's sshd (its connections with it) and starts it again on the same address and port, with this host key (default: a new one). */
  restartJump(hostKeyPath?: string): Promise<Sshd>;
  restartTarget(hostKeyPath?: string): Promise<Sshd>;
  /** Cuts the link at the jump host: SIGKILLs the process serving our one connection there. */
  killJumpConnection(): Promise<void>;
}

/** A jump host and a target behind it, both trusted in known_hosts, and the config aliases. */
async function chain(options: { targetHome?: string } = {}): Promise<Chain> {
  const n = ++chains;
  const jumpNet = netnsHost();
  const targetNet = netnsBehind(jumpNet);
  const sshds: Sshd[] = [];
  const run = join(home.path, `run-${n}`);
  mkdirSync(run, { mode: 0o700 });
  // The target's logins get a HOME and runtime dir of their own: a persistent session's daemon lives there.
  const targetConfig = `SetEnv HOME=${options.targetHome ?? home.path} XDG_RUNTIME_DIR=${run}`;
  const startJump = async (port?: number, hostKeyPath?: string) => {
    const sshd = await startSshd({ prefix: jumpNet.prefix, listenAddress: jumpNet.address, ...(port === undefined ? {} : { port }), ...(hostKeyPath === undefined ? {} : { hostKeyPath }) });
    sshds.push(sshd);
    sshd.authorize(pub);
    return sshd;
  };
  const startTarget = async (port?: number, hostKeyPath?: string) => {
    const sshd = await startSshd({
      prefix: targetNet.prefix,
      listenAddress: targetNet.address,
      unreachable: true,
      extraConfig: targetConfig,
      ...(port === undefined ? {} : { port }),
      ...(hostKeyPath === undefined ? {} : { hostKeyPath }),
    });
    sshds.push(sshd);
    sshd.authorize(pub);
    return sshd;
  };
  try {
    const jump = await startJump();
    const target = await startTarget();
    appendFileSync(knownHosts, `${knownHostsLine(jump, jumpNet.address)}\n${knownHostsLine(target, targetNet.address)}\n`);
    const lines = readFileSync(knownHosts, "utf8").split("\n");
    const jumpAlias = `pj-jump-${n}`;
    const alias = `pj-target-${n}`;
    appendFileSync(
      join(sshDir, "config"),
      `Host ${jumpAlias}\n  HostName ${jumpNet.address}\n  Port ${jump.port}\n  User root\n` + `Host ${alias}\n  HostName ${targetNet.address}\n  Port ${target.port}\n  User root\n  ProxyJump ${jumpAlias}\n`,
    );
    const jumpLabel = `root@${jumpAlias} (${jumpNet.address}):${jump.port}`;
    const c: Chain = {
      alias,
      jump,
      target,
      jumpLabel,
      targetLabel: `root@${alias} (${targetNet.address}):${target.port} via ${jumpLabel}`,
      targetAddress: `root@${targetNet.address}:${target.port}`,
      jumpInside: targetNet.frontAddress,
      jumpLine: lines.indexOf(knownHostsLine(jump, jumpNet.address)) + 1,
      targetLine: lines.indexOf(knownHostsLine(target, targetNet.address)) + 1,
      run,
      restartJump: async (hostKeyPath) => {
        await c.jump.stop();
        c.jump = await startJump(c.jump.port, hostKeyPath);
        return c.jump;
      },
      restartTarget: async (hostKeyPath) => {
        await c.target.stop();
        c.target = await startTarget(c.target.port, hostKeyPath);
        return c.target;
      },
      killJumpConnection: async () => {
        // The banner probe of startSshd may still be winding down: wait until ours is the one connection.
        let pids = c.jump.connectionPids();
        for (let i = 0; pids.length !== 1 && i < 400; i++) {
          await Bun.sleep(25);
          pids = c.jump.connectionPids();
        }
        expect(pids.length).toBe(1);
        try {
          process.kill(pids[0] as number, "SIGKILL");
        } catch {
          // Already gone: the link is cut either way.
        }
      },
      [Symbol.asyncDispose]: async () => {
        // A persistent session's daemon ran in the target's namespace; it must not outlive the test.
        spawnSync(["sh", "-c", `pid=$(cat '${join(run, "pty-mcp", "daemon.pid")}' 2>/dev/null) && kill $pid`]);
        for (const sshd of sshds) await sshd[Symbol.asyncDispose]();
        targetNet[Symbol.dispose]();
        jumpNet[Symbol.dispose]();
      },
    };
    return c;
  } catch (err) {
    for (const sshd of sshds) await sshd[Symbol.asyncDispose]();
    targetNet[Symbol.dispose]();
    jumpNet[Symbol.dispose]();
    throw err;
  }
}

/** The peers the target's sshd saw, one per TCP connection (LogLevel VERBOSE logs each). */
function peersOf(sshd: Sshd): string[] {
  return [...sshd.log().matchAll(/Connection from (\S+) port \d+ on /g)].map((m) => m[1] as string);
}

function logins(sshd: Sshd): number {
  return sshd.log().match(/Accepted publickey for root /g)?.length ?? 0;
}

/** Blocks until the session's link has ended (a wait ends at once with is_alive: false). */
async function linkEnded(id: string): Promise<void> {
  const r = await h.call<{ is_alive: boolean }>("read_output", { session_id: id, wait_for: "never printed", timeout: 60 });
  expect(r.is_alive).toBe(false);
}

async function everything(id: string): Promise<string> {
  return (await h.call<{ output: string }>("read_output", { session_id: id, since_cursor: 0, max_bytes: 1_000_000 })).output;
}

const gapLines = (output: string, target: string) =>
  output.match(new RegExp(`^\\[pty-mcp: link to ${target.replace(/[.]/g, "\\.")} ended [^\\]]+ a new shell follows\\]$`, "gm")) ?? [];

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const startsWith = (text: string) => expect.stringMatching(new RegExp(`^${escape(text)}`));

/** What a command printed (the prompt follows). */
const printed = (text: string) => expect.stringMatching(new RegExp(`^${escape(text)}(?!\n)`));

/** A changed hop key: the error, as the agent sees it. */
function mismatch(label: string, fingerprint: string, line: number) {
  return {
    code: "SSH_HOST_KEY_MISMATCH",
    retryable: false,
    fingerprint,
    message: startsWith(`HOST KEY CHANGED for ${label}: it now presents ssh-ed25519 ${fingerprint}, which differs from ${knownHosts}:${line}. `),
  };
}

describe.skipIf(!netnsAvailable)("reconnect_session through a ProxyJump chain", () => {
  test("the link cut at the jump host: reconnected through the same chain — same id and buffer, one gap line, a fresh hooked shell; the target only ever sees the jump host", async () => {
    await using c = await chain();
    const id = (await h.call<{ session_id: string }>("create_ssh_session", { host: c.alias })).session_id;
    expect(await h.call("send_input", { session_id: id, input: 'X=before; echo "[$X]"' })).toMatchObject({ output: printed("[before]\n"), exit_code: 0 });
    await c.killJumpConnection();
    await linkEnded(id);
    const r = await h.call<Record<string, unknown>>("reconnect_session", { session_id: id, timeout: 60 });
    expect(r).toEqual({ reconnected: true, down_for_ms: expect.any(Number), attempts: expect.any(Number), cursor: expect.any(Number) });
    // A new shell (the variable is gone), hooked again (exit codes).
    expect(await h.call("send_input", { session_id: id, input: 'echo "[$X]"; echo after; false' })).toMatchObject({ output: printed("[]\nafter\n"), exit_code: 1, is_alive: true });
    const all = await everything(id);
    expect(gapLines(all, c.targetAddress).length).toBe(1);
    const gap = all.indexOf(gapLines(all, c.targetAddress)[0] as string);
    expect([all.indexOf("[before]") < gap, gap < all.indexOf("after\n")]).toEqual([true, true]);
    expect(await h.call("get_session_state", { session_id: id })).toMatchObject({ session_id: id, is_alive: true, shell_integration: true, target: c.targetAddress });
    // Both logins at the target came through the jump host (it is reachable from nowhere else).
    expect([peersOf(c.target), logins(c.jump), logins(c.target)]).toEqual([[c.jumpInside, c.jumpInside], 2, 2]);
    await h.call("close_session", { session_id: id });
  });

  test("the jump host down: the reconnect ends with the attempts and the last error naming it; back with another host key: SSH_HOST_KEY_MISMATCH naming the jump host, final, the target never contacted; back with its own key: reconnected", async () => {
    await using c = await chain();
    const id = (await h.call<{ session_id: string }>("create_ssh_session", { host: c.alias })).session_id;
    expect(await h.call("send_input", { session_id: id, input: "echo before" })).toMatchObject({ output: printed("before\n"), exit_code: 0 });
    const jumpKey = c.jump.hostKey.path;
    await c.jump.stop();
    await linkEnded(id);

    const down = await h.call<Record<string, unknown>>("reconnect_session", { session_id: id, timeout: 4 });
    expect(down).toEqual({
      reconnected: false,
      down_for_ms: expect.any(Number),
      attempts: expect.any(Number),
      cursor: expect.any(Number),
      timed_out: true,
      last_error: { code: "SSH_CONN_FAILED", message: `Connection to ${c.jumpLabel} refused: nothing listens on port ${c.jump.port}. Check the port and that sshd runs.` },
    });
    expect(down.attempts as number).toBeGreaterThanOrEqual(2);

    const cursor = (await h.call<{ cursor: number }>("get_session_state", { session_id: id })).cursor;
    const other = await c.restartJump();
    const err = await h.callError("reconnect_session", { session_id: id, timeout: 30 });
    expect({ code: err.code, retryable: err.retryable, fingerprint: err.fingerprint, message: err.message }).toEqual(mismatch(c.jumpLabel, other.hostKey.fingerprint, c.jumpLine));
    // Refused at the first hop: nothing logged in there, nothing reached the target, nothing was added to the session.
    expect([logins(other), peersOf(c.target).length]).toEqual([0, 1]);
    expect(await h.call("get_session_state", { session_id: id })).toMatchObject({ is_alive: false, cursor });

    await c.restartJump(jumpKey);
    expect(await h.call("reconnect_session", { session_id: id, timeout: 60 })).toMatchObject({ reconnected: true });
    expect(await h.call("send_input", { session_id: id, input: "echo after" })).toMatchObject({ output: printed("after\n"), exit_code: 0, is_alive: true });
    const all = await everything(id);
    expect([all.includes("before\n"), gapLines(all, c.targetAddress).length, peersOf(c.target)]).toEqual([true, 1, [c.jumpInside, c.jumpInside]]);
    await h.call("close_session", { session_id: id });
  });

  test("the target down behind a live jump host: the last error says the jump host could not reach it; back with another host key: SSH_HOST_KEY_MISMATCH naming the target via the jump host, final, no login; back with its own key: reconnected", async () => {
    await using c = await chain();
    const id = (await h.call<{ session_id: string }>("create_ssh_session", { host: c.alias })).session_id;
    expect(await h.call("send_input", { session_id: id, input: "echo before" })).toMatchObject({ output: printed("before\n"), exit_code: 0 });
    const targetKey = c.target.hostKey.path;
    const { port } = c.target;
    await c.target.stop();
    await linkEnded(id);

    // A later attempt has only what is left of the timeout for its connect; if the timeout cuts it short (a
    // loaded machine), last_error is still the jump host's own answer of an earlier attempt.
    const down = await h.call<Record<string, unknown>>("reconnect_session", { session_id: id, timeout: 5 });
    expect(down).toMatchObject({
      reconnected: false,
      timed_out: true,
      last_error: { code: "SSH_CONN_FAILED", message: startsWith(`Jump host ${c.jumpLabel} could not reach ${c.targetAddress.slice("root@".length)} (`) },
    });

    const cursor = (await h.call<{ cursor: number }>("get_session_state", { session_id: id })).cursor;
    const other = await c.restartTarget();
    expect(other.port).toBe(port);
    const err = await h.callError("reconnect_session", { session_id: id, timeout: 30 });
    expect({ code: err.code, retryable: err.retryable, fingerprint: err.fingerprint, message: err.message }).toEqual(mismatch(c.targetLabel, other.hostKey.fingerprint, c.targetLine));
    // The other key was seen through the jump host, and refused before any login.
    expect([peersOf(other), logins(other)]).toEqual([[c.jumpInside], 0]);
    expect(await h.call("get_session_state", { session_id: id })).toMatchObject({ is_alive: false, cursor });

    const back = await c.restartTarget(targetKey);
    expect(await h.call("reconnect_session", { session_id: id, timeout: 60 })).toMatchObject({ reconnected: true });
    expect(await h.call("send_input", { session_id: id, input: "echo after" })).toMatchObject({ output: printed("after\n"), exit_code: 0, is_alive: true });
    const all = await everything(id);
    expect([all.includes("before\n"), gapLines(all, c.targetAddress).length, peersOf(back), logins(back)]).toEqual([true, 1, [c.jumpInside], 1]);
    await h.call("close_session", { session_id: id });
  });
});

describe.skipIf(!netnsAvailable)("a persistent SSH session through a ProxyJump chain", () => {
  /** Prints tick 1 … tick 8, one a second, then exits 4. */
  const TICKER = "i=1; while [ $i -le 8 ]; do echo tick $i; i=$((i+1)); sleep 1; done; exit 4";
  const ticks = Array.from({ length: 8 }, (_, i) => `tick ${i + 1}\n`).join("");

  /** Waits until the mirror says its link to the remote daemon is down. */
  async function disconnected(id: string): Promise<void> {
    let state = await h.call<Record<string, unknown>>("get_session_state", { session_id: id });
    for (let i = 0; state.connected !== false && i < 400; i++) {
      await Bun.sleep(25);
      state = await h.call<Record<string, unknown>>("get_session_state", { session_id: id });
    }
    expect(state).toMatchObject({ connected: false });
  }

  test("the link cut at the jump host: the mirror reconnects through the chain by itself (every tick once, exit code 4); a new server reattaches by id through the alias", async () => {
    await using c = await chain();
    const s = await h.call<Record<string, unknown>>("create_ssh_session", { host: c.alias, persistent: true, command: TICKER });
    expect(s).toMatchObject({ type: "ssh", target: c.targetAddress, persistent: true, connected: true, remote_path: remoteBinary });
    const id = s.session_id as string;
    expect((await h.call<{ matched: boolean }>("read_output", { session_id: id, wait_for: "tick 2", timeout: 30 })).matched).toBe(true);
    await c.killJumpConnection();
    const ended = await h.call<{ matched: boolean; is_alive: boolean }>("read_output", { session_id: id, wait_for: "never printed", timeout: 60 });
    expect(ended).toMatchObject({ matched: false, is_alive: false });
    expect(await h.call("get_session_state", { session_id: id })).toMatchObject({ is_alive: false, exit_code: 4, connected: true });
    expect(await everything(id)).toBe(ticks);
    // The mirror's second connection went through the jump host too.
    // (A mirror retries on its own: a failed attempt may have added a connection, so "at least".)
    const peers = peersOf(c.target);
    expect([new Set(peers), peers.length >= 2, logins(c.jump) >= 2]).toEqual([new Set([c.jumpInside]), true, true]);

    await using h2 = await startServer();
    const again = await h2.call<Record<string, unknown>>("create_ssh_session", { host: c.alias, session_id: id });
    expect(again).toMatchObject({ session_id: id, persistent: true, reattached: true, connected: true, target: c.targetAddress });
    expect((await h2.call<{ output: string }>("read_output", { session_id: id, since_cursor: 0 })).output).toBe(ticks);
    expect(await h2.call("get_session_state", { session_id: id })).toMatchObject({ is_alive: false, exit_code: 4 });
    expect([new Set(peersOf(c.target)), peersOf(c.target).length > peers.length]).toEqual([new Set([c.jumpInside]), true]);
    await h2.call("close_session", { session_id: id });
    await h.callRaw("close_session", { session_id: id });
  });

  test("a fresh host behind the jump host: the first persistent use deploys the binary through the chain, then runs the session there", async () => {
    using fresh = tempDir(`pty-mcp-proxyjump-fresh-${process.pid}-`);
    await using c = await chain({ targetHome: fresh.path });
    // This server finds no pty-mcp on the host (no PTY_MCP_REMOTE_PATH) and installs its own binary.
    await using h3 = await McpHarness.start({ env: { HOME: home.path, XDG_CONFIG_HOME: join(home.path, ".config"), SSH_AUTH_SOCK: "", PTY_MCP_RELEASE_DIR: "" } });
    const version = spawnSync([binary, "--version"]).stdout.toString().trim();
    const s = await h3.call<Record<string, unknown>>("create_ssh_session", { host: c.alias, persistent: true, command: "echo deployed-$((6*7)); sleep 60" });
    expect(s).toMatchObject({ persistent: true, connected: true, target: c.targetAddress, remote_path: `${fresh.path}/.local/bin/pty-mcp`, deployed: { version: version.replace("pty-mcp ", "") } });
    expect(spawnSync([join(fresh.path, ".local/bin/pty-mcp"), "--version"]).stdout.toString().trim()).toBe(version);
    expect(await h3.call("read_output", { session_id: s.session_id, wait_for: "^deployed-42$", timeout: 30 })).toMatchObject({ matched: true });
    expect(new Set(peersOf(c.target))).toEqual(new Set([c.jumpInside]));
    await h3.call("close_session", { session_id: s.session_id });
  });

  test("host keys on every hop of the mirror's reconnect: the jump host's, then the target's key changed → input refused with SSH_HOST_KEY_MISMATCH naming the hop, final, nothing typed; a new server's reattach is refused alike; both keys back → the same session goes on", async () => {
    await using c = await chain();
    const id = (await h.call<{ session_id: string }>("create_ssh_session", { host: c.alias, persistent: true })).session_id;
    expect(await h.call("send_input", { session_id: id, input: "echo one", wait_for: "^one$" })).toMatchObject({ matched: true });
    const jumpKey = c.jump.hostKey.path;
    const targetKey = c.target.hostKey.path;

    await c.jump.stop();
    await disconnected(id);
    const otherJump = await c.restartJump();
    const viaMirror = await h.callError("send_input", { session_id: id, input: "echo typed-with-the-jump-key-changed" });
    expect({ code: viaMirror.code, retryable: viaMirror.retryable, fingerprint: viaMirror.fingerprint }).toEqual({ code: "SSH_HOST_KEY_MISMATCH", retryable: false, fingerprint: otherJump.hostKey.fingerprint });
    expect(viaMirror.message).toContain(`HOST KEY CHANGED for ${c.jumpLabel}: it now presents ssh-ed25519 ${otherJump.hostKey.fingerprint}, which differs from ${knownHosts}:${c.jumpLine}.`);
    {
      await using h2 = await startServer();
      const err = await h2.callError("create_ssh_session", { host: c.alias, session_id: id });
      expect({ code: err.code, retryable: err.retryable, fingerprint: err.fingerprint, message: err.message }).toEqual(mismatch(c.jumpLabel, otherJump.hostKey.fingerprint, c.jumpLine));
    }
    expect([logins(otherJump), peersOf(c.target).length]).toEqual([0, 1]);

    await c.target.stop();
    await c.restartJump(jumpKey);
    const otherTarget = await c.restartTarget();
    const viaTarget = await h.callError("send_input", { session_id: id, input: "echo typed-with-the-target-key-changed" });
    expect({ code: viaTarget.code, retryable: viaTarget.retryable, fingerprint: viaTarget.fingerprint }).toEqual({ code: "SSH_HOST_KEY_MISMATCH", retryable: false, fingerprint: otherTarget.hostKey.fingerprint });
    expect(viaTarget.message).toContain(`HOST KEY CHANGED for ${c.targetLabel}: it now presents ssh-ed25519 ${otherTarget.hostKey.fingerprint}, which differs from ${knownHosts}:${c.targetLine}.`);
    {
      await using h2 = await startServer();
      const err = await h2.callError("create_ssh_session", { host: c.alias, session_id: id });
      expect({ code: err.code, retryable: err.retryable, fingerprint: err.fingerprint, message: err.message }).toEqual(mismatch(c.targetLabel, otherTarget.hostKey.fingerprint, c.targetLine));
    }
    expect(logins(otherTarget)).toBe(0);
    // get_session_state says why the mirror is not back: the target's changed key, seen via the jump host.
    const state = await h.call<Record<string, unknown>>("get_session_state", { session_id: id });
    expect(state).toMatchObject({
      connected: false,
      reconnect: { since: expect.any(String), attempts: expect.any(Number), last_error: { ...mismatch(c.targetLabel, otherTarget.hostKey.fingerprint, c.targetLine), known_hosts_line: c.targetLine } },
    });

    const back = await c.restartTarget(targetKey);
    expect(await h.call("send_input", { session_id: id, input: "echo two", wait_for: "^two$" })).toMatchObject({ matched: true });
    const all = await everything(id);
    expect([all.includes("one\n"), all.includes("two\n"), all.includes("typed-with")]).toEqual([true, true, false]);
    expect([logins(back) >= 1, new Set(peersOf(back))]).toEqual([true, new Set([c.jumpInside])]);
    await h.call("close_session", { session_id: id });
  });
});

describe.skipIf(!netnsAvailable)("transfer_file {session_id} through a ProxyJump chain", () => {
  test("a session created through the alias: transfer_file {session_id} reaches its host through the same jump host (the address alone is unreachable from here), both ways", async () => {
    await using c = await chain();
    const id = (await h.call<{ session_id: string }>("create_ssh_session", { host: c.alias, shell_integration: false })).session_id;
    const local = join(home.path, `transfer-${process.pid}.txt`);
    const remote = join(home.path, `transfer-${process.pid}-on-target.txt`);
    const back = join(home.path, `transfer-${process.pid}-back.txt`);
    const content = "through the jump host\n".repeat(1000);
    writeFileSync(local, content);
    const sha256 = new Bun.CryptoHasher("sha256").update(content).digest("hex");
    const up = await h.call("transfer_file", { direction: "upload", session_id: id, local_path: local, remote_path: remote });
    expect(up).toMatchObject({ summary: { hosts: 1, ok: 1, failed: 0 }, results: [{ host: c.targetAddress, ok: true, bytes: content.length, sha256 }] });
    const down = await h.call("transfer_file", { direction: "download", session_id: id, local_path: back, remote_path: remote });
    expect(down).toMatchObject({ summary: { hosts: 1, ok: 1, failed: 0 }, results: [{ host: c.targetAddress, ok: true, sha256 }] });
    expect([readFileSync(remote, "utf8") === content, readFileSync(back, "utf8") === content]).toEqual([true, true]);
    // The session's login and the transfers' (one pooled connection) at the target, all from the jump host's side.
    expect([peersOf(c.target), logins(c.target)]).toEqual([[c.jumpInside, c.jumpInside], 2]);
    await h.call("close_session", { session_id: id });
  });
});
