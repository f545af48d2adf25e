// The audit trail through the compiled binary: `pty-mcp audit serve` as the collector, the MCP
// server configured by the config file or by the Go original's verb-less --audit-url flag.
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAuditCollector, type AuditCollector } from "./harness/audit.ts";
import { binary, McpHarness } from "./harness/mcp";

/** dash with a fixed prompt: a shell whose prompt nothing rewrites. */
const plainSh = { command: "sh", env: { PS1: "$ ", ENV: "" } };


// Real processes on a shared 2-core machine.
setDefaultTimeout(60_000);
const TOKEN = "c".repeat(64);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function home(config: string): { dir: string; env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), "pty-mcp-audit-e2e-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, ".config", "pty-mcp"), { recursive: true });
  writeFileSync(join(dir, ".config", "pty-mcp", "config"), config, { mode: 0o600 });
  return { dir, env: { HOME: dir, XDG_CONFIG_HOME: join(dir, ".config"), ...plainSh.env } };
}

/** `pty-mcp audit serve` from the binary (harness/audit.ts), stopped after the test. */
async function collector(env: Record<string, string>, log: string, port = 0): Promise<AuditCollector> {
  const started = await startAuditCollector({ log, token: TOKEN, port, env });
  cleanups.push(started.stop);
  return started;
}

function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

async function start(env: Record<string, string>, args?: string[]): Promise<McpHarness> {
  const mcp = await McpHarness.start({ env, args });
  cleanups.push(() => mcp.close());
  return mcp;
}

function entries(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("audit end to end", () => {
  test("audit: strict with the collector down refuses send_input (AUDIT_REJECTED) and nothing is typed; once it is up the input goes through", async () => {
    const port = freePort();
    const { dir, env } = home(`audit-url=http://127.0.0.1:${port}\naudit-token=${TOKEN}\naudit-mode=strict\naudit-user=ops1\n`);
    const mcp = await start(env);
    const { session_id } = await mcp.call<{ session_id: string }>("create_local_session", { command: plainSh.command, env: plainSh.env });
    await mcp.call("read_output", { session_id, wait_for: "\\$ $", timeout: 10 });

    const refused = await mcp.callError("send_input", { session_id, input: "echo typed-$((6*7))" });
    expect({ ...refused, message: refused.message.replace(/\(.*?\)/, "(…)") }).toEqual({
      code: "AUDIT_REJECTED",
      message: `audit-mode is strict and the audit collector http://127.0.0.1:${port} did not accept the entry (…); the input was NOT sent. Start or fix the collector and retry, or set audit-mode=best-effort.`,
      retryable: true,
    });
    expect(await mcp.callError("send_control", { session_id, key: "ctrl+c" })).toMatchObject({ code: "AUDIT_REJECTED" });
    const screen = await mcp.call<{ lines: string[] }>("read_screen", { session_id });
    expect(screen.lines.filter((line) => line !== "")).toEqual(["$ "]);

    const log = join(dir, "collector.jsonl");
    await collector(env, log, port);
    const ok = await mcp.call<{ output: string }>("send_input", { session_id, input: "echo typed-$((6*7))" });
    expect(ok.output).toBe("typed-42\n$ ");
    expect(entries(log).map((e) => [e.event, e.cmd ?? null])).toContainEqual(["input", "echo typed-$((6*7))"]);
  });

  test("audit: the verb-less --audit-url flag sends create, input, output, control and close to `audit serve`; audit verify passes", async () => {
    const { dir, env } = home(`audit-token=${TOKEN}\naudit-user=ops1\n`);
    const log = join(dir, "collector.jsonl");
    const { url, stop } = await collector(env, log);
    const mcp = await start(env, ["--audit-url", url]);
    const { session_id } = await mcp.call<{ session_id: string }>("create_local_session", { command: plainSh.command, env: plainSh.env });
    await mcp.call("read_output", { session_id, wait_for: "\\$ $", timeout: 10 });
    await mcp.call("send_input", { session_id, input: "echo password=hunter2; echo hello" });
    await mcp.call("send_control", { session_id, key: "ctrl+c" });
    expect(await mcp.call("read_output", { session_id, wait_for: "\\$ $", timeout: 10 })).toMatchObject({ matched: true });
    await mcp.call("close_session", { session_id });
    await mcp.close();
    await stop();

    const got = entries(log);
    expect(got.map((e) => [e.event, e.session_id, e.user, e.type ?? null, e.cmd ?? e.key ?? e.output_snippet ?? null])).toEqual([
      ["create", session_id, "ops1", "local", null],
      ["input", session_id, "ops1", "local", "echo password=[REDACTED]"],
      // The snippet is what the terminal showed after the input, its echo included.
      ["output", session_id, "ops1", null, "echo password=[REDACTED]\npassword=[REDACTED]\nhello\n$ "],
      ["control", session_id, "ops1", "local", "ctrl+c"],
      ["output", session_id, "ops1", null, "^C\n$ "],
      ["close", session_id, "ops1", "local", null],
    ]);
    expect(got[5]).toMatchObject({ reason: "close_session", target: "sh" });
    expect(got[2]?.cmd_id).toBe(got[1]?.cmd_id);
    const verify = Bun.spawnSync([binary, "audit", "verify", log], { env: { ...process.env, ...env } });
    expect({ code: verify.exitCode, stdout: verify.stdout.toString() }).toEqual({ code: 0, stdout: "ok 6 entries\n" });
  });

  test("audit: detach_session records a detach entry (the program goes on in the daemon); closing the reattached session records its close", async () => {
    const { dir, env } = home("audit-user=ops1\n");
    const log = join(dir, "audit.jsonl");
    const runtime = join(dir, "run");
    mkdirSync(runtime);
    chmodSync(runtime, 0o700);
    cleanups.push(() => stopDaemon(runtime));
    const mcp = await start({ ...env, XDG_RUNTIME_DIR: runtime }, ["--audit-log", log]);
    const { session_id } = await mcp.call<{ session_id: string }>("create_local_session", { command: "cat", persistent: true });
    expect(await mcp.call("send_input", { session_id, input: "kept", wait_for: "^kept$" })).toMatchObject({ matched: true });
    expect(await mcp.call("detach_session", { session_id })).toEqual({ success: true, session_id });
    expect(await mcp.call("create_local_session", { session_id })).toMatchObject({ session_id, reattached: true, is_alive: true });
    await mcp.call("close_session", { session_id });
    await mcp.close();

    const got = entries(log);
    expect(got.filter((e) => e.event !== "output").map((e) => [e.event, e.session_id, e.user, e.type, e.reason ?? null])).toEqual([
      ["create", session_id, "ops1", "local", null],
      ["input", session_id, "ops1", "local", null],
      ["detach", session_id, "ops1", "local", "detached; the program keeps running in the daemon"],
      ["create", session_id, "ops1", "local", null],
      ["close", session_id, "ops1", "local", "close_session"],
    ]);
    const verify = Bun.spawnSync([binary, "audit", "verify", log], { env: { ...process.env, ...env } });
    expect({ code: verify.exitCode, stdout: verify.stdout.toString() }).toEqual({ code: 0, stdout: `ok ${got.length} entries\n` });
  });
});

/** Ends the test's own daemon (its pid file is in the private runtime dir) and waits until it is gone. */
async function stopDaemon(runtime: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(join(runtime, "pty-mcp", "daemon.pid"), "utf8").trim());
  } catch {
    return;
  }
  if (!(pid > 0)) return;
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(pid, "SIGKILL");
  for (let delay = 5; alive(); delay = Math.min(delay * 2, 100)) await Bun.sleep(delay);
}
