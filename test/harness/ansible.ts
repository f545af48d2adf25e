/**
 * Debian's ansible-core as the oracle for inventories and host patterns: `ansible-inventory
 * --list`, `ansible PATTERN --list-hosts`, and (for many patterns in one process) the same
 * InventoryManager.get_hosts those commands call.
 */
import { spawnSync } from "bun";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ansibleAvailable = spawnSync(["which", "ansible-inventory"]).exitCode === 0;

// Ansible must not read a config, a cache or a vault password of the machine's.
function env(dir: string): Record<string, string> {
  return { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: dir, ANSIBLE_CONFIG: join(dir, "none.cfg"), ANSIBLE_LOCAL_TEMP: dir, LC_ALL: "C.UTF-8" };
}

function run(args: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), `pty-mcp-ansible-${process.pid}-`));
  try {
    const r = spawnSync(args, { env: env(dir), stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`${args.join(" ")} failed (${r.exitCode}): ${r.stderr.toString()}`);
    return r.stdout.toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function ansibleInventoryList(file: string): unknown {
  return JSON.parse(run(["/usr/bin/ansible-inventory", "-i", file, "--list"]));
}

/** `ansible -i FILE PATTERN --list-hosts`, parsed ("  hosts (N):" then one name a line). */
export function ansibleListHosts(file: string, pattern: string): string[] {
  const out = run(["/usr/bin/ansible", "-i", file, pattern, "--list-hosts"]);
  return out
    .split("\n")
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

// argv: FILE PATTERNS_JSON [RUNS]. Each run is a fresh InventoryManager, all kept alive: Ansible walks a
// level of child groups through a Python set of Group objects hashed by address, so where that order
// shows, fresh objects at other addresses give the other orders (both of two came up 4–16 times in 20).
const ORACLE = `
import json, sys
from ansible.parsing.dataloader import DataLoader
from ansible.inventory.manager import InventoryManager
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
kept = []
outs = []
for _ in range(runs):
    inv = InventoryManager(loader=DataLoader(), sources=[sys.argv[1]])
    kept.append(inv)
    out = {}
    for p in json.loads(sys.argv[2]):
        try:
            out[p] = [h.name for h in inv.get_hosts(p)]
        except Exception as e:
            out[p] = {"error": str(e)}
    outs.append(out)
print(json.dumps(outs))
`;

type HostsByPattern = Record<string, string[] | { error: string }>;

/** get_hosts(pattern) for each pattern, in one python process, from `runs` fresh InventoryManagers: host names, or {error}. */
export function ansibleGetHostsRuns(file: string, patterns: string[], runs: number): HostsByPattern[] {
  const dir = mkdtempSync(join(tmpdir(), `pty-mcp-oracle-${process.pid}-`));
  try {
    const script = join(dir, "oracle.py");
    writeFileSync(script, ORACLE);
    return JSON.parse(run(["/usr/bin/python3", script, file, JSON.stringify(patterns), String(runs)])) as HostsByPattern[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
