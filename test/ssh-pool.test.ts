// The per-host connection pool against a real sshd: one connection for concurrent leases,
// closed after the idle time, dropped when the connection dies (the next lease connects again).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConnectionPool } from "../src/ssh/pool.ts";
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
