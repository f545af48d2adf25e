// The per-host connection pool against a real sshd: one connection for concurrent leases,
// closed after the idle time, dropped when the connection dies (the next lease connects again).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConnectionPool } from "../src/ssh/pool.ts";
import { McpHarness } from "./harness/mcp.ts";
import { knownHostsLine, makeKey, startSshd, sshdAvailable, tempDir, type Sshd } from "./harness/sshd.ts";

const home = tempDir(`pty-mcp-pool-${process.pid}-`);
let sshd: Sshd;
let options: { host: string; port: number; user: string; home: string; userConfigFile: string; systemConfigFile: string };

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await Bun.sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  mkdirSync(join(home.path, ".ssh"), { mode: 0o700 });
  const key = makeKey(join(home.path, ".ssh", "id_ed25519"));
  sshd = await startSshd();
  sshd.authorize(key.pub);
  writeFileSync(join(home.path, ".ssh", "known_hosts"), `${knownHostsLine(sshd)}\n`);
  options = { host: "127.0.0.1", port: sshd.port, user: "root", home: home.path, userConfigFile: "/dev/null", systemConfigFile: "/dev/null" };
});
afterAll(async () => {
  await sshd?.[Symbol.asyncDispose]();
  home[Symbol.dispose]();
});

describe.skipIf(!sshdAvailable)("ConnectionPool", () => {
  test("pool: concurrent leases share one connection; it closes after the idle time; the next lease connects again", async () => {
    const pool = new ConnectionPool({ idleMs: 300 });
    const [a, b] = await Promise.all([pool.acquire(options), pool.acquire(options)]);
    expect({ same: a.connection === b.connection, stats: pool.stats(), sshdConnections: sshd.connectionPids().length }).toEqual({ same: true, stats: { open: 1, connects: 1 }, sshdConnections: 1 });
    const c = await pool.acquire(options);
    expect({ reused: c.reused, stats: pool.stats() }).toEqual({ reused: true, stats: { open: 1, connects: 1 } });
    a.release();
    b.release();
    await Bun.sleep(400);
    // Still leased by c: not idle.
    expect(pool.stats().open).toBe(1);
    c.release();
    c.release(); // idempotent
    await until(() => pool.stats().open === 0 && sshd.connectionPids().length === 0, "the idle connection to close");
    const d = await pool.acquire(options);
    expect({ reused: d.reused, stats: pool.stats() }).toEqual({ reused: false, stats: { open: 1, connects: 2 } });
    d.release();
    pool.closeAll();
    await until(() => sshd.connectionPids().length === 0, "closeAll");
  });

  test("pool: a connection that dies is dropped; lookup finds nothing and the next lease connects afresh", async () => {
    const pool = new ConnectionPool();
    const a = await pool.acquire(options);
    a.release();
    const looked = pool.lookup(options);
    expect(looked?.reused).toBe(true);
    looked?.release();
    for (const pid of sshd.connectionPids()) process.kill(pid, "SIGKILL");
    await until(() => pool.stats().open === 0, "the pool to notice");
    expect(pool.lookup(options)).toBeUndefined();
    const b = await pool.acquire(options);
    expect({ reused: b.reused, connects: pool.stats().connects }).toEqual({ reused: false, connects: 2 });
    b.release();
    pool.closeAll();
  });

  test("pool: a failed connect is not kept (both waiting leases get the error, the next one tries again)", async () => {
    const pool = new ConnectionPool();
    const bad = { ...options, port: 1 };
    const results = await Promise.allSettled([pool.acquire(bad), pool.acquire(bad)]);
    expect(results.map((r) => (r.status === "rejected" ? (r.reason as { code?: string }).code : "ok"))).toEqual(["SSH_CONN_FAILED", "SSH_CONN_FAILED"]);
    expect(pool.stats()).toEqual({ open: 0, connects: 1 });
    await pool.acquire(bad).catch(() => undefined);
    expect(pool.stats().connects).toBe(2);
  });
});

describe.skipIf(!sshdAvailable)("the pool under sshd's MaxSessions, through the binary", () => {
  test("a channel refused on the pooled connection (MaxSessions 2, both taken) ends none of the sessions on it: the new session connects on its own, the next run_on_hosts on a fresh connection", async () => {
    await using limited = await startSshd({ extraConfig: "MaxSessions 2" });
    using dir = tempDir(`pty-mcp-pool-limit-${process.pid}-`);
    mkdirSync(join(dir.path, ".ssh"), { mode: 0o700 });
    limited.authorize(makeKey(join(dir.path, ".ssh", "id_ed25519")).pub);
    writeFileSync(join(dir.path, ".ssh", "known_hosts"), `${knownHostsLine(limited)}\n`);
    writeFileSync(join(dir.path, "hosts.ini"), `h1 ansible_host=127.0.0.1 ansible_port=${limited.port} ansible_user=root\n`);
    await using h = await McpHarness.start({ env: { HOME: dir.path, SSH_AUTH_SOCK: "", PTY_MCP_INVENTORY: join(dir.path, "hosts.ini") } });
    const logins = () => limited.log().match(/Accepted publickey for root /g)?.length ?? 0;
    const target = { host: "127.0.0.1", port: limited.port, user: "root", shell_integration: false };
    const alive = async (id: string, word: string) =>
      expect(await h.call("send_input", { session_id: id, input: `echo ${word}-$((6*7))`, wait_for: `^${word}-42` })).toMatchObject({ matched: true, is_alive: true });

    // run_on_hosts pools a connection; two sessions open their shells on it (sshd's two session channels).
    expect(await h.call("run_on_hosts", { hosts: ["h1"], command: "echo pooled" })).toMatchObject({ groups: [{ hosts: ["h1"], exit_code: 0, output: "pooled\n" }] });
    const first = (await h.call<{ session_id: string }>("create_ssh_session", target)).session_id;
    await alive(first, "first");
    const second = (await h.call<{ session_id: string }>("create_ssh_session", target)).session_id;
    await alive(second, "second");
    expect(logins()).toBe(1);

    // The pooled connection refuses a third shell channel: the third session gets a connection of its own,
    // and the two on the pooled one are not taken down with the refusal.
    const third = (await h.call<{ session_id: string }>("create_ssh_session", target)).session_id;
    await alive(third, "third");
    await alive(first, "still");
    await alive(second, "still");
    expect(logins()).toBe(2);

    // The refusing connection is out of the pool: run_on_hosts connects afresh and works.
    expect(await h.call("run_on_hosts", { hosts: ["h1"], command: "echo again" })).toMatchObject({ groups: [{ hosts: ["h1"], exit_code: 0, output: "again\n" }], failures: [] });
    expect(logins()).toBe(3);
    // Once its last two users are closed, the retired connection closes.
    const before = limited.connectionPids().length;
    await h.call("close_session", { session_id: first });
    await h.call("close_session", { session_id: second });
    await until(() => limited.connectionPids().length === before - 1, "the retired connection to close");
    await h.call("close_session", { session_id: third });
  });
});
