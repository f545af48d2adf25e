/**
 * Remote hosts (issue 7): `pty-mcp deploy` and persistent SSH sessions, against a real sshd on
 * loopback. The "remote host" is a temp HOME (sshd's SetEnv gives the login that HOME and its own
 * XDG_RUNTIME_DIR, so the remote daemon's socket is the test's own); the remote pty-mcp is
 * dist/pty-mcp itself, copied there by deploy.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "bun";
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { compile } from "../scripts/build.ts";
import { connectDaemon } from "../src/daemon-client/client.ts";
import { deployBinary } from "../src/deploy/deploy.ts";
import { openRemoteDaemon } from "../src/persistent/ssh-link.ts";
import { connectSsh } from "../src/ssh/ssh-transport.ts";
import { binary, McpHarness, untilState } from "./harness/mcp.ts";
import { knownHostsLine, makeKey, startSshd, tempDir, type Sshd } from "./harness/sshd.ts";

setDefaultTimeout(120_000);

const local = tempDir("pty-mcp-remote-local-");
const remote = tempDir("pty-mcp-remote-host-");
const releaseDir = join(local.path, "release");
const sshDir = join(local.path, ".ssh");
/** A private copy of dist/pty-mcp: the deploy tests compare digests, and others may rebuild dist/ meanwhile. */
const self = join(local.path, "bin", "pty-mcp");
let sshd: Sshd;
let version: string;

