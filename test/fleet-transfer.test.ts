// transfer_file against real OpenSSH servers: an upload to 10 hosts at once (same SHA-256
// everywhere, never a partial file in place), downloads, a wrong path, a full disk, 200 MB in
// bounded memory, and no temp file left behind.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "bun";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFleet, type Fleet } from "./harness/fleet.ts";
import { McpHarness } from "./harness/mcp.ts";
import { sshdAvailable } from "./harness/sshd.ts";

const names = Array.from({ length: 10 }, (_, i) => `t${String(i + 1).padStart(2, "0")}`);
let fleet: Fleet;
let h: McpHarness;
let work: string;
let noisy: string;

type Transfer = {
  direction: string;
  summary: { hosts: number; ok: number; failed: number; bytes: number; elapsed_ms: number };
  results: { host: string; ok: boolean; bytes?: number; sha256?: string; local_path?: string; code?: string; message?: string }[];
};

const sha = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");

beforeAll(async () => {
  // t10's shell prints on stdout and stderr before every command, as rc files do (pyenv, banners).
  noisy = join(tmpdir(), `pty-mcp-noisy-rc-${process.pid}.sh`);
  writeFileSync(noisy, 'echo "pyenv: cannot rehash: /root/.pyenv/shims is not writable" >&2\necho "Welcome to t10"\n');
  fleet = await startFleet({ names, firstOctet: 41, hostEnv: { t10: `BASH_ENV=${noisy}` } });
  const inventory = fleet.writeInventory("hosts.ini", `[all_t]\n${fleet.hostLines(names)}\n`);
  work = join(fleet.home, "work");
  mkdirSync(work);
  h = await McpHarness.start({ env: fleet.env(inventory) });
});
afterAll(async () => {
  await h?.close();
  await fleet?.[Symbol.asyncDispose]();
  rmSync(noisy, { force: true });
});

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.includes(".pty-mcp-"));
}

