/**
 * SSH sessions end to end: the compiled binary driven over stdio by the MCP SDK client,
 * against a real OpenSSH sshd on loopback. HOME is a temp dir, so ~/.ssh/config,
 * known_hosts and the identity files are the test's own.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "bun";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { until } from "./harness/daemon.ts";
import { McpHarness } from "./harness/mcp.ts";
import { ensurePasswordUser, freePort, knownHostsLine, makeKey, startSshd, tempDir, type KeyPair, type Sshd } from "./harness/sshd.ts";

/** A bash with a fixed prompt and no rc files, on the remote PTY (exec channel). */
const PLAIN_BASH = "env PS1='$ ' PROMPT_COMMAND= bash --norc --noprofile";
const PASSPHRASE = "correct horse battery";

// Decrypting a bcrypt-protected key and sshd start-up are slow on a busy 2-core machine.
setDefaultTimeout(60_000);

const home = tempDir("pty-mcp-ssh-e2e-home-");
const sshDir = join(home.path, ".ssh");
const knownHosts = join(sshDir, "known_hosts");
const passphraseFile = join(home.path, "passphrase.txt");
let sshd: Sshd;
let key: KeyPair;
let encrypted: KeyPair;
let h: McpHarness;
let pw: { user: string; password: string };

const root = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ host: "127.0.0.1", port: sshd.port, user: "root", ...extra });
const trustServer = (): void => writeFileSync(knownHosts, `${knownHostsLine(sshd)}\n`);

/** A plain bash over SSH, waited on until its first prompt; returns the session id and the prompt's cursor. */
async function plainBash(extra: Record<string, unknown> = {}): Promise<{ id: string; cursor: number }> {
  const s = await h.call<{ session_id: string }>("create_ssh_session", root({ command: PLAIN_BASH, ...extra }));
  const ready = await h.call<{ matched: boolean; cursor: number }>("read_output", { session_id: s.session_id, wait_for: "^\\$ $", timeout: 15 });
  expect(ready.matched).toBe(true);
  return { id: s.session_id, cursor: ready.cursor };
}

beforeAll(async () => {
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  sshd = await startSshd();
  key = makeKey(join(sshDir, "id_ed25519"));
  sshd.authorize(key.pub);
  encrypted = makeKey(join(home.path, "encrypted_key"), { passphrase: PASSPHRASE });
  sshd.authorize(encrypted.pub);
  pw = ensurePasswordUser();
  trustServer();
  writeFileSync(join(sshDir, "config"), `Host pwbox\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${pw.user}\n  PubkeyAuthentication no\n`);
  h = await McpHarness.start({
    env: {
      HOME: home.path,
      // No agent of the developer's: auth comes from the test's HOME only.
      SSH_AUTH_SOCK: "",
      // The secret flow for an encrypted key's passphrase (what a password manager lookup would be).
      PTY_MCP_SECRET_COMMAND: `cat '${passphraseFile}'`,
    },
  });
});

afterAll(async () => {
  await h?.close();
  await sshd?.[Symbol.asyncDispose]();
  home[Symbol.dispose]();
});

