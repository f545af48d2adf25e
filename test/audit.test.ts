// The audit trail for real: `pty-mcp audit …` as a process (test/fixtures/audit-cli.ts until the
// binary dispatches it), the collector on an OS-assigned loopback port, AuditLog delivering to it
// and to a local hash-chained JSONL file. HOME and XDG_CONFIG_HOME point into a temp dir per test.
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLog } from "../src/audit/audit-log";
import { GENESIS_HASH, lineHash } from "../src/audit/chain";
import { resolveAuditSettings } from "../src/audit/config";
import { PtyError } from "../src/errors";
import { SecretRedactor } from "../src/secrets/secret-redactor";


// Real processes on a shared 2-core machine.
setDefaultTimeout(30_000);
const cli = join(import.meta.dir, "fixtures", "audit-cli.ts");
const TOKEN = "a".repeat(64);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempHome(): { dir: string; env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), "pty-mcp-audit-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, env: { HOME: dir, PATH: process.env.PATH ?? "/usr/bin:/bin", USER: "tester" } };
}

function runCli(args: string[], env: Record<string, string>): { code: number | null; stdout: string; stderr: string } {
  const proc = Bun.spawnSync([process.execPath, cli, ...args], { env, stdin: "ignore" });
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

interface Serve {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** `audit serve` as a process; resolves once it printed its port. */
async function serve(env: Record<string, string>, log: string, port = 0): Promise<Serve> {
  const proc = Bun.spawn([process.execPath, cli, "serve", "--port", String(port), "--log", log], {
    env: { ...env, PTY_MCP_AUDIT_TOKEN: TOKEN },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const reader = proc.stderr.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const match = /listening on http:\/\/127\.0\.0\.1:(\d+) /.exec(text);
    if (match) {
      reader.releaseLock();
      const actual = Number(match[1]);
      let stopped: Promise<void> | undefined;
      const stop = (): Promise<void> => {
        stopped ??= (async () => {
          proc.kill("SIGTERM");
          await proc.exited;
        })();
        return stopped;
      };
      cleanups.push(stop);
      return { port: actual, url: `http://127.0.0.1:${actual}`, stop };
    }
    const { done, value } = await reader.read();
    if (done) throw new Error(`audit serve exited: ${text}`);
    text += decoder.decode(value, { stream: true });
  }
}

/** A port that was free a moment ago, for a collector that starts later. */
function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

function lines(path: string): string[] {
  try {
    return readFileSync(path, "utf8").split("\n").filter((line) => line !== "");
  } catch {
    return [];
  }
}

/** Waits for a condition (entries arriving), polling; fails after 10 s. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

function auditLog(options: ConstructorParameters<typeof AuditLog>[0]): AuditLog {
  const log = new AuditLog(options);
  cleanups.push(() => log.close());
  return log;
}

async function post(url: string, body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }, method = "POST") {
  const response = await fetch(url, { method, headers, body: method === "POST" ? body : undefined });
  return { status: response.status, body: await response.text() };
}

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string; retryable: boolean }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof PtyError) return { code: err.code, message: err.message, retryable: err.retryable };
    throw err;
  }
  throw new Error("resolved");
}

describe("audit config (init, enable, disable)", () => {
  test("audit init: 0600 config under XDG_CONFIG_HOME with a random 64-hex token and the flags; a second init refuses", () => {
    const { dir, env } = tempHome();
    const xdg = join(dir, "xdg");
    const first = runCli(["init", "--audit-url", "http://127.0.0.1:9099", "--audit-user", "ops1", "--audit-mode", "strict", "--audit-log", "~/audit.jsonl"], { ...env, XDG_CONFIG_HOME: xdg });
    const path = join(xdg, "pty-mcp", "config");
    expect(first.code).toBe(0);
    expect(first.stdout).toStartWith(`Created: ${path}\n`);
    const text = readFileSync(path, "utf8");
    const token = /^audit-token=([0-9a-f]+)$/m.exec(text)?.[1] ?? "";
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(first.stdout.includes(token)).toBe(false);
    expect(text.split("\n").filter((line) => line !== "" && !line.startsWith("#"))).toEqual([
      "audit-url=http://127.0.0.1:9099",
      "audit-log=~/audit.jsonl",
      "audit-user=ops1",
      "audit-mode=strict",
      `audit-token=${token}`,
      "audit-enabled=true",
    ]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(xdg, "pty-mcp")).mode & 0o777).toBe(0o700);

    const again = runCli(["init"], { ...env, XDG_CONFIG_HOME: xdg });
    expect(again).toEqual({ code: 1, stdout: "", stderr: `Config already exists: ${path}\nUse --force to overwrite it (a new token is generated).\n` });
    const forced = runCli(["init", "--force"], { ...env, XDG_CONFIG_HOME: xdg });
    expect(forced.code).toBe(0);
    expect(readFileSync(path, "utf8").includes(token)).toBe(false);

    // The forced init named no destination: audit stays off.
    expect(resolveAuditSettings({}, { ...env, XDG_CONFIG_HOME: xdg })).toBeUndefined();
  });

  test("audit init without XDG_CONFIG_HOME writes $HOME/.config/pty-mcp/config; enable/disable toggle it", () => {
    const { dir, env } = tempHome();
    const path = join(dir, ".config", "pty-mcp", "config");
    expect(runCli(["init", "--audit-url", "http://127.0.0.1:9099"], env).code).toBe(0);
    const token = /^audit-token=(.*)$/m.exec(readFileSync(path, "utf8"))?.[1];
    expect(resolveAuditSettings({}, env)).toEqual({ url: "http://127.0.0.1:9099", token, user: "tester", mode: "best-effort" });

    expect(runCli(["disable"], env)).toEqual({ code: 0, stdout: "Audit disabled (config and token kept). Restart the MCP client to apply.\n", stderr: "" });
    const disabled = readFileSync(path, "utf8");
    expect(disabled).toContain("\n# audit-url=http://127.0.0.1:9099\n");
    expect(disabled).toContain("\naudit-enabled=false\n");
    expect(resolveAuditSettings({}, env)).toBeUndefined();
    // A destination given as a flag turns audit on whatever the file says.
    expect(resolveAuditSettings({ log: "/tmp/x.jsonl" }, env)?.logPath).toBe("/tmp/x.jsonl");

    expect(runCli(["enable"], env)).toEqual({ code: 0, stdout: "Audit enabled (collector http://127.0.0.1:9099). Restart the MCP client to apply.\n", stderr: "" });
    expect(resolveAuditSettings({}, env)?.url).toBe("http://127.0.0.1:9099");
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  test("audit enable with only the placeholder URL refuses and leaves it commented out", () => {
    const { dir, env } = tempHome();
    expect(runCli(["init"], env).code).toBe(0);
    const path = join(dir, ".config", "pty-mcp", "config");
    expect(runCli(["enable"], env)).toEqual({ code: 1, stdout: "", stderr: `Audit has no destination: set audit-url=… or audit-log=… in ${path}.\n` });
    expect(readFileSync(path, "utf8")).toContain("\n# audit-url=http://your-collector:9099\n");
    expect(resolveAuditSettings({}, env)).toBeUndefined();
  });

  test("config: group/other-readable file refused; flags and PTY_MCP_AUDIT_TOKEN override the file; bad mode named", async () => {
    const { dir, env } = tempHome();
    const path = join(dir, ".config", "pty-mcp", "config");
    mkdirSync(join(dir, ".config", "pty-mcp"), { recursive: true });
    writeFileSync(path, "audit-url=http://10.0.0.1:9099/\naudit-token=filetoken\naudit-user=alice\naudit-mode=strict\n", { mode: 0o644 });
    chmodSync(path, 0o644);
    expect(await rejection((async () => resolveAuditSettings({}, env))())).toEqual({
      code: "INVALID_ARGUMENT",
      message: `Config file ${path} has unsafe permissions 644 (it holds the audit token); run: chmod 600 ${path}`,
      retryable: false,
    });
    chmodSync(path, 0o600);
    expect(resolveAuditSettings({}, env)).toEqual({ url: "http://10.0.0.1:9099", token: "filetoken", user: "alice", mode: "strict" });
    expect(resolveAuditSettings({ url: "http://127.0.0.1:1", user: "bob", mode: "best-effort", log: "~/a.jsonl" }, { ...env, PTY_MCP_AUDIT_TOKEN: "envtoken" })).toEqual({
      url: "http://127.0.0.1:1",
      token: "envtoken",
      user: "bob",
      mode: "best-effort",
      logPath: join(dir, "a.jsonl"),
    });
    expect(await rejection((async () => resolveAuditSettings({ mode: "paranoid" }, env))())).toEqual({
      code: "INVALID_ARGUMENT",
      message: '--audit-mode: audit-mode must be best-effort or strict, got "paranoid".',
      retryable: false,
    });
  });
});

describe("audit serve (collector)", () => {
  test("audit serve: the right token appends a chained line; a wrong or missing token gets 401 and appends nothing", async () => {
    const { dir, env } = tempHome();
    const log = join(dir, "collector.jsonl");
    const collector = await serve(env, log);
    expect(await post(`${collector.url}/audit`, JSON.stringify({ cmd: "ls", n: 1 }))).toEqual({ status: 200, body: "" });
    expect(await post(`${collector.url}/audit`, JSON.stringify({ cmd: "evil" }), { authorization: `Bearer ${TOKEN}x` })).toEqual({ status: 401, body: "unauthorized\n" });
    expect(await post(`${collector.url}/audit`, JSON.stringify({ cmd: "evil" }), { authorization: `Bearer ${"b".repeat(64)}` })).toEqual({ status: 401, body: "unauthorized\n" });
    expect(await post(`${collector.url}/audit`, JSON.stringify({ cmd: "evil" }), {})).toEqual({ status: 401, body: "unauthorized\n" });
    expect(await post(`${collector.url}/audit`, JSON.stringify({ cmd: "pwd", n: 2 }))).toEqual({ status: 200, body: "" });
    await collector.stop();
    const first = `{"cmd":"ls","n":1,"prev_hash":"${GENESIS_HASH}"}`;
    expect(lines(log)).toEqual([first, `{"cmd":"pwd","n":2,"prev_hash":"${lineHash(first)}"}`]);
    expect(statSync(log).mode & 0o777).toBe(0o600);
  });

  test("audit serve: over 1 MiB → 413 (declared or chunked); bad JSON → 400; GET → 405; another path → 404", async () => {
    const { dir, env } = tempHome();
    const log = join(dir, "collector.jsonl");
    const collector = await serve(env, log);
    const huge = JSON.stringify({ cmd: "x".repeat(1024 * 1024) });
    expect(await post(`${collector.url}/audit`, huge)).toEqual({ status: 413, body: "entry larger than 1048576 bytes\n" });
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
        controller.close();
      },
    });
    expect(await post(`${collector.url}/audit`, chunked)).toEqual({ status: 413, body: "entry larger than 1048576 bytes\n" });
    expect(await post(`${collector.url}/audit`, "{not json")).toEqual({ status: 400, body: "invalid json\n" });
    expect(await post(`${collector.url}/audit`, "[1,2]")).toEqual({ status: 400, body: "expected a JSON object\n" });
    expect(await post(`${collector.url}/audit`, "", undefined, "GET")).toEqual({ status: 405, body: "method not allowed\n" });
    expect(await post(`${collector.url}/other`, "{}")).toEqual({ status: 404, body: "not found\n" });
    // Just under the limit is fine.
    expect((await post(`${collector.url}/audit`, JSON.stringify({ cmd: "y".repeat(1024 * 1024 - 100) }))).status).toBe(200);
    await collector.stop();
    expect(lines(log).length).toBe(1);
  });

  test("audit serve: a restarted collector continues the chain of its log; verify says ok", async () => {
    const { dir, env } = tempHome();
    const log = join(dir, "collector.jsonl");
    for (let round = 0; round < 2; round++) {
      const collector = await serve(env, log);
      for (let i = 0; i < 3; i++) expect((await post(`${collector.url}/audit`, JSON.stringify({ round, i }))).status).toBe(200);
      await collector.stop();
    }
    expect(runCli(["verify", log], env)).toEqual({ code: 0, stdout: "ok 6 entries\n", stderr: "" });
  });

  test("audit serve without a token refuses to start", () => {
    const { dir, env } = tempHome();
    const result = runCli(["serve", "--port", "0", "--log", join(dir, "c.jsonl")], env);
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr: `pty-mcp audit serve: no token: set PTY_MCP_AUDIT_TOKEN or audit-token in ${join(dir, ".config", "pty-mcp", "config")} ("pty-mcp audit init" makes one).\n`,
    });
  });
});

describe("AuditLog", () => {
  test("AuditLog entries: the Go original's fields plus ours; credentials and held secrets redacted; output linked by cmd_id", async () => {
    const { dir, env } = tempHome();
    const collectorLog = join(dir, "collector.jsonl");
    const localLog = join(dir, "local.jsonl");
    const collector = await serve(env, collectorLog);
    const redactor = new SecretRedactor();
    using _ = redactor.hold(new TextEncoder().encode("Tr0ub4dor&3"));
    const audit = auditLog({ url: collector.url, token: TOKEN, user: "ops1", mode: "strict", logPath: localLog, redact: (t) => redactor.redactText(t) });
    const cmdId = await audit.record({ event: "input", session_id: "s1", type: "ssh", target: "admin@sw1:22", cmd: "mysql --password=hunter2 -e 'select 1'; echo Tr0ub4dor&3", raw: false });
    await audit.recordOutput({ session_id: "s1", cmd_id: cmdId, output: "token: abc123\nTr0ub4dor&3\nok" });
    await audit.record({ event: "control", session_id: "s1", type: "ssh", target: "admin@sw1:22", key: "ctrl+c" });
    await until(() => lines(collectorLog).length === 3, "3 entries at the collector");
    await collector.stop();

    const local = lines(localLog).map((line) => JSON.parse(line) as Record<string, unknown>);
    const base = { user: "ops1", host: hostname(), pid: process.pid, session_id: "s1" };
    expect(local).toEqual([
      {
        seq: 1, ts: local[0]?.ts, ...base, event: "input", type: "ssh", target: "admin@sw1:22", cmd_id: cmdId,
        cmd: "mysql --password=[REDACTED]", prev_hash: GENESIS_HASH,
      },
      {
        seq: 2, ts: local[1]?.ts, ...base, event: "output", cmd_id: cmdId, output_snippet: "token: [REDACTED]\n***\nok", output_bytes: 28,
        prev_hash: lineHash(lines(localLog)[0] ?? ""),
      },
      {
        seq: 3, ts: local[2]?.ts, ...base, event: "control", type: "ssh", target: "admin@sw1:22", cmd_id: local[2]?.cmd_id, key: "ctrl+c",
        prev_hash: lineHash(lines(localLog)[1] ?? ""),
      },
    ]);
    expect(local[0]?.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // The collector got the same entries (without our file's prev_hash) and chained them itself.
    const remote = lines(collectorLog).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(remote.map(({ prev_hash: _p, ...rest }) => rest)).toEqual(local.map(({ prev_hash: _p, ...rest }) => rest));
    const everything = readFileSync(localLog, "utf8") + readFileSync(collectorLog, "utf8");
    expect([everything.includes("Tr0ub4dor"), everything.includes("hunter2"), everything.includes("abc123")]).toEqual([false, false, false]);
  });

  test("AuditLog: a long paste is cut so every entry stays under the Go collector's 64 KiB body limit, and says so", async () => {
    const { dir } = tempHome();
    const path = join(dir, "local.jsonl");
    const audit = auditLog({ user: "ops1", mode: "best-effort", logPath: path });
    const long = "x".repeat(200 * 1024);
    const escaped = "\u0001".repeat(30 * 1024); // 30 KiB of text, 180 KiB as JSON
    await audit.record({ event: "input", session_id: "s1", cmd: long });
    await audit.record({ event: "input", session_id: "s1", cmd: escaped });
    await audit.record({ event: "input", session_id: "s1", cmd: "short" });
    const got = lines(path).map((line) => ({ bytes: Buffer.byteLength(line), entry: JSON.parse(line) as { cmd: string; cmd_truncated_from_bytes?: number } }));
    expect(got.map((g) => g.bytes <= 60 * 1024 + 100)).toEqual([true, true, true]);
    expect(got.slice(0, 2).map((g, i) => [[long, escaped][i]?.startsWith(g.entry.cmd), g.entry.cmd.length > 4096, g.entry.cmd_truncated_from_bytes])).toEqual([
      [true, true, 200 * 1024],
      [true, true, 30 * 1024],
    ]);
    expect([got[2]?.entry.cmd, got[2]?.entry.cmd_truncated_from_bytes]).toEqual(["short", undefined]);
  });

  test("strict: with the collector down record rejects with AUDIT_REJECTED within the timeout and writes nothing locally", async () => {
    const { dir } = tempHome();
    const localLog = join(dir, "local.jsonl");
    const port = freePort();
    const audit = auditLog({ url: `http://127.0.0.1:${port}`, token: TOKEN, user: "ops1", mode: "strict", logPath: localLog, strictTimeoutMs: 1000 });
    const started = performance.now();
    expect(await rejection(audit.record({ event: "input", session_id: "s1", cmd: "reload" }))).toEqual({
      code: "AUDIT_REJECTED",
      message: expect.stringMatching(
        new RegExp(`^audit-mode is strict and the audit collector http://127\\.0\\.0\\.1:${port} did not accept the entry \\(.+\\); the input was NOT sent\\. Start or fix the collector and retry, or set audit-mode=best-effort\\.$`),
      ) as unknown as string,
      retryable: true,
    });
    // Bounded by the 1 s timeout, not by retrying for ever (slack for a loaded machine).
    expect(performance.now() - started).toBeLessThan(6000);
    expect(lines(localLog)).toEqual([]);
    expect(audit.stats).toEqual({ delivered: 0, queued: 0, dropped: 0, rejected: 0 });
  });

  test("strict: the deadline is on a monotonic clock — a wall clock that keeps being set back does not stretch it", async () => {
    const port = freePort();
    const audit = auditLog({ url: `http://127.0.0.1:${port}`, token: TOKEN, user: "ops1", mode: "strict", strictTimeoutMs: 1000 });
    // NTP stepping a drifted clock, a VM restored from a snapshot: every read 10 minutes earlier than the last.
    // On Date.now() the retry loop's "remaining" only grew and it retried for as long as the clock went back.
    const realNow = Date.now;
    let reads = 0;
    Date.now = () => realNow() - reads++ * 600_000;
    try {
      const outcome = await Promise.race([
        rejection(audit.record({ event: "input", session_id: "s1", cmd: "reload" })).then((e) => ({ code: e.code, retryable: e.retryable })),
        Bun.sleep(30_000).then(() => "still retrying after 30 s"),
      ]);
      expect(outcome).toEqual({ code: "AUDIT_REJECTED", retryable: true });
    } finally {
      Date.now = realNow;
    }
  });

  test("strict: a wrong token is refused at once (401 is not retried)", async () => {
    const { dir, env } = tempHome();
    const collector = await serve(env, join(dir, "collector.jsonl"));
    const audit = auditLog({ url: collector.url, token: "wrong", user: "ops1", mode: "strict", strictTimeoutMs: 30_000 });
    const started = performance.now();
    const error = await rejection(audit.record({ event: "input", session_id: "s1", cmd: "reload" }));
    expect(error.message).toStartWith(`audit-mode is strict and the audit collector ${collector.url} did not accept the entry (HTTP 401); the input was NOT sent.`);
    // Retried, it would take the whole 30 s timeout; answered at once it is one round trip (slack for load).
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  test("best-effort: entries recorded while the collector is down arrive, in order, once it starts", async () => {
    const { dir, env } = tempHome();
    const collectorLog = join(dir, "collector.jsonl");
    const port = freePort();
    const audit = auditLog({ url: `http://127.0.0.1:${port}`, token: TOKEN, user: "ops1", mode: "best-effort", retryDelaysMs: [50, 100, 200] });
    for (let i = 1; i <= 3; i++) await audit.record({ event: "input", session_id: "s1", cmd: `cmd ${i}` });
    await until(() => audit.stats.queued === 3, "the first failed attempt");
    await Bun.sleep(300); // several retries fail while the collector is down
    expect(audit.stats).toEqual({ delivered: 0, queued: 3, dropped: 0, rejected: 0 });
    await serve(env, collectorLog, port);
    await until(() => audit.stats.delivered === 3, "delivery");
    expect(lines(collectorLog).map((line) => (JSON.parse(line) as { cmd: string }).cmd)).toEqual(["cmd 1", "cmd 2", "cmd 3"]);
    expect(audit.stats).toEqual({ delivered: 3, queued: 0, dropped: 0, rejected: 0 });
  });

  test("best-effort: a full queue drops the oldest entries and counts them", async () => {
    const { dir, env } = tempHome();
    const collectorLog = join(dir, "collector.jsonl");
    const port = freePort();
    const audit = auditLog({ url: `http://127.0.0.1:${port}`, token: TOKEN, user: "ops1", mode: "best-effort", queueSize: 2, retryDelaysMs: [50] });
    for (let i = 1; i <= 5; i++) await audit.record({ event: "input", session_id: "s1", cmd: `cmd ${i}` });
    await until(() => audit.stats.dropped === 3, "drops");
    await serve(env, collectorLog, port);
    await until(() => audit.stats.delivered === 2, "delivery");
    expect(lines(collectorLog).map((line) => (JSON.parse(line) as { cmd: string; seq: number }).seq)).toEqual([4, 5]);
    expect(audit.stats).toEqual({ delivered: 2, queued: 0, dropped: 3, rejected: 0 });
  });

  test("best-effort: entries the collector refuses (wrong token) are counted as rejected, not retried", async () => {
    const { dir, env } = tempHome();
    const collector = await serve(env, join(dir, "collector.jsonl"));
    const audit = auditLog({ url: collector.url, token: "wrong", user: "ops1", mode: "best-effort", retryDelaysMs: [50] });
    await audit.record({ event: "input", session_id: "s1", cmd: "a" });
    await audit.record({ event: "input", session_id: "s1", cmd: "b" });
    await until(() => audit.stats.rejected === 2, "rejections");
    expect(audit.stats).toEqual({ delivered: 0, queued: 0, dropped: 0, rejected: 2 });
  });
});

describe("audit verify", () => {
  async function localLog(count: number): Promise<{ path: string; env: Record<string, string> }> {
    const { dir, env } = tempHome();
    const path = join(dir, "local.jsonl");
    const audit = new AuditLog({ user: "ops1", mode: "best-effort", logPath: path });
    for (let i = 1; i <= count; i++) await audit.record({ event: "input", session_id: "s1", cmd: `command ${i}` });
    await audit.close();
    return { path, env };
  }

  test("audit verify: ok on a clean log; names the line after an edited entry", async () => {
    const { path, env } = await localLog(5);
    expect(runCli(["verify", path], env)).toEqual({ code: 0, stdout: "ok 5 entries\n", stderr: "" });
    writeFileSync(path, readFileSync(path, "utf8").replace('"cmd":"command 3"', '"cmd":"command 3 (harmless)"'));
    expect(runCli(["verify", path], env)).toEqual({
      code: 1,
      stdout: `${path}:4: prev_hash does not match line 3: line 3 was edited, or lines between them were deleted\nbroken at line 4; the 3 entries before it are intact\n`,
      stderr: "",
    });
  });

  test("audit verify: names the line after a deleted entry, and a deleted first entry", async () => {
    const { path, env } = await localLog(5);
    const original = lines(path);
    writeFileSync(path, `${original.filter((_, i) => i !== 1).join("\n")}\n`);
    expect(runCli(["verify", path], env)).toEqual({
      code: 1,
      stdout: `${path}:2: prev_hash does not match line 1: line 1 was edited, or lines between them were deleted\nbroken at line 2; the 1 entries before it are intact\n`,
      stderr: "",
    });
    writeFileSync(path, `${original.slice(1).join("\n")}\n`);
    expect(runCli(["verify", path], env)).toEqual({
      code: 1,
      stdout: `${path}:1: prev_hash is not the chain start (64 zeros): lines before it were deleted\nbroken at line 1; the 0 entries before it are intact\n`,
      stderr: "",
    });
    writeFileSync(path, `${original.join("\n")}\n${(original[4] ?? "").slice(0, 40)}`);
    expect(runCli(["verify", path], env).stdout).toStartWith(`${path}:6: not valid JSON (edited or cut short)\n`);
    expect(runCli(["verify", join(path, "missing")], env).code).toBe(2);
  });

  test("three processes appending to one audit-log keep one valid chain", async () => {
    const { dir, env } = tempHome();
    const path = join(dir, "shared.jsonl");
    const writer = join(import.meta.dir, "fixtures", "audit-writer.ts");
    const procs = ["a", "b", "c"].map((user) => Bun.spawn([process.execPath, writer, path, "200", user, "a,b,c"], { env, stdin: "ignore", stdout: "ignore", stderr: "inherit" }));
    expect(await Promise.all(procs.map((p) => p.exited))).toEqual([0, 0, 0]);
    expect(runCli(["verify", path], env)).toEqual({ code: 0, stdout: "ok 600 entries\n", stderr: "" });
    const users = lines(path).map((line) => (JSON.parse(line) as { user: string }).user);
    // They really interleaved (otherwise the lock was never contended).
    expect(users.filter((user, i) => i > 0 && user !== users[i - 1]).length).toBeGreaterThan(2);
  });
});
