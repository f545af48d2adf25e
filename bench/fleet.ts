// bun bench/fleet.ts — run_on_hosts against pdsh -R ssh, clush -b and ansible -m command on the
// same loopback hosts (one sshd each on 127.0.0.11…, own host keys), the same ~/.ssh/config and
// inventory, in the same run (machines are noisy: compare ratios). Command: `uname -a; uptime`.
//   cold:   the first run (every connection new; for pty-mcp a fresh server process, timed from
//           the tools/call, the server already initialized as an agent's is)
//   warm:   the second run (pty-mcp: its pooled connections; ansible: its own ControlPersist;
//           pdsh and clush connect anew each run, as they do without a ControlMaster)
// FLEET_SIZES=10,25,50 (default) chooses the sizes; every tool gets a fan-out of the size.
import { spawnSync } from "bun";
import { chmodSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startFleet } from "../test/harness/fleet.ts";
import { McpHarness } from "../test/harness/mcp.ts";

const sizes = (process.env.FLEET_SIZES ?? "10,25,50").split(",").map(Number);
const max = Math.max(...sizes);
const names = Array.from({ length: max }, (_, i) => `n${String(i + 1).padStart(2, "0")}`);
const command = "uname -a; uptime";

// The hosts are logged into as an account whose login shell is /bin/sh with no rc files: root's
// ~/.bashrc here (pyenv, cargo) costs ~300 ms per command on the remote side, for every tool
// alike, and would hide the tools' own cost.
const BENCH_USER = "ptymcpbench";
if (spawnSync(["id", BENCH_USER]).exitCode !== 0) spawnSync(["useradd", "-M", "-d", "/nonexistent", "-s", "/bin/sh", "-p", "*", BENCH_USER]); // "*": no password, not locked

console.error(`starting ${max} sshd…`);
await using fleet = await startFleet({ names });
// sshd reads authorized_keys as the user logging in: let it into the sshd dirs.
for (const m of fleet.members) chmodSync(m.sshd.dir, 0o755);
const ssh = join(fleet.home, ".ssh");
writeFileSync(
  join(ssh, "config"),
  fleet.members.map((m) => `Host ${m.name}\n  HostName ${m.address}\n  Port ${m.sshd.port}\n  User ${BENCH_USER}\n  IdentityFile ${fleet.key.path}\n  UserKnownHostsFile ${join(ssh, "known_hosts")}\n  BatchMode yes\n`).join(""),
);
const inventory = fleet.writeInventory("hosts.ini", sizes.map((n) => `[s${n}]\n${names.slice(0, n).join("\n")}\n`).join(""));
// OpenSSH takes ~ from the password database, not $HOME: the tools get the config file by -F.
const sshConfig = join(ssh, "config");
const env = {
  PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
  HOME: fleet.home,
  USER: "root",
  ANSIBLE_REMOTE_TMP: "/tmp/.ansible-bench",
  LC_ALL: "C.UTF-8",
  PDSH_SSH_ARGS_APPEND: `-F ${sshConfig}`,
  ANSIBLE_CONFIG: join(fleet.home, "none.cfg"),
  ANSIBLE_HOST_KEY_CHECKING: "True",
  ANSIBLE_SSH_COMMON_ARGS: `-F ${sshConfig}`,
};

function timed(args: string[], expectHosts: number): number {
  const t0 = performance.now();
  const r = spawnSync(args, { env, stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - t0;
  const out = r.stdout.toString() + r.stderr.toString();
  const hits = (out.match(/Linux /g) ?? []).length;
  if (r.exitCode !== 0 || hits < Math.min(expectHosts, 1)) throw new Error(`${args[0]} failed (${r.exitCode}): ${out.slice(0, 2000)}`);
  return ms;
}

const tools: Record<string, (n: number) => string[]> = {
  "pdsh -R ssh": (n) => ["pdsh", "-R", "ssh", "-f", String(n), "-w", names.slice(0, n).join(","), command],
  "clush -b": (n) => ["clush", "-b", "-f", String(n), "-o", `-F ${sshConfig}`, "-w", names.slice(0, n).join(","), command],
  "ansible -m command": (n) => ["ansible", "-i", inventory, `s${n}`, "-f", String(n), "-m", "command", "-a", `sh -c '${command}'`],
};

type Row = { size: number; tool: string; cold: number; warm: number };
const rows: Row[] = [];
for (const n of sizes) {
  // pty-mcp: a fresh server for the cold run, the same server for the warm one.
  {
    await using h = await McpHarness.start({ env: { ...env, PTY_MCP_INVENTORY: inventory, SSH_AUTH_SOCK: "" } });
    const run = async () => {
      const t0 = performance.now();
      const r = await h.call<{ summary: { ok: number } }>("run_on_hosts", { pattern: `s${n}`, command, concurrency: n });
      if (r.summary.ok !== n) throw new Error(`pty-mcp: ${JSON.stringify(r).slice(0, 2000)}`);
      return performance.now() - t0;
    };
    const cold = await run();
    const warm = await run();
    rows.push({ size: n, tool: "pty-mcp run_on_hosts", cold, warm });
  }
  for (const [tool, args] of Object.entries(tools)) {
    rmSync(join(fleet.home, ".ansible"), { recursive: true, force: true });
    const cold = timed(args(n), n);
    const warm = timed(args(n), n);
    rows.push({ size: n, tool, cold, warm });
  }
  // Ansible's ControlPersist masters: end them (ours) before the next size.
  for (const line of spawnSync(["pgrep", "-f", `${fleet.home}/.ansible/cp`]).stdout.toString().split("\n")) if (Number(line) > 0) process.kill(Number(line), "SIGTERM");
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
console.log(`| hosts | tool | cold | warm | pty-mcp cold faster by | pty-mcp warm faster by |`);
console.log(`|---|---|---|---|---|---|`);
for (const n of sizes) {
  const ours = rows.find((r) => r.size === n && r.tool.startsWith("pty-mcp")) as Row;
  for (const r of rows.filter((x) => x.size === n)) {
    const mine = r === ours;
    console.log(`| ${n} | ${r.tool} | ${fmt(r.cold)} | ${fmt(r.warm)} | ${mine ? "" : `${(r.cold / ours.cold).toFixed(1)}x`} | ${mine ? "" : `${(r.warm / ours.warm).toFixed(1)}x`} |`);
  }
}
