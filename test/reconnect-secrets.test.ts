/**
 * A persistent SSH session logged in with a password, whose link is cut so that reconnecting
 * fails: the password (held by the mirror to log in again) never shows in get_session_state's
 * `reconnect`, in any tool result, in the server's stderr, the audit log, the recording, the
 * session log or any file under either HOME. Real sshd on loopback, the password account of
 * harness/sshd.ts, the compiled binary as the MCP server and as the remote daemon (deployed by
 * the first persistent use), `pty-mcp audit serve` as the collector.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "bun";
import { chownSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startAuditCollector, type AuditCollector } from "./harness/audit.ts";
import { McpHarness, untilState } from "./harness/mcp.ts";
import { descendantPids, ensurePasswordUser, knownHostsLine, sshdAvailable, startSshd, tempDir, type Sshd } from "./harness/sshd.ts";

setDefaultTimeout(120_000);

const TOKEN = "d".repeat(64);
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const PLAIN_BASH = "env PS1='$ ' PROMPT_COMMAND= bash --norc --noprofile";

/** Every file under `dir` (recursively) whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  const walk = (path: string): void => {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined) return;
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
    else if (st.isFile() && readFileSync(path).includes(needle)) found.push(path);
  };
  walk(dir);
  return found;
}

describe.skipIf(!sshdAvailable)("a password session's reconnect keeps the password out of everything", () => {
  const local = tempDir("pty-mcp-recsec-local-");
  const remote = tempDir("pty-mcp-recsec-remote-");
  const auditLog = join(local.path, "audit.jsonl");
  let pw: { user: string; password: string };
  let sshd: Sshd;
  let collector: AuditCollector | undefined;
  let h: McpHarness;
  /** The JSON of every tools/call result, errors included. */
  const results: string[] = [];

  beforeAll(async () => {
    pw = ensurePasswordUser();
    // The remote HOME belongs to the password account (the deploy writes ~/.local/bin there, the daemon its socket).
    const uid = Number(spawnSync(["id", "-u", pw.user]).stdout.toString().trim());
    const gid = Number(spawnSync(["id", "-g", pw.user]).stdout.toString().trim());
    mkdirSync(join(remote.path, "run"), { mode: 0o700 });
    chownSync(remote.path, uid, gid);
    chownSync(join(remote.path, "run"), uid, gid);
    sshd = await startSshd({ extraConfig: `SetEnv HOME=${remote.path} XDG_RUNTIME_DIR=${join(remote.path, "run")}` });
    mkdirSync(join(local.path, ".ssh"), { mode: 0o700 });
    writeFileSync(join(local.path, ".ssh", "known_hosts"), `${knownHostsLine(sshd)}\n`);
    collector = await startAuditCollector({ log: auditLog, token: TOKEN });
    mkdirSync(join(local.path, ".config", "pty-mcp"), { recursive: true });
    writeFileSync(join(local.path, ".config", "pty-mcp", "config"), `audit-url=${collector.url}\naudit-token=${TOKEN}\naudit-mode=strict\naudit-user=ops1\n`, { mode: 0o600 });
    h = await McpHarness.start({ env: { HOME: local.path, XDG_CONFIG_HOME: join(local.path, ".config"), SSH_AUTH_SOCK: "", PTY_MCP_RELEASE_DIR: "" } });
    const callRaw = h.callRaw.bind(h);
    h.callRaw = async (...args) => {
      const result = await callRaw(...args);
      results.push(JSON.stringify(result));
      return result;
    };
  });

  afterAll(async () => {
    await h?.close();
    spawnSync(["sh", "-c", `pid=$(cat '${join(remote.path, "run", "pty-mcp", "daemon.pid")}' 2>/dev/null) && kill $pid`]);
    await sshd?.[Symbol.asyncDispose]();
    await collector?.stop();
    remote[Symbol.dispose]();
    local[Symbol.dispose]();
  });

  const lastErrorOf = (state: Record<string, unknown>) => (state.reconnect as { last_error?: { code?: string; message?: string } } | undefined)?.last_error;

  test("sshd killed (refused), then back refusing password logins (auth failed): reconnect is {since, attempts, last_error} and the password is nowhere", async () => {
    const target = { host: "127.0.0.1", port: sshd.port, user: pw.user };
    const s = await h.call<Record<string, unknown>>("create_ssh_session", { ...target, password: pw.password, persistent: true, command: PLAIN_BASH });
    expect(s).toMatchObject({ persistent: true, connected: true, auth_method: "password", remote_path: `${remote.path}/.local/bin/pty-mcp` });
    const id = s.session_id as string;
    await h.call("read_output", { session_id: id, wait_for: "^\\$ $", timeout: 30 });
    expect(await h.call<Record<string, unknown>>("send_input", { session_id: id, input: "echo one" })).toMatchObject({ output: "one\n$ ", is_alive: true });

    // The host's sshd goes away with every connection: reconnecting is refused.
    const hostKey = sshd.hostKey.path;
    const port = sshd.port;
    // Every process under sshd, grandchildren too: for an account other than root, the privilege-separated
    // child that holds the connection runs under the monitor, and it outlives a killed monitor.
    const connections = descendantPids(sshd.pid);
    process.kill(sshd.pid, "SIGKILL");
    for (const pid of connections) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    const refused = { code: "SSH_CONN_FAILED", message: `Connection to ${pw.user}@127.0.0.1:${port} refused: nothing listens on port ${port}. Check the port and that sshd runs.`, retryable: true };
    let state = await untilState(h, id, (st) => lastErrorOf(st)?.message === refused.message);
    expect(state.reconnect).toEqual({ since: expect.stringMatching(ISO_TIME), attempts: expect.any(Number), last_error: refused });
    expect([state.connected, state.is_alive, (state.reconnect as { attempts: number }).attempts >= 1]).toEqual([false, true, true]);
    const since = (state.reconnect as { since: string }).since;
    const failed = await h.callError("send_input", { session_id: id, input: "echo two" });
    expect({ code: failed.code, retryable: failed.retryable }).toEqual({ code: "DAEMON_UNAVAILABLE", retryable: true });

    // The same host (same key, same port) back, but refusing password logins for this account: the
    // reconnect's login fails, and its error is the one that came nearest to the password.
    const back = await startSshd({
      hostKeyPath: hostKey,
      port,
      extraConfig: `SetEnv HOME=${remote.path} XDG_RUNTIME_DIR=${join(remote.path, "run")}\nMatch User ${pw.user}\n  PasswordAuthentication no`,
    });
    try {
      state = await untilState(h, id, (st) => lastErrorOf(st)?.code === "SSH_AUTH_FAILED");
      expect(state.reconnect).toEqual({
        since,
        attempts: expect.any(Number),
        last_error: {
          code: "SSH_AUTH_FAILED",
          message: `Authentication to ${pw.user}@127.0.0.1:${port} failed (tried: password). Check the user name and the password, or use a key (key_path, ssh-agent).`,
          retryable: false,
          tried_methods: ["password"],
        },
      });
      expect([state.connected, state.is_alive]).toEqual([false, true]);
    } finally {
      await back.stop();
    }

    // Nothing anyone sees or keeps has the password.
    const everything = { results: results.filter((r) => r.includes(pw.password)), stderr: h.stderr.includes(pw.password) };
    expect(everything).toEqual({ results: [], stderr: false });
    expect(results.length).toBeGreaterThan(4);
    expect(readFileSync(auditLog, "utf8")).toContain("echo one");
    expect({ local: filesContaining(local.path, pw.password), remote: filesContaining(remote.path, pw.password) }).toEqual({ local: [], remote: [] });
  });
});