describe.skipIf(!sshdAvailable)("transfer_file", () => {
  test("transfer_file: one upload to 10 hosts, equal SHA-256 everywhere; a reader never sees a partial file; nothing left behind", async () => {
    const data = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7919) % 251);
    const local = join(work, "payload.bin");
    writeFileSync(local, data);
    const remotes = names.map((n) => join(fleet.byName(n).root, "payload.bin"));
    for (const r of remotes) writeFileSync(r, "old version\n");
    const seen = new Set<string>();
    let reading = true;
    const reader = (async () => {
      while (reading) {
        for (const r of remotes) seen.add(sha(readFileSync(r)));
        await Bun.sleep(5);
      }
    })();
    // Each host has its own directory here (one machine underneath), so ten calls at once, one per host.
    const results = await Promise.all(names.map((n) => h.call<Transfer>("transfer_file", { direction: "upload", local_path: local, remote_path: join(fleet.byName(n).root, "payload.bin"), host: n, mode: "0640" })));
    reading = false;
    await reader;
    expect(results.map((r) => r.results)).toEqual(names.map((n) => [{ host: n, ok: true, bytes: data.length, sha256: sha(data) }]));
    expect(remotes.map((r) => sha(readFileSync(r)))).toEqual(remotes.map(() => sha(data)));
    expect([...seen].sort()).toEqual([sha(data), sha("old version\n")].sort());
    expect(names.flatMap((n) => leftovers(fleet.byName(n).root))).toEqual([]);
    expect((spawnSync(["stat", "-c", "%a", remotes[0] as string]).stdout.toString().trim())).toBe("640");
  });

  test("transfer_file: one call uploads to all hosts of a pattern (the same path on each)", async () => {
    const local = join(work, "motd");
    writeFileSync(local, "hello fleet\n");
    const target = join(work, "shared-motd");
    const result = await h.call<Transfer>("transfer_file", { direction: "upload", local_path: local, remote_path: target, pattern: "all_t:!t10" });
    expect({ ...result, summary: { ...result.summary, elapsed_ms: 0 } }).toEqual({
      direction: "upload",
      summary: { hosts: 9, ok: 9, failed: 0, bytes: 9 * 12, elapsed_ms: 0 },
      results: names.slice(0, 9).map((n) => ({ host: n, ok: true, bytes: 12, sha256: sha("hello fleet\n") })),
    });
    expect(readFileSync(target, "utf8")).toBe("hello fleet\n");
    expect(leftovers(work)).toEqual([]);
  });

  test("transfer_file: download from one host, and from several into {host} paths", async () => {
    for (const n of names.slice(0, 3)) writeFileSync(join(fleet.byName(n).root, "etc", "hostname"), `${n}\n`);
    const one = await h.call<Transfer>("transfer_file", { direction: "download", local_path: join(work, "t01-hostname"), remote_path: join(fleet.byName("t01").root, "etc", "hostname"), host: "t01" });
    expect(one.results).toEqual([{ host: "t01", ok: true, bytes: 4, sha256: sha("t01\n"), local_path: join(work, "t01-hostname") }]);
    expect(readFileSync(join(work, "t01-hostname"), "utf8")).toBe("t01\n");
    const err = await h.callError("transfer_file", { direction: "download", local_path: join(work, "x"), remote_path: "/etc/hostname", pattern: "t01:t02" });
    expect(err.code).toBe("INVALID_ARGUMENT");
  });

  test("transfer_file: session_id uses the host of an SSH session", async () => {
    const m = fleet.byName("t04");
    const session = await h.call<{ session_id: string }>("create_ssh_session", { host: m.address, port: m.sshd.port, user: "root", shell_integration: false });
    const local = join(work, "via-session");
    writeFileSync(local, "through the session's host\n");
    const target = join(m.root, "via-session");
    const result = await h.call<Transfer>("transfer_file", { direction: "upload", local_path: local, remote_path: target, session_id: session.session_id });
    await h.call("close_session", { session_id: session.session_id });
    expect({ results: result.results, content: readFileSync(target, "utf8") }).toEqual({
      results: [{ host: `root@${m.address}:${m.sshd.port}`, ok: true, bytes: 27, sha256: sha("through the session's host\n") }],
      content: "through the session's host\n",
    });
  });

  test("transfer_file: a wrong path and a full disk are clear per-host errors, nothing left behind", async () => {
    const local = join(work, "two-mb");
    writeFileSync(local, new Uint8Array(2 * 1024 * 1024).fill(65));
    const missing = await h.call<Transfer>("transfer_file", { direction: "upload", local_path: local, remote_path: "/nonexistent-dir/x", host: "t01" });
    expect({ ok: missing.results[0]?.ok, code: missing.results[0]?.code }).toEqual({ ok: false, code: "INVALID_ARGUMENT" });
    expect(missing.results[0]?.message).toMatch(/^Writing \/nonexistent-dir\/\.x\.pty-mcp-\S+\.tmp on root@127\.0\.0\.41:\d+: no such file or directory\. Check the path/);
    const small = join(work, "small-fs");
    mkdirSync(small);
    expect(spawnSync(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small]).exitCode).toBe(0);
    try {
      const full = await h.call<Transfer>("transfer_file", { direction: "upload", local_path: local, remote_path: join(small, "big"), host: "t02" });
      expect({ ok: full.results[0]?.ok, code: full.results[0]?.code }).toEqual({ ok: false, code: "WRITE_FAILED" });
      expect(full.results[0]?.message).toContain("the disk may be full");
      expect(readdirSync(small)).toEqual([]);
      const down = await h.call<Transfer>("transfer_file", { direction: "download", local_path: join(work, "nope"), remote_path: "/nonexistent-file", host: "t01" });
      expect(down.results[0]?.code).toBe("INVALID_ARGUMENT");
      expect(existsSync(join(work, "nope"))).toBe(false);
      expect(leftovers(work)).toEqual([]);
    } finally {
      spawnSync(["umount", small]);
    }
  });

  test("transfer_file: 200 MB up and back down whole (SHA-256), progress in bytes, the server's RSS grows by less than 50 MB", async () => {
    const local = join(work, "big.bin");
    spawnSync(["sh", "-c", `head -c 200000000 /dev/urandom > ${local}`]);
    // The connection and ssh2 itself are loaded first: the measure is of the transfer, not of the first SSH use.
    writeFileSync(join(work, "warm-up"), "x");
    await h.call<Transfer>("transfer_file", { direction: "upload", local_path: join(work, "warm-up"), remote_path: join(fleet.byName("t03").root, "warm-up"), host: "t03" });
    const pid = h.transport.pid;
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
    const base = rss();
    let peak = base;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, rss());
        await Bun.sleep(20);
      }
    })();
    const target = join(fleet.byName("t03").root, "big.bin");
    const progress: { progress: number; total?: number }[] = [];
    const result = await h.call<Transfer>("transfer_file", { direction: "upload", local_path: local, remote_path: target, host: "t03" }, { onprogress: (p) => progress.push(p) });
    const uploadPeak = peak;
    peak = rss();
    const back = join(work, "big-back.bin");
    const download = await h.call<Transfer>("transfer_file", { direction: "download", local_path: back, remote_path: target, host: "t03" });
    sampling = false;
    await sampler;
    const expected = spawnSync(["sha256sum", local]).stdout.toString().slice(0, 64);
    console.error(`transfer_file 200 MB: server RSS grew ${Math.round((uploadPeak - base) / 1048576)} MB (upload), ${Math.round((peak - base) / 1048576)} MB (download)`);
    expect({ upload: result.results, download: download.results }).toEqual({
      upload: [{ host: "t03", ok: true, bytes: 200_000_000, sha256: expected }],
      download: [{ host: "t03", ok: true, bytes: 200_000_000, sha256: expected, local_path: back }],
    });
    expect({ uploadUnder50MB: uploadPeak - base < 50 * 1024 * 1024, downloadUnder50MB: peak - base < 50 * 1024 * 1024 }).toEqual({ uploadUnder50MB: true, downloadUnder50MB: true });
    // Progress in bytes: rising, of the file's size.
    const values = progress.map((p) => p.progress);
    expect({ some: values.length >= 3, rising: values.every((v, i) => i === 0 || v > (values[i - 1] as number)), totals: [...new Set(progress.map((p) => p.total))], last: (values.at(-1) ?? 0) <= 200_000_000 }).toEqual({ some: true, rising: true, totals: [200_000_000], last: true });
    spawnSync(["rm", "-f", back]);
    spawnSync(["rm", "-f", local, target]);
  });
});
