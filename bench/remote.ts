// bun bench/remote.ts — remote hosts over loopback sshd (issue 7), same run, same server:
//   deploy   seconds for `pty-mcp deploy` to a fresh host path (gzip + SFTP + SHA-256 + trial run),
//            and for the no-op second deploy
//   M1       round trip of `echo` at a bash prompt (send_input → output complete),
//            plain SSH session vs persistent SSH session (remote daemon through `pty-mcp client`)
//   M2       latency from a marker printed (the program's own clock) to wait_for returning
// Needs root (sshd). The "remote host" is a temp HOME with its own XDG_RUNTIME_DIR (its daemon is
// stopped at the end).
import { spawnSync } from "bun";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { binary, McpHarness } from "../test/harness/mcp.ts";
import { echoRoundTrip, markerLatency, row } from "./round-trip.ts";
import { knownHostsLine, makeKey, startSshd, tempDir } from "../test/harness/sshd.ts";

const rounds = Number(process.env.BENCH_ROUNDS ?? 40);
const local = tempDir("pty-mcp-bench-remote-local-");
const remote = tempDir("pty-mcp-bench-remote-host-");
const runtime = join(remote.path, "run");
mkdirSync(runtime, { mode: 0o700 });
mkdirSync(join(local.path, ".ssh"), { mode: 0o700 });
const sshd = await startSshd({ extraConfig: `SetEnv HOME=${remote.path} XDG_RUNTIME_DIR=${runtime}` });
const key = makeKey(join(local.path, ".ssh", "id_ed25519"));
sshd.authorize(key.pub);
writeFileSync(join(local.path, ".ssh", "known_hosts"), `${knownHostsLine(sshd)}\n`);
const env = { HOME: local.path, SSH_AUTH_SOCK: "", PTY_MCP_RELEASE_DIR: "" };

const results: Record<string, number> = {};
const deploy = (): number => {
  const t = performance.now();
  const r = spawnSync([binary, "deploy", "127.0.0.1", "--port", String(sshd.port), "--user", "root"], { env: { ...process.env, ...env } });
  if (r.exitCode !== 0) throw new Error(`deploy failed: ${r.stderr.toString()}`);
  return (performance.now() - t) / 1000;
};
results.deploy_fresh_s = deploy();
results.deploy_noop_s = deploy();

const h = await McpHarness.start({ env });
try {
  for (const persistent of [false, true]) {
    const kind = persistent ? "persistent_ssh" : "plain_ssh";
    const s = await h.call<{ session_id: string }>("create_ssh_session", {
      host: "127.0.0.1", port: sshd.port, user: "root", persistent,
      command: "env PS1='$ ' PROMPT_COMMAND= bash --norc --noprofile",
    });
    await h.call("read_output", { session_id: s.session_id, wait_for: "^\\$ $", timeout: 20 });
    for (let i = 0; i < 5; i++) await h.call("send_input", { session_id: s.session_id, input: `echo w${i}` });

    results[`M1_${kind}_ms`] = await echoRoundTrip(h, s.session_id, rounds);
    results[`M2_${kind}_ms`] = await markerLatency(h, s.session_id, Math.ceil(rounds / 2), { settle: true });
    await h.call("close_session", { session_id: s.session_id });
  }
} finally {
  await h.close();
  try {
    process.kill(Number(readFileSync(join(runtime, "pty-mcp", "daemon.pid"), "utf8")), "SIGTERM");
  } catch {
    // no daemon
  }
  await sshd[Symbol.asyncDispose]();
  remote[Symbol.dispose]();
  local[Symbol.dispose]();
}

console.log(`deploy to a fresh host: ${results.deploy_fresh_s!.toFixed(2)} s; second (no-op): ${results.deploy_noop_s!.toFixed(2)} s`);
console.log(`${"".padEnd(34)} ${"plain SSH".padStart(11)} ${"persistent".padStart(11)}   ratio`);
row("M1 echo round trip", results.M1_plain_ssh_ms!, results.M1_persistent_ssh_ms!);
row("M2 marker printed → wait_for", results.M2_plain_ssh_ms!, results.M2_persistent_ssh_ms!);
console.log(JSON.stringify(results));
