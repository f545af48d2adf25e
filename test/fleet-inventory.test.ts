// Inventories and host patterns against Debian's ansible-core as the oracle: the same file gives
// the same groups, host variables and host lists (SPEC §10).
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Inventory } from "../src/fleet/inventory.ts";
import { loadInventory, parseInventoryText } from "../src/fleet/load.ts";
import { selectHosts } from "../src/fleet/patterns.ts";
import { ansibleAvailable, ansibleGetHostsRuns, ansibleInventoryList, ansibleListHosts } from "./harness/ansible.ts";

const dir = join(import.meta.dir, "fixtures", "inventory");
const files = ["hosts.ini", "hosts.yml", "nested.ini", "nested.yaml"];

function load(file: string): Inventory {
  const inventory = new Inventory();
  parseInventoryText(inventory, readFileSync(join(dir, file), "utf8"), join(dir, file));
  return inventory;
}

/** Our inventory in the shape `ansible-inventory --list` prints. */
function asAnsibleList(inventory: Inventory): unknown {
  const available = new Set(inventory.groupHosts("all"));
  const seen = new Set<string>();
  const out: Record<string, unknown> = {};
  const format = (name: string): void => {
    const group = inventory.groups.get(name);
    if (group === undefined) return;
    const entry: Record<string, unknown> = {};
    if (name !== "all") {
      const hosts = group.hosts.filter((h) => available.has(h));
      if (hosts.length > 0) entry.hosts = hosts;
    }
    if (group.children.length > 0) entry.children = [...group.children];
    if (Object.keys(entry).length > 0) out[name] = entry;
    for (const child of group.children) {
      if (!seen.has(child)) {
        seen.add(child);
        format(child);
      }
    }
  };
  format("all");
  const hostvars: Record<string, unknown> = {};
  for (const host of inventory.groupHosts("all")) {
    const vars = inventory.hostVars(host);
    if (Object.keys(vars).length > 0) hostvars[host] = vars;
  }
  return { _meta: { hostvars }, ...out };
}

const patterns = [
  "all",
  "*",
  "web",
  "prod:!db",
  "frontend:&staging",
  "!staging:frontend",
  "web*",
  "~db-[ab]",
  "~(web|lb)0?[12]",
  "all[0]",
  "web[1:2]",
  "web[-1]",
  "web[2:]",
  "ungrouped",
  "db,lb",
  "db:lb:web",
  "lb, db-a ,web-canary",
  "*.example.net:!web0[12]*",
  "prod:&frontend:!lb",
  "db-[ab]",
  "stage-?",
  "no-such-group",
  "edge:prod",
  "cdn*:&edge",
  "leaf:&mid",
  "top",
  "mid*:!leaf2",
];

describe.skipIf(!ansibleAvailable)("inventory: same as ansible-inventory --list", () => {
  for (const file of files) {
    test(`${file}: groups, children and host variables`, () => {
      expect(asAnsibleList(load(file))).toEqual(ansibleInventoryList(join(dir, file)) as object);
    });
  }
});

describe.skipIf(!ansibleAvailable)("group_vars/ and host_vars/ beside the inventory", () => {
  test("with-vars/hosts: variables from files and directories, in Ansible's precedence", async () => {
    const file = join(dir, "with-vars", "hosts");
    const inventory = await loadInventory({ env: { PTY_MCP_INVENTORY: file }, sshConfigHosts: false });
    expect(asAnsibleList(inventory)).toEqual(ansibleInventoryList(file) as object);
  });
});

describe.skipIf(!ansibleAvailable)("patterns: same hosts as Ansible", () => {
  for (const file of files) {
    test(`${file}: ${patterns.length} patterns as InventoryManager.get_hosts`, () => {
      const inventory = load(file);
      const ours: Record<string, string[] | { error: string }> = {};
      // Ansible walks a level of child groups through a Python set of Group objects (hashed by
      // address): where two groups on one level both have children, its order varies from run to
      // run. Runs tell which patterns are stable; those must match in order, the rest as sets.
      // Three runs were too few: all three agreed on one order of hosts.yml's "all" (and "*") often
      // enough (1 of 4 loaded runs of this file, and 1/4 per unstable pattern in theory), and ours then
      // had to equal an order Ansible only happened to pick. 20 fresh inventories in one process: both
      // orders came up 4 to 16 times in every sample of 20, so a false "stable" is ~1 in 500 000.
      const runs = ansibleGetHostsRuns(join(dir, file), patterns, 20);
      const theirs = runs[0] as Record<string, string[] | { error: string }>;
      const unstable = patterns.filter((p) => runs.some((r) => JSON.stringify(r[p]) !== JSON.stringify(theirs[p])));
      for (const p of unstable) theirs[p] = [...(theirs[p] as string[])].sort();
      for (const p of patterns) {
        try {
          ours[p] = selectHosts(inventory, p);
          if (unstable.includes(p)) ours[p] = [...(ours[p] as string[])].sort();
        } catch (err) {
          // Both must fail; the wording differs.
          ours[p] = { error: (theirs[p] as { error?: string }).error ?? `ours failed: ${(err as Error).message}` };
        }
      }
      expect(ours).toEqual(theirs);
    });
  }
  for (const [file, pattern] of [
    ["hosts.ini", "prod:!db"],
    ["hosts.yml", "web*:&staging"],
    ["hosts.ini", "~db-[ab],lb1"],
    ["nested.yaml", "top:!leaf"],
  ] as const) {
    test(`${file}: ansible ${pattern} --list-hosts`, () => {
      expect(selectHosts(load(file), pattern)).toEqual(ansibleListHosts(join(dir, file), pattern));
    });
  }
});