function sha256(path: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
type LinkDown = { since: string; attempts: number; last_error?: { code: string; message: string; retryable: boolean } & Record<string, unknown> };
/** get_session_state's `reconnect` (only while a persistent link is down). */
const reconnectOf = (state: Record<string, unknown>) => state.reconnect as LinkDown | undefined;

/** `pty-mcp deploy` through the binary, with the test's HOME (keys, known_hosts). */
function deployCli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync([self, "deploy", "127.0.0.1", "--port", String(sshd.port), "--user", "root", ...args], {
    env: { ...process.env, HOME: local.path, SSH_AUTH_SOCK: "", PTY_MCP_RELEASE_DIR: "" },
  });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

beforeAll(async () => {
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  mkdirSync(join(remote.path, "run"), { recursive: true, mode: 0o700 });
  mkdirSync(releaseDir);
  mkdirSync(dirname(self));
  copyFileSync(binary, self);
  symlinkSync(self, join(releaseDir, "pty-mcp-linux-x64"));
  symlinkSync(self, join(releaseDir, "pty-mcp-linux-x64-baseline"));
  sshd = await startSshd({ extraConfig: `SetEnv HOME=${remote.path} XDG_RUNTIME_DIR=${join(remote.path, "run")}` });
  const key = makeKey(join(sshDir, "id_ed25519"));
  sshd.authorize(key.pub);
  writeFileSync(join(sshDir, "known_hosts"), `${knownHostsLine(sshd)}\n`);
  version = spawnSync([self, "--version"]).stdout.toString().trim();
});

afterAll(async () => {
  // The remote daemon runs on the test's socket; stop it so nothing outlives the test.
  spawnSync(["sh", "-c", `pid=$(cat '${join(remote.path, "run", "pty-mcp", "daemon.pid")}' 2>/dev/null) && kill $pid`]);
  await sshd?.[Symbol.asyncDispose]();
  remote[Symbol.dispose]();
  local[Symbol.dispose]();
});

describe("deploy", () => {
  test("to an empty path installs the running binary (SHA-256 equal, 0755); a second deploy is a no-op", async () => {
    const dest = join(remote.path, "opt", "bin", "pty-mcp");
    const first = deployCli(["--path", dest, "--json"]);
    expect(first.stderr).toContain("uploading");
    expect(first.code).toBe(0);
    const result = JSON.parse(first.stdout);
    expect(result).toEqual({
      path: dest,
      action: "installed",
      version: version.replace("pty-mcp ", ""),
      target: "linux-x64",
      source: self,
      bytes: readFileSync(self).length,
      compressed_bytes: expect.any(Number),
    });
    expect(result.compressed_bytes).toBeLessThan(result.bytes);
    expect(sha256(dest)).toBe(sha256(self));
    expect(spawnSync(["stat", "-c", "%a", dest]).stdout.toString().trim()).toBe("755");
    expect(spawnSync([dest, "--version"]).stdout.toString().trim()).toBe(version);
    expect(readdirSync(join(remote.path, "opt", "bin"))).toEqual(["pty-mcp"]);

    const second = deployCli(["--path", dest]);
    expect(second).toEqual({ code: 0, stdout: `root@127.0.0.1:${sshd.port}: ${dest} is already ${version}\n`, stderr: expect.any(String) });
    expect(second.stderr).not.toContain("uploading");
  });

  test("the default path is ~/.local/bin/pty-mcp of the remote HOME", () => {
    const r = deployCli([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`root@127.0.0.1:${sshd.port}: installed ${version} (linux-x64) at ${remote.path}/.local/bin/pty-mcp\n`);
    expect(sha256(join(remote.path, ".local/bin/pty-mcp"))).toBe(sha256(self));
  });

  test("a corrupted upload is detected on the host and not installed", async () => {
    const dir = join(remote.path, "corrupt");
    const dest = join(dir, "pty-mcp");
    const connection = await connectSsh({ host: "127.0.0.1", port: sshd.port, user: "root", home: local.path, userConfigFile: join(sshDir, "config") });
    try {
      let uploaded = "";
      const error = await deployBinary(
        { client: connection.client, label: connection.target },
        {
          path: dest,
          releaseDir,
          openDaemon: openRemoteDaemon,
          afterUpload: (file) => {
            uploaded = file;
            // Flip one byte in the middle of what arrived, as a bad link or disk would.
            const bytes = readFileSync(file);
            bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
            writeFileSync(file, bytes);
          },
        },
      ).then(
        () => undefined,
        (err: unknown) => err as { code: string; message: string },
      );
      expect(uploaded.startsWith(`${dir}/.pty-mcp.`)).toBe(true);
      expect(error?.code).toBe("DEPLOY_FAILED");
      expect(error?.message).toContain("the upload arrived corrupted");
      expect(error?.message).toContain("nothing was installed");
      expect(existsSync(dest)).toBe(false);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      connection.end();
    }
  });
});

/** A tmpfs mounted for one test (needs root; the tests using it are skipped elsewhere). */
function mountTmpfs(dir: string, options: string): (Disposable & { ok: boolean }) {
  mkdirSync(dir, { recursive: true });
  const ok = spawnSync(["mount", "-t", "tmpfs", "-o", options, "tmpfs", dir]).exitCode === 0;
  return { ok, [Symbol.dispose]: () => void (ok && spawnSync(["umount", "-l", dir])) };
}

const mountOk = (() => {
  using probe = tempDir("pty-mcp-remote-mount-");
  using m = mountTmpfs(join(probe.path, "m"), "size=1m");
  return m.ok;
})();

describe("deploy failures", () => {
  test.skipIf(!mountOk)("a noexec directory: DEPLOY_FAILED says so, nothing is left behind", () => {
    const dir = join(remote.path, "noexec");
    using _mount = mountTmpfs(dir, "noexec,size=400m");
    const r = deployCli(["--path", join(dir, "pty-mcp")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`pty-mcp deploy: DEPLOY_FAILED: Deploying pty-mcp to root@127.0.0.1:${sshd.port}: ${dir} does not allow running programs (mounted noexec?)`);
    expect(readdirSync(dir)).toEqual([]);
  });

  test.skipIf(!mountOk)("no space: DEPLOY_FAILED with the free and needed sizes, before uploading", () => {
    const dir = join(remote.path, "small");
    using _mount = mountTmpfs(dir, "size=20m");
    const r = deployCli(["--path", join(dir, "pty-mcp")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`DEPLOY_FAILED: Deploying pty-mcp to root@127\\.0\\.0\\.1:${sshd.port}: no space: ${dir} has 20 MB free, the upload needs \\d+ MB\\.`));
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("persistent SSH sessions", () => {
  /** Prints tick 1 … tick 6, one a second, then exits 7. */
  const TICKER = "i=1; while [ $i -le 6 ]; do echo tick $i; i=$((i+1)); sleep 1; done; exit 7";
  const ticks = "tick 1\ntick 2\ntick 3\ntick 4\ntick 5\ntick 6\n";
  let h: McpHarness;
  const target = () => ({ host: "127.0.0.1", port: sshd.port, user: "root" });
  const startServer = () => McpHarness.start({ env: { HOME: local.path, SSH_AUTH_SOCK: "", PTY_MCP_RELEASE_DIR: "" } });

  afterAll(async () => {
    await h?.close();
  });

  test("a 6 s ticking job survives a killed SSH connection (every tick once, exit code 7), then the server's restart; list_remote_sessions {host}", async () => {
    h = await startServer();
    const s = await h.call<Record<string, unknown>>("create_ssh_session", { ...target(), persistent: true, command: TICKER });
    expect(s).toEqual({
      session_id: expect.any(String),
      type: "ssh",
      target: `root@127.0.0.1:${sshd.port}`,
      cols: 120,
      rows: 40,
      auth_method: `publickey (${join(sshDir, "id_ed25519")})`,
      host_key: { fingerprint: sshd.hostKey.fingerprint, key_type: "ssh-ed25519" },
      persistent: true,
      connected: true,
      remote_path: `${remote.path}/.local/bin/pty-mcp`,
      ...(s.deployed ? { deployed: s.deployed } : {}),
    });
    const id = s.session_id as string;
    const two = await h.call<{ matched: boolean }>("read_output", { session_id: id, wait_for: "tick 2", timeout: 20 });
    expect(two.matched).toBe(true);

    // Cut the link: kill the sshd process serving our one connection (the deploy tests' connections may still be winding down).
    let before = sshd.connectionPids();
    for (let i = 0; before.length !== 1 && i < 400; i++) {
      await Bun.sleep(25);
      before = sshd.connectionPids();
    }
    expect(before.length).toBe(1);
    process.kill(before[0]!, "SIGKILL");

    // The mirror reconnects by itself (a new sshd connection) and resumes from its cursor.
    const done = await h.call<{ matched: boolean; is_alive: boolean }>("read_output", { session_id: id, wait_for: "tick 6", timeout: 30 });
    expect(done.matched).toBe(true);
    let after = sshd.connectionPids();
    for (let i = 0; after.length !== 1 && i < 400; i++) {
      await Bun.sleep(25);
      after = sshd.connectionPids();
    }
    expect(after.length).toBe(1);
    expect(after[0]).not.toBe(before[0]);
    // A wait that cannot match returns when the program ends.
    const ended = await h.call<{ matched: boolean; is_alive: boolean }>("read_output", { session_id: id, wait_for: "never printed", timeout: 30 });
    expect(ended).toMatchObject({ matched: false, is_alive: false });
    const state = await h.call<Record<string, unknown>>("get_session_state", { session_id: id });
    expect(state).toMatchObject({ session_id: id, type: "ssh", is_alive: false, exit_code: 7, persistent: true, connected: true, remote_path: `${remote.path}/.local/bin/pty-mcp` });
    const all = await h.call<{ output: string }>("read_output", { session_id: id, since_cursor: 0 });
    expect(all.output).toBe(ticks);

    // The server goes away (the remote session stays with its daemon) and a new one reattaches by id.
    await h.close();
    h = await startServer();
    const listed = await h.call<{ host: string; daemon_running: boolean; sessions: Array<Record<string, unknown>> }>("list_remote_sessions", { ...target(), status: "exited" });
    expect(listed.host).toBe(`root@127.0.0.1:${sshd.port}`);
    expect(listed.daemon_running).toBe(true);
    expect(listed.sessions.filter((x) => x.session_id === id)).toEqual([
      expect.objectContaining({ session_id: id, type: "ssh", is_alive: false, exit_code: 7, attached_here: false, state: expect.any(String) }),
    ]);
    const running = await h.call<{ sessions: Array<{ session_id: string }> }>("list_remote_sessions", { ...target(), status: "running" });
    expect(running.sessions.map((x) => x.session_id)).not.toContain(id);

    const again = await h.call<Record<string, unknown>>("create_ssh_session", { ...target(), session_id: id });
    expect(again).toMatchObject({ session_id: id, type: "ssh", persistent: true, reattached: true, connected: true });
    expect((await h.call<{ output: string }>("read_output", { session_id: id, since_cursor: 0 })).output).toBe(ticks);
    expect(await h.call<Record<string, unknown>>("get_session_state", { session_id: id })).toMatchObject({ is_alive: false, exit_code: 7 });
    expect((await h.call<{ sessions: Array<{ session_id: string; attached_here: boolean }> }>("list_remote_sessions", target())).sessions.find((x) => x.session_id === id)?.attached_here).toBe(true);
    expect(await h.call("close_session", { session_id: id })).toMatchObject({ success: true, session_id: id });
    expect((await h.call<{ sessions: Array<{ session_id: string }> }>("list_remote_sessions", target())).sessions.map((x) => x.session_id)).not.toContain(id);
  });
  test("the MCP server SIGKILLed mid-job: a new server reattaches by id, every tick once, exit code 5", async () => {
    const h1 = await startServer();
    try {
      const job = "i=1; while [ $i -le 8 ]; do echo tick $i; i=$((i+1)); sleep 1; done; exit 5";
      const s = await h1.call<{ session_id: string }>("create_ssh_session", { ...target(), persistent: true, command: job });
      expect((await h1.call<{ matched: boolean }>("read_output", { session_id: s.session_id, wait_for: "tick 3", timeout: 20 })).matched).toBe(true);
      const pid = h1.transport.pid!;
      process.kill(pid, "SIGKILL");
      for (let i = 0; i < 400 && spawnSync(["kill", "-0", String(pid)]).exitCode === 0; i++) await Bun.sleep(25);

      h ??= await startServer();
      const again = await h.call<Record<string, unknown>>("create_ssh_session", { ...target(), session_id: s.session_id });
      expect(again).toMatchObject({ session_id: s.session_id, persistent: true, reattached: true, connected: true });
      const ended = await h.call<{ matched: boolean; is_alive: boolean }>("read_output", { session_id: s.session_id, wait_for: "never printed", timeout: 30 });
      expect(ended).toMatchObject({ matched: false, is_alive: false });
      expect(await h.call<Record<string, unknown>>("get_session_state", { session_id: s.session_id })).toMatchObject({ is_alive: false, exit_code: 5 });
      expect((await h.call<{ output: string }>("read_output", { session_id: s.session_id, since_cursor: 0 })).output).toBe(
        Array.from({ length: 8 }, (_, i) => `tick ${i + 1}\n`).join(""),
      );
      // The link drops after the end: the mirror keeps the output and says it is not connected; close_session still ends it on the host.
      let pids = sshd.connectionPids();
      for (let i = 0; pids.length !== 1 && i < 400; i++) {
        await Bun.sleep(25);
        pids = sshd.connectionPids();
      }
      process.kill(pids[0]!, "SIGKILL");
      let state = await h.call<Record<string, unknown>>("get_session_state", { session_id: s.session_id });
      for (let i = 0; state.connected !== false && i < 400; i++) {
        await Bun.sleep(25);
        state = await h.call<Record<string, unknown>>("get_session_state", { session_id: s.session_id });
      }
      expect(state).toMatchObject({ connected: false, is_alive: false, exit_code: 5 });
      expect(await h.call("close_session", { session_id: s.session_id })).toMatchObject({ success: true, session_id: s.session_id, exit_code: 5 });
      const listed = await h.call<{ sessions: Array<{ session_id: string }> }>("list_remote_sessions", target());
      expect(listed.sessions.map((x) => x.session_id)).not.toContain(s.session_id);
    } finally {
      await h1.close();
    }
  });

  test("a link that never connected (unknown host key) takes the next call's accept_host_key", async () => {
    h ??= await startServer();
    appendFileSync(join(sshDir, "config"), `Host keytest\n  HostName 127.0.0.1\n  HostKeyAlias keytest-alias\n`);
    const host = { host: "keytest", port: sshd.port, user: "root" };
    const refused = await h.callError("create_ssh_session", { ...host, persistent: true, command: "echo accepted; sleep 60" });
    expect(refused).toMatchObject({ code: "SSH_HOST_KEY_UNKNOWN", fingerprint: sshd.hostKey.fingerprint });
    const s = await h.call<{ session_id: string; connected: boolean }>("create_ssh_session", { ...host, persistent: true, command: "echo accepted; sleep 60", accept_host_key: sshd.hostKey.fingerprint });
    expect(s.connected).toBe(true);
    expect((await h.call<{ matched: boolean }>("read_output", { session_id: s.session_id, wait_for: "^accepted$", timeout: 20 })).matched).toBe(true);
    await h.call("close_session", { session_id: s.session_id });
  });

  test("a fresh host: first persistent use deploys; with sshd gone the mirror says connected: false, stays alive, a write fails retryable, get_session_state says why (reconnect: refused, then a changed host key); sshd back → the next call reconnects, reconnect gone", async () => {
    h ??= await startServer();
    using fresh = tempDir("pty-mcp-remote-fresh-");
    mkdirSync(join(fresh.path, "run"), { mode: 0o700 });
    const env = `SetEnv HOME=${fresh.path} XDG_RUNTIME_DIR=${join(fresh.path, "run")}`;
    const first = await startSshd({ extraConfig: env });
    let second: Sshd | undefined;
    try {
      first.authorize(readFileSync(join(sshDir, "id_ed25519.pub"), "utf8").trim());
      appendFileSync(join(sshDir, "known_hosts"), `${knownHostsLine(first)}\n`);
      const firstLine = readFileSync(join(sshDir, "known_hosts"), "utf8").trimEnd().split("\n").length;
      const host = { host: "127.0.0.1", port: first.port, user: "root" };
      const s = await h.call<Record<string, unknown>>("create_ssh_session", { ...host, persistent: true, command: "env PS1='$ ' PROMPT_COMMAND= bash --norc --noprofile" });
      expect(s).toMatchObject({ persistent: true, connected: true, remote_path: `${fresh.path}/.local/bin/pty-mcp`, deployed: { version: version.replace("pty-mcp ", "") } });
      expect(spawnSync([join(fresh.path, ".local/bin/pty-mcp"), "--version"]).stdout.toString().trim()).toBe(version);
      const id = s.session_id as string;
      await h.call("read_output", { session_id: id, wait_for: "^\\$ $", timeout: 20 });
      expect(await h.call<Record<string, unknown>>("send_input", { session_id: id, input: "echo one" })).toMatchObject({ output: "one\n$ ", is_alive: true });

      // The host's sshd goes away entirely: reconnecting is refused until it is back.
      const connections = first.connectionPids();
      const killedAt = Date.now();
      process.kill(first.pid, "SIGKILL");
      for (const pid of connections) {
        // A connection ending meanwhile (the deploy's) is reaped as soon as its listener is gone: ESRCH.
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      let state = await h.call<Record<string, unknown>>("get_session_state", { session_id: id });
      for (let i = 0; state.connected !== false && i < 200; i++) {
        await Bun.sleep(25);
        state = await h.call<Record<string, unknown>>("get_session_state", { session_id: id });
      }
      expect(state).toMatchObject({ connected: false, is_alive: true });
      const failed = await h.callError("send_input", { session_id: id, input: "echo two" });
      expect({ code: failed.code, retryable: failed.retryable }).toEqual({ code: "DAEMON_UNAVAILABLE", retryable: true });
      // get_session_state says why: since when the link is down, the failed attempts, the last one refused.
      const refused = { code: "SSH_CONN_FAILED", message: `Connection to root@127.0.0.1:${first.port} refused: nothing listens on port ${first.port}. Check the port and that sshd runs.`, retryable: true };
      state = await untilState(h, id, (st) => reconnectOf(st)?.last_error?.message === refused.message);
      expect(reconnectOf(state)).toEqual({ since: expect.stringMatching(ISO_TIME), attempts: expect.any(Number), last_error: refused });
      const since = reconnectOf(state)!.since as string;
      expect([reconnectOf(state)!.attempts as number >= 1, Date.parse(since) >= killedAt, Date.parse(since) <= Date.now()]).toEqual([true, true, true]);

      // Something else on that port with another host key: the last error is the mismatch, final for its round
      // (fingerprint included), the same since; no input reaches anything.
      const impostor = await startSshd({ extraConfig: `${env}\nPort ${first.port}` });
      try {
        state = await untilState(h, id, (st) => reconnectOf(st)?.last_error?.code === "SSH_HOST_KEY_MISMATCH");
        const mismatch = reconnectOf(state)!.last_error!;
        expect({ ...mismatch, message: undefined } as Record<string, unknown>).toEqual({
          code: "SSH_HOST_KEY_MISMATCH",
          retryable: false,
          fingerprint: impostor.hostKey.fingerprint,
          key_type: "ssh-ed25519",
          host: "127.0.0.1",
          port: first.port,
          known_hosts_file: join(sshDir, "known_hosts"),
          known_hosts_line: firstLine,
          message: undefined,
        });
        expect(mismatch.message).toStartWith(`HOST KEY CHANGED for root@127.0.0.1:${first.port}: it now presents ssh-ed25519 ${impostor.hostKey.fingerprint}`);
        expect([reconnectOf(state)!.since, state.connected, impostor.log().match(/Accepted publickey/g)?.length ?? 0]).toEqual([since, false, 0]);
      } finally {
        await impostor.stop();
      }

      // sshd back on the same port with the same host key: the next calls reconnect, and `reconnect` is gone.
      second = await startSshd({ hostKeyPath: first.hostKey.path, extraConfig: `${env}\nPort ${first.port}` });
      second.authorize(readFileSync(join(sshDir, "id_ed25519.pub"), "utf8").trim());
      state = await untilState(h, id, (st) => st.connected === true);
      expect(state).toMatchObject({ connected: true, is_alive: true });
      expect("reconnect" in state).toBe(false);
      expect(await h.call<Record<string, unknown>>("send_input", { session_id: id, input: "echo two" })).toMatchObject({ output: "two\n$ ", is_alive: true });
      expect((await h.call<{ output: string }>("read_output", { session_id: id, since_cursor: 0 })).output).toBe("$ echo one\none\n$ echo two\ntwo\n$ ");
      expect(await h.call("close_session", { session_id: id })).toMatchObject({ success: true });
    } finally {
      spawnSync(["sh", "-c", `pid=$(cat '${join(fresh.path, "run", "pty-mcp", "daemon.pid")}' 2>/dev/null) && kill $pid`]);
      await second?.[Symbol.asyncDispose]();
      await first[Symbol.asyncDispose]();
    }
  });
  test("version skew: an older pty-mcp whose daemon serves a session is upgraded; that daemon keeps its session and serves ours too", async () => {
    h ??= await startServer();
    using skew = tempDir("pty-mcp-remote-skew-");
    const run = join(skew.path, "run");
    mkdirSync(run, { mode: 0o700 });
    const remoteBin = join(skew.path, ".local", "bin", "pty-mcp");
    mkdirSync(dirname(remoteBin), { recursive: true });
    // The host has pty-mcp 0.0.9 (same protocol), and its daemon runs a job.
    compile({ entry: join(import.meta.dir, "../src/main.ts"), outfile: remoteBin, version: "0.0.9" });
    const hostEnv = { ...process.env, HOME: skew.path, XDG_RUNTIME_DIR: run };
    expect(spawnSync([remoteBin, "daemon"], { env: hostEnv }).exitCode).toBe(0);
    const old = await connectDaemon({ socketPath: join(run, "pty-mcp", "daemon.sock") });
    expect(old.hello.daemon).toContain("0.0.9");
    const { session: job } = await old.request({ type: "create", command: "sleep", args: ["300"], cols: 80, rows: 24 });
    old.close();

    const skewSshd = await startSshd({ extraConfig: `SetEnv HOME=${skew.path} XDG_RUNTIME_DIR=${run}` });
    try {
      skewSshd.authorize(readFileSync(join(sshDir, "id_ed25519.pub"), "utf8").trim());
      appendFileSync(join(sshDir, "known_hosts"), `${knownHostsLine(skewSshd)}\n`);
      const host = { host: "127.0.0.1", port: skewSshd.port, user: "root" };
      const s = await h.call<Record<string, unknown>>("create_ssh_session", { ...host, persistent: true, command: "echo new; sleep 300" });
      expect(s).toMatchObject({ persistent: true, connected: true, remote_path: remoteBin, deployed: { version: version.replace("pty-mcp ", ""), previous_version: "0.0.9" } });
      expect(spawnSync([remoteBin, "--version"]).stdout.toString().trim()).toBe(version);
      expect((await h.call<{ matched: boolean }>("read_output", { session_id: s.session_id, wait_for: "^new$", timeout: 20 })).matched).toBe(true);
      const listed = await h.call<{ sessions: Array<{ session_id: string; is_alive: boolean }> }>("list_remote_sessions", { ...host, status: "running" });
      expect(listed.sessions.map((x) => x.session_id).sort()).toEqual([job.id, s.session_id as string].sort());
      await h.call("close_session", { session_id: s.session_id });
    } finally {
      spawnSync(["sh", "-c", `pid=$(cat '${join(run, "pty-mcp", "daemon.pid")}' 2>/dev/null) && kill $pid`]);
      await skewSshd[Symbol.asyncDispose]();
    }
  });
  /** Network namespaces need root (CI has it); elsewhere this test is skipped. */
  const netnsOk = (() => {
    const probe = `ptymcp-probe-${process.pid}`;
    if (spawnSync(["ip", "netns", "add", probe]).exitCode !== 0) return false;
    spawnSync(["ip", "netns", "del", probe]);
    return true;
  })();

  test.skipIf(!netnsOk)("the link cut in a network namespace (veth down, then up): the mirror notices, reconnects, every tick once, exit code 3", async () => {
    h ??= await startServer();
    using cut = tempDir("pty-mcp-remote-netns-");
    const run = join(cut.path, "run");
    mkdirSync(run, { mode: 0o700 });
    const tag = `${process.pid % 10000}`;
    const ns = `ptymcp-${tag}`;
    const outside = `pmh${tag}`;
    const inside = `pmn${tag}`;
    const net = `10.231.${process.pid % 250}`;
    const ip = (...args: string[]) => {
      const r = spawnSync(["ip", ...args]);
      if (r.exitCode !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.toString()}`);
    };
    ip("netns", "add", ns);
    let nsSshd: Sshd | undefined;
    try {
      ip("link", "add", outside, "type", "veth", "peer", "name", inside);
      ip("link", "set", inside, "netns", ns);
      ip("addr", "add", `${net}.1/30`, "dev", outside);
      ip("link", "set", outside, "up");
      ip("netns", "exec", ns, "ip", "addr", "add", `${net}.2/30`, "dev", inside);
      ip("netns", "exec", ns, "ip", "link", "set", inside, "up");
      ip("netns", "exec", ns, "ip", "link", "set", "lo", "up");
      nsSshd = await startSshd({ prefix: ["ip", "netns", "exec", ns], listenAddress: `${net}.2`, extraConfig: `SetEnv HOME=${cut.path} XDG_RUNTIME_DIR=${run}` });
      nsSshd.authorize(readFileSync(join(sshDir, "id_ed25519.pub"), "utf8").trim());
      appendFileSync(join(sshDir, "known_hosts"), `${knownHostsLine(nsSshd, `${net}.2`)}\n`);
      // A dead link is noticed by keepalives: one a second, two unanswered end the connection.
      appendFileSync(join(sshDir, "config"), `Host ${net}.2\n  ServerAliveInterval 1\n  ServerAliveCountMax 2\n`);
      const host = { host: `${net}.2`, port: nsSshd.port, user: "root" };
      const ticker = "i=1; while [ $i -le 10 ]; do echo tick $i; i=$((i+1)); sleep 1; done; exit 3";
      const s = await h.call<Record<string, unknown>>("create_ssh_session", { ...host, persistent: true, command: ticker });
      const id = s.session_id as string;
      expect((await h.call<{ matched: boolean }>("read_output", { session_id: id, wait_for: "tick 2", timeout: 20 })).matched).toBe(true);

      ip("link", "set", outside, "down");
      let state = await h.call<Record<string, unknown>>("get_session_state", { session_id: id });
      for (let i = 0; state.connected !== false && i < 400; i++) {
        await Bun.sleep(25);
        state = await h.call<Record<string, unknown>>("get_session_state", { session_id: id });
      }
      expect(state).toMatchObject({ connected: false, is_alive: true });
      ip("link", "set", outside, "up");

      const ended = await h.call<{ matched: boolean; is_alive: boolean }>("read_output", { session_id: id, wait_for: "never printed", timeout: 60 });
      expect(ended).toMatchObject({ matched: false, is_alive: false });
      expect(await h.call<Record<string, unknown>>("get_session_state", { session_id: id })).toMatchObject({ is_alive: false, exit_code: 3, connected: true });
      const all = await h.call<{ output: string }>("read_output", { session_id: id, since_cursor: 0 });
      expect(all.output).toBe(Array.from({ length: 10 }, (_, i) => `tick ${i + 1}\n`).join(""));
      await h.call("close_session", { session_id: id });
    } finally {
      spawnSync(["sh", "-c", `pid=$(cat '${join(run, "pty-mcp", "daemon.pid")}' 2>/dev/null) && kill $pid`]);
      await nsSshd?.[Symbol.asyncDispose]();
      spawnSync(["ip", "netns", "del", ns]);
      spawnSync(["ip", "link", "del", outside]);
    }
  });
});