describe("ssh sessions through the binary", () => {
  test("tools/list: create_ssh_session with the SPEC's parameters", async () => {
    const { tools } = await h.client.listTools();
    const tool = tools.find((t) => t.name === "create_ssh_session");
    expect(Object.keys(tool?.inputSchema.properties ?? {}).sort()).toEqual(
      [
        "host", "user", "port", "password", "key_path", "passphrase", "ignore_host_key", "accept_host_key", "jump", "command", "connect_timeout",
        "persistent", "session_id", "shell_integration", "name", "cols", "rows", "log_file", "log_max_size", "log_max_files", "record", "auto_pager",
      ].sort(),
    );
    expect(tool?.inputSchema.required).toEqual(["host"]);
  });

  test("key auth: send_input echo hi returns exactly its output; log_file has the session", async () => {
    const log = join(home.path, "key-auth.log");
    const s = await h.call<Record<string, unknown>>("create_ssh_session", root({ command: PLAIN_BASH, log_file: log, cols: "100", rows: 30 }));
    expect(s).toEqual({
      session_id: expect.stringMatching(/^ssh-[0-9a-f]{8}$/),
      type: "ssh",
      target: `root@127.0.0.1:${sshd.port}`,
      cols: 100,
      rows: 30,
      auth_method: `publickey (${key.path})`,
      host_key: { fingerprint: sshd.hostKey.fingerprint, key_type: "ssh-ed25519" },
    });
    const id = s.session_id as string;
    const ready = await h.call<{ cursor: number }>("read_output", { session_id: id, wait_for: "^\\$ $", timeout: 15 });
    const r = await h.call<Record<string, unknown>>("send_input", { session_id: id, input: "echo hi" });
    expect(r).toEqual({
      output: "hi\n$ ",
      cursor: r.cursor_end,
      cursor_start: ready.cursor,
      cursor_end: expect.any(Number),
      is_alive: true,
      is_complete: true,
      state: "at_prompt",
      completion: "heuristic",
    });
    const size = await h.call<Record<string, unknown>>("send_input", { session_id: id, input: "stty size; echo $TERM" });
    expect(size.output).toBe("30 100\nxterm-256color\n$ ");
    expect(await h.call("close_session", { session_id: id })).toEqual({ success: true, session_id: id, exit_code: null });
    expect(readFileSync(log, "utf8")).toBe("$ echo hi\nhi\n$ stty size; echo $TERM\n30 100\nxterm-256color\n$ \n");
  });

  test("password auth (config alias, login shell); the password appears in no result, state, log or error", async () => {
    const log = join(home.path, "password.log");
    const s = await h.call<Record<string, unknown>>("create_ssh_session", { host: "pwbox", password: pw.password, log_file: log });
    expect(s).toEqual({
      session_id: expect.stringMatching(/^ssh-[0-9a-f]{8}$/),
      type: "ssh",
      target: `${pw.user}@127.0.0.1:${sshd.port}`,
      cols: 120,
      rows: 40,
      auth_method: "password",
      host_key: { fingerprint: sshd.hostKey.fingerprint, key_type: "ssh-ed25519" },
    });
    const id = s.session_id as string;
    await h.call("read_output", { session_id: id, wait_for: "\\$ $", timeout: 15 });
    const r = await h.call<Record<string, unknown>>("send_input", { session_id: id, input: "echo I=$(id -un)" });
    expect({ first: (r.output as string).split("\n")[0], state: r.state, is_complete: r.is_complete }).toEqual({ first: `I=${pw.user}`, state: "at_prompt", is_complete: true });
    const state = await h.call<Record<string, unknown>>("get_session_state", { session_id: id });
    const list = await h.call<Record<string, unknown>>("list_sessions");

    const wrong = await h.callError("create_ssh_session", { host: "pwbox", password: "Not-The-Password-9" });
    expect(wrong).toEqual({
      code: "SSH_AUTH_FAILED",
      retryable: false,
      tried_methods: ["password"],
      message: `Authentication to ${pw.user}@pwbox (127.0.0.1):${sshd.port} failed (tried: password). Check the user name and the password, or use a key (key_path, ssh-agent).`,
    });
    await h.call("close_session", { session_id: id });

    const everything = JSON.stringify([s, r, state, list, wrong]) + readFileSync(log, "utf8") + h.stderr;
    expect(everything).not.toContain(pw.password);
    expect(everything).not.toContain("Not-The-Password-9");
  });

  test("unknown host: SSH_HOST_KEY_UNKNOWN with the fingerprint; accept_host_key trusts exactly it and records it in known_hosts", async () => {
    writeFileSync(knownHosts, "");
    const fp = sshd.hostKey.fingerprint;
    const unknown = await h.callError("create_ssh_session", root());
    expect(unknown).toEqual({
      code: "SSH_HOST_KEY_UNKNOWN",
      retryable: false,
      fingerprint: fp,
      key_type: "ssh-ed25519",
      host: "127.0.0.1",
      port: sshd.port,
      message: `The host key of root@127.0.0.1:${sshd.port} is not in known_hosts: ssh-ed25519 ${fp}. Verify this fingerprint with the host's administrator, then call again with accept_host_key: "${fp}" to trust exactly this key and record it.`,
    });

    const other = await h.callError("create_ssh_session", root({ accept_host_key: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }));
    expect({ code: other.code, fingerprint: other.fingerprint }).toEqual({ code: "SSH_HOST_KEY_UNKNOWN", fingerprint: fp });
    expect(readFileSync(knownHosts, "utf8")).toBe("");
    expect(await h.callError("create_ssh_session", root({ accept_host_key: "yes" }))).toEqual({
      code: "INVALID_ARGUMENT",
      retryable: false,
      message: 'Invalid arguments — accept_host_key: expected "SHA256:" and the fingerprint from SSH_HOST_KEY_UNKNOWN.',
    });

    const accepted = await h.call<{ session_id: string; host_key: unknown }>("create_ssh_session", root({ accept_host_key: fp }));
    expect(accepted.host_key).toEqual({ fingerprint: fp, key_type: "ssh-ed25519" });
    await h.call("close_session", { session_id: accepted.session_id });
    // OpenSSH itself finds the recorded key (hashed or not, as the config says).
    const found = spawnSync(["ssh-keygen", "-F", `[127.0.0.1]:${sshd.port}`, "-f", knownHosts]);
    expect(found.exitCode).toBe(0);
    const [type, b64] = sshd.hostKey.pub.split(/\s+/);
    const entries = found.stdout.toString().split("\n").filter((l) => l.length > 0 && !l.startsWith("#"));
    expect(entries.map((l) => l.split(" ").slice(1).join(" "))).toEqual([`${type} ${b64}`]);

    const again = await h.call<{ session_id: string }>("create_ssh_session", root());
    await h.call("close_session", { session_id: again.session_id });
    trustServer();
  });

  test("changed host key: SSH_HOST_KEY_MISMATCH naming the known_hosts line; accept_host_key does not bypass it, ignore_host_key does", async () => {
    using dir = tempDir();
    const other = makeKey(join(dir.path, "other"));
    const line = `[127.0.0.1]:${sshd.port} ${other.type} ${other.pub.split(/\s+/)[1]}\n`;
    writeFileSync(knownHosts, line);
    const fp = sshd.hostKey.fingerprint;
    const expected = {
      code: "SSH_HOST_KEY_MISMATCH",
      retryable: false,
      fingerprint: fp,
      key_type: "ssh-ed25519",
      host: "127.0.0.1",
      port: sshd.port,
      known_hosts_file: knownHosts,
      known_hosts_line: 1,
      message: `HOST KEY CHANGED for root@127.0.0.1:${sshd.port}: it now presents ssh-ed25519 ${fp}, which differs from ${knownHosts}:1. This may be an attack (or the host was reinstalled). Verify out of band; if legitimate, remove the old entry (ssh-keygen -R) and connect again.`,
    };
    expect(await h.callError("create_ssh_session", root())).toEqual(expected);
    expect(await h.callError("create_ssh_session", root({ accept_host_key: fp }))).toEqual(expected);
    const ignored = await h.call<{ session_id: string }>("create_ssh_session", root({ ignore_host_key: "true" }));
    await h.call("close_session", { session_id: ignored.session_id });
    expect(readFileSync(knownHosts, "utf8")).toBe(line);
    trustServer();
  });

  test("encrypted key: the passphrase parameter, the secret flow when omitted, a clear error when wrong", async () => {
    const withParam = await h.call<Record<string, unknown>>("create_ssh_session", root({ key_path: encrypted.path, passphrase: PASSPHRASE }));
    expect(withParam.auth_method).toBe(`publickey (${encrypted.path})`);
    await h.call("close_session", { session_id: withParam.session_id });

    // Nobody can answer (the secret command fails): the key is skipped, and the error says why.
    const unanswered = await h.callError("create_ssh_session", root({ key_path: encrypted.path }));
    expect({ code: unanswered.code, tried_methods: unanswered.tried_methods, skipped_keys: unanswered.skipped_keys }).toEqual({
      code: "SSH_AUTH_FAILED",
      tried_methods: [],
      skipped_keys: [`${encrypted.path} (encrypted, asking for the passphrase failed: The secret command (PTY_MCP_SECRET_COMMAND) failed with exit 1; its error output is in pty-mcp's log (stderr))`],
    });
    // The server logs the command's error before it answers, but its stderr is another pipe, read by this
    // process's event loop in its own time: wait for the line rather than expect it already read.
    await until(() => h.stderr.includes(`cat: ${passphraseFile}: No such file or directory`), "the secret command's error in the server's log").catch(() => undefined);
    expect(h.stderr).toContain(`cat: ${passphraseFile}: No such file or directory`);

    writeFileSync(passphraseFile, `${PASSPHRASE}\n`, { mode: 0o600 });
    const asked = await h.call<Record<string, unknown>>("create_ssh_session", root({ key_path: encrypted.path }));
    expect(asked.auth_method).toBe(`publickey (${encrypted.path})`);
    await h.call("close_session", { session_id: asked.session_id });

    const wrong = await h.callError("create_ssh_session", root({ key_path: encrypted.path, passphrase: "not the passphrase" }));
    expect(wrong).toEqual({
      code: "SSH_AUTH_FAILED",
      retryable: false,
      tried_methods: [],
      skipped_keys: [`${encrypted.path} (encrypted, passphrase did not decrypt it)`],
      message: `Authentication to root@127.0.0.1:${sshd.port} failed (tried: none). Skipped keys: ${encrypted.path} (encrypted, passphrase did not decrypt it). Give the key's passphrase (passphrase parameter) or load the key into ssh-agent.`,
    });
    expect(JSON.stringify([withParam, asked, wrong]) + h.stderr).not.toContain(PASSPHRASE);
  });

  test("connection refused: SSH_CONN_FAILED, retryable", async () => {
    const port = await freePort();
    expect(await h.callError("create_ssh_session", root({ port }))).toEqual({
      code: "SSH_CONN_FAILED",
      retryable: true,
      message: `Connection to root@127.0.0.1:${port} refused: nothing listens on port ${port}. Check the port and that sshd runs.`,
    });
  });

  test("connect_timeout (given as a string) bounds a server that never speaks SSH", async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    try {
      expect(await h.callError("create_ssh_session", root({ port, connect_timeout: "0.5" }))).toEqual({
        code: "SSH_CONN_FAILED",
        retryable: true,
        message: `Connecting to root@127.0.0.1:${port} timed out after 0.5 s. Check that the host is up and reachable (VPN, firewall, ProxyJump), or raise connect_timeout.`,
      });
    } finally {
      silent.close();
    }
  });

  test("a create_ssh_session cancelled while connecting leaves no session and no connection behind", async () => {
    // A TCP proxy that holds the connection until the call has been cancelled.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let arrived!: (socket: Socket) => void;
    const accepted = new Promise<Socket>((resolve) => (arrived = resolve));
    const proxy = createServer((client) => {
      client.on("error", () => {});
      arrived(client);
      void gate.then(() => {
        const upstream = connect(sshd.port, "127.0.0.1");
        upstream.on("error", () => client.destroy());
        client.pipe(upstream).pipe(client);
        client.once("close", () => upstream.destroy());
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const address = proxy.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    try {
      const controller = new AbortController();
      const call = h.callRaw("create_ssh_session", root({ port, ignore_host_key: true, command: PLAIN_BASH }), { signal: controller.signal });
      const client = await accepted;
      const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
      controller.abort();
      expect(await call.then(() => "resolved", () => "rejected")).toBe("rejected");
      release();
      // The server finishes the handshake, sees the cancellation and hangs up.
      await closed;
      const { sessions } = await h.call<{ sessions: { target: string }[] }>("list_sessions");
      expect(sessions.filter((s) => s.target === `root@127.0.0.1:${port}`)).toEqual([]);
    } finally {
      proxy.close();
    }
  });

  test("persistent refuses log_file and record (the remote daemon holds the output); test/remote.test.ts covers the rest", async () => {
    const expected = {
      code: "INVALID_ARGUMENT",
      retryable: false,
      message: "log_file and record are not available for persistent SSH sessions (the remote daemon holds the output). Omit them, or open a non-persistent session.",
    };
    expect(await h.callError("create_ssh_session", root({ persistent: true, log_file: join(home.path, "p.log") }))).toEqual(expected);
    expect(await h.callError("create_ssh_session", root({ persistent: true, record: join(home.path, "p.cast") }))).toEqual(expected);
  });

  test("top: read_screen shows its header and process table", async () => {
    const s = await h.call<{ session_id: string }>("create_ssh_session", root({ command: "top -d 1", cols: 100, rows: 24 }));
    await h.call("read_output", { session_id: s.session_id, wait_for: "PID\\s+USER", timeout: 15 });
    const screen = await h.call<{ lines: string[]; cols: number; rows: number; alternate_screen: boolean; cursor: unknown; title: string }>("read_screen", { session_id: s.session_id });
    expect({ cols: screen.cols, rows: screen.rows, count: screen.lines.length }).toEqual({ cols: 100, rows: 24, count: 24 });
    expect(screen.lines[0]).toMatch(/^top - \d\d:\d\d:\d\d up /);
    expect(screen.lines[1]).toMatch(/^Tasks: +\d+ total/);
    const header = screen.lines.findIndex((l) => /^ *PID USER +PR +NI/.test(l));
    expect(header).toBeGreaterThan(1);
    // The rows under the header are processes: PID, then the user.
    expect(screen.lines[header + 1]).toMatch(/^ *\d+ \S+ /);
    await h.call("send_input", { session_id: s.session_id, input: "q", raw: true });
    const end = await h.call<Record<string, unknown>>("read_output", { session_id: s.session_id, wait_for: "never printed", timeout: 15 });
    expect({ matched: end.matched, is_alive: end.is_alive, exit_code: end.exit_code }).toEqual({ matched: false, is_alive: false, exit_code: 0 });
  });

  test("sleep + send_control ctrl+c, wait_for, get_session_state work as on a local shell", async () => {
    const { id } = await plainBash();
    const started = await h.call<Record<string, unknown>>("send_input", { session_id: id, input: "sleep 100", timeout_ms: 300 });
    expect(started.is_complete).toBe(false);
    // 300 ms is a time, not a condition: on a loaded machine the echo may not be back yet (the state then
    // still reads the old "$ " prompt as at_prompt), and a ctrl+c before bash ran sleep hits readline
    // instead. Wait until the session is running and sleep exists (sshd is on this machine), then interrupt.
    await until(async () => (await h.call<Record<string, unknown>>("get_session_state", { session_id: id })).state === "running", "the session to be running");
    await until(() => spawnSync(["pgrep", "-x", "-f", "sleep 100"]).exitCode === 0, "sleep 100 to run");
    await h.call("send_control", { session_id: id, key: "ctrl+c" });
    const back = await h.call<Record<string, unknown>>("read_output", { session_id: id, wait_for: "^\\$ $", timeout: 10 });
    expect(back.matched).toBe(true);
    const status = await h.call<Record<string, unknown>>("send_input", { session_id: id, input: "echo status=$?" });
    expect(status.output).toBe("status=130\n$ ");

    const waited = await h.call<Record<string, unknown>>("send_input", { session_id: id, input: "for i in 1 2 3; do echo step-$i; done; echo DONE-$((6*7))", wait_for: "DONE-\\d+", wait_for_timeout: 10 });
    expect({ matched: waited.matched, match_line: waited.match_line }).toEqual({ matched: true, match_line: "DONE-42" });

    const state = await h.call<Record<string, unknown>>("get_session_state", { session_id: id });
    expect(state).toEqual({
      session_id: id,
      type: "ssh",
      target: `root@127.0.0.1:${sshd.port}`,
      is_alive: true,
      cursor: expect.any(Number),
      read_cursor: expect.any(Number),
      state: "at_prompt",
      awaiting_secret: false,
      last_prompt: "$",
      created_at: expect.any(String),
      last_used: expect.any(String),
      cols: 120,
      rows: 40,
      persistent: false,
      auto_pager: false,
      shell_integration: "off: a command runs instead of the login shell",
      auth_method: `publickey (${key.path})`,
      host_key: { fingerprint: sshd.hostKey.fingerprint, key_type: "ssh-ed25519" },
    });
    await h.call("close_session", { session_id: id });
  });

  test("killing the server side: a pending wait_for returns with is_alive false; writes then fail with SESSION_CLOSED", async () => {
    const before = new Set(sshd.connectionPids());
    const { id, cursor } = await plainBash();
    const mine = sshd.connectionPids().filter((p) => !before.has(p));
    expect(mine.length).toBe(1);

    let pending!: () => void;
    const waiting = new Promise<void>((resolve) => (pending = resolve));
    const wait = h.call<Record<string, unknown>>("read_output", { session_id: id, wait_for: "never printed", timeout: 3600 }, { onprogress: () => pending() });
    // The first progress notification proves the wait is running in the server.
    await waiting;
    process.kill(mine[0] as number, "SIGKILL");
    const r = await wait;
    expect(r).toEqual({ matched: false, timed_out: false, tail: "$ ", cursor, is_alive: false, exit_code: null });

    expect(await h.callError("send_input", { session_id: id, input: "echo still there?" })).toEqual({
      code: "SESSION_CLOSED",
      retryable: false,
      message: expect.stringContaining(`root@127.0.0.1:${sshd.port}`),
    });
    const state = await h.call<Record<string, unknown>>("get_session_state", { session_id: id });
    expect({ is_alive: state.is_alive, exit_code: state.exit_code, exit_reason: state.exit_reason }).toEqual({
      is_alive: false,
      exit_code: null,
      exit_reason: `connection to root@127.0.0.1:${sshd.port} lost`,
    });
    await h.call("close_session", { session_id: id });
  });
});
