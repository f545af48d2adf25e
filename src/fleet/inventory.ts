/**
 * An Ansible inventory in memory, built the way ansible-core 2.14 builds it
 * (ansible/inventory/data.py, group.py, host.py): the groups `all` and `ungrouped` always
 * exist, every group without a parent becomes a child of `all`, a host in no group but `all`
 * lands in `ungrouped`, a group's hosts are its own then its descendants' (breadth first, in
 * the order they were added), and a host's variables are its groups' (sorted by depth,
 * `ansible_group_priority`, name) overridden by its own.
 *
 * Pure: the parsers (inventory-ini.ts, inventory-yaml.ts) fill it from text; load.ts reads files.
 */
import { PtyError } from "../errors.ts";

export type Vars = Record<string, unknown>;

export interface InventoryGroup {
  readonly name: string;
  /** Hosts added directly, in order. */
  readonly hosts: string[];
  /** Child groups, in the order added. */
  readonly children: string[];
  readonly parents: string[];
  readonly vars: Vars;
  priority: number;
}

export interface InventoryHost {
  readonly name: string;
  readonly vars: Vars;
  /** Groups the host was added to directly, in order. */
  readonly groups: string[];
}

/** Most groups or hosts one inventory may hold. */
export const MAX_INVENTORY_ENTRIES = 200_000;

export class Inventory {
  readonly groups = new Map<string, InventoryGroup>();
  readonly hosts = new Map<string, InventoryHost>();
  /** group_vars/NAME and host_vars/NAME beside the sources (vars-dirs.ts): above the inventory file's own. */
  readonly groupDirVars = new Map<string, Vars>();
  readonly hostDirVars = new Map<string, Vars>();
  /** Hosts that come from ~/.ssh/config alone: the inventory's variables (all:vars) do not apply to them. */
  readonly sshConfigOnly = new Set<string>();
  #hostsCache = new Map<string, string[]>();

  constructor() {
    this.addGroup("all");
    this.addGroup("ungrouped");
    this.addChild("all", "ungrouped");
  }

  addGroup(name: string): InventoryGroup {
    if (name.length === 0) throw new PtyError("INVALID_ARGUMENT", "Inventory: an empty group name.");
    let group = this.groups.get(name);
    if (group === undefined) {
      this.#checkSize();
      group = { name, hosts: [], children: [], parents: [], vars: {}, priority: 1 };
      this.groups.set(name, group);
    }
    return group;
  }

  /** Adds the host if new (a port is recorded only then, as Ansible's Host(name, port) does), and to `group`. */
  addHost(name: string, group?: string, port?: number): InventoryHost {
    if (name.length === 0) throw new PtyError("INVALID_ARGUMENT", "Inventory: an empty host name.");
    let host = this.hosts.get(name);
    if (host === undefined) {
      this.#checkSize();
      host = { name, vars: {}, groups: [] };
      if (port !== undefined && port !== 0) host.vars.ansible_port = port;
      this.hosts.set(name, host);
    }
    if (group !== undefined) {
      const g = this.groups.get(group);
      if (g === undefined) throw new PtyError("INVALID_ARGUMENT", `Inventory: could not find group ${group}.`);
      if (!g.hosts.includes(name)) {
        g.hosts.push(name);
        host.groups.push(group);
        this.#hostsCache.clear();
      }
    }
    return host;
  }

  /** Makes `child` (a group or a host) a member of `group`. */
  addChild(group: string, child: string): void {
    const parent = this.groups.get(group);
    if (parent === undefined) throw new PtyError("INVALID_ARGUMENT", `Inventory: ${group} is not a known group.`);
    const childGroup = this.groups.get(child);
    if (childGroup !== undefined) {
      if (childGroup === parent) throw new PtyError("INVALID_ARGUMENT", `Inventory: group '${group}' cannot be its own child.`);
      if (parent.children.includes(child)) return;
      if (this.ancestors(group).has(child))
        throw new PtyError("INVALID_ARGUMENT", `Inventory: adding group '${child}' as child to '${group}' creates a recursive dependency loop.`);
      parent.children.push(child);
      if (!childGroup.parents.includes(group)) childGroup.parents.push(group);
    } else if (this.hosts.has(child)) {
      this.addHost(child, group);
    } else {
      throw new PtyError("INVALID_ARGUMENT", `Inventory: ${child} is not a known host nor group.`);
    }
    this.#hostsCache.clear();
  }

  setGroupVar(group: string, key: string, value: unknown): void {
    const g = this.groups.get(group);
    if (g === undefined) throw new PtyError("INVALID_ARGUMENT", `Inventory: ${group} is not a known group.`);
    if (key === "ansible_group_priority") {
      const n = Number(value);
      if (!Number.isInteger(n)) throw new PtyError("INVALID_ARGUMENT", `Inventory: ansible_group_priority of ${group} is not an integer.`);
      g.priority = n;
    } else g.vars[key] = value;
  }

  setHostVar(host: string, key: string, value: unknown): void {
    const h = this.hosts.get(host);
    if (h === undefined) throw new PtyError("INVALID_ARGUMENT", `Inventory: ${host} is not a known host.`);
    h.vars[key] = value;
  }

  /** Ansible's reconcile_inventory, run after each source. */
  reconcile(): void {
    for (const group of this.groups.values()) {
      if (group.name !== "all" && group.parents.length === 0) this.addChild("all", group.name);
    }
    const ungrouped = this.groups.get("ungrouped") as InventoryGroup;
    for (const host of this.hosts.values()) {
      const groups = this.hostGroups(host.name);
      if (groups.includes("ungrouped")) {
        if (groups.some((g) => g !== "all" && g !== "ungrouped")) {
          ungrouped.hosts.splice(ungrouped.hosts.indexOf(host.name), 1);
          host.groups.splice(host.groups.indexOf("ungrouped"), 1);
          this.#hostsCache.clear();
        }
      } else if (groups.length === 0 || (groups.length === 1 && groups[0] === "all")) {
        this.addHost(host.name, "ungrouped");
      }
    }
  }

  /** Every group above `name` (not itself). */
  ancestors(name: string): Set<string> {
    const seen = new Set<string>();
    const stack = [...(this.groups.get(name)?.parents ?? [])];
    while (stack.length > 0) {
      const g = stack.pop() as string;
      if (seen.has(g)) continue;
      seen.add(g);
      stack.push(...(this.groups.get(g)?.parents ?? []));
    }
    return seen;
  }

  /** The groups a host belongs to, directly or through a parent, `all` included. */
  hostGroups(host: string): string[] {
    const h = this.hosts.get(host);
    if (h === undefined) return [];
    const out = new Set<string>();
    for (const g of h.groups) {
      out.add(g);
      for (const a of this.ancestors(g)) out.add(a);
    }
    return [...out];
  }

  /** Ansible's `group_names`: the host's groups but `all`, sorted. */
  groupNames(host: string): string[] {
    return this.hostGroups(host)
      .filter((g) => g !== "all")
      .sort(pySort);
  }

  /**
   * Group.get_hosts(): the group's own hosts, then its descendants' in breadth-first order
   * (children in the order they were added), each host once.
   */
  groupHosts(name: string): string[] {
    const cached = this.#hostsCache.get(name);
    if (cached !== undefined) return cached;
    const group = this.groups.get(name);
    if (group === undefined) return [];
    const ordered: string[] = [name, ...group.children];
    const seen = new Set<string>([name, ...group.children]);
    let level = [...group.children];
    while (level.length > 0) {
      const next: string[] = [];
      for (const g of level) {
        for (const child of this.groups.get(g)?.children ?? []) {
          if (!seen.has(child)) {
            seen.add(child);
            ordered.push(child);
            next.push(child);
          }
        }
      }
      level = next;
    }
    const hosts: string[] = [];
    const have = new Set<string>();
    for (const g of ordered) {
      for (const h of this.groups.get(g)?.hosts ?? []) {
        if (!have.has(h)) {
          have.add(h);
          hosts.push(h);
        }
      }
    }
    this.#hostsCache.set(name, hosts);
    return hosts;
  }

  /** Depth of a group: the longest path down from `all` (0). */
  depth(name: string, memo = new Map<string, number>()): number {
    const known = memo.get(name);
    if (known !== undefined) return known;
    const parents = this.groups.get(name)?.parents ?? [];
    let d = 0;
    for (const p of parents) d = Math.max(d, this.depth(p, memo) + 1);
    memo.set(name, d);
    return d;
  }

  /**
   * A host's variables as Ansible merges them (VARIABLE_PRECEDENCE): the inventory file's group
   * vars by (depth, priority, name), group_vars/all, the other group_vars/ by the same order, the
   * file's host vars, host_vars/.
   */
  hostVars(host: string): Vars {
    const h = this.hosts.get(host);
    if (h === undefined) return {};
    const memo = new Map<string, number>();
    const groups = this.hostGroups(host)
      .map((name) => ({ name, depth: this.depth(name, memo), priority: (this.groups.get(name) as InventoryGroup).priority }))
      .sort((a, b) => a.depth - b.depth || a.priority - b.priority || pySort(a.name, b.name));
    const vars: Vars = {};
    for (const g of groups) Object.assign(vars, (this.groups.get(g.name) as InventoryGroup).vars);
    Object.assign(vars, this.groupDirVars.get("all") ?? {});
    for (const g of groups) if (g.name !== "all") Object.assign(vars, this.groupDirVars.get(g.name) ?? {});
    Object.assign(vars, h.vars, this.hostDirVars.get(host) ?? {});
    return vars;
  }

  #checkSize(): void {
    if (this.groups.size + this.hosts.size >= MAX_INVENTORY_ENTRIES)
      throw new PtyError("INVALID_ARGUMENT", `Inventory: more than ${MAX_INVENTORY_ENTRIES} hosts and groups.`);
  }
}

/** Python's default string order (code points), not localeCompare. */
export function pySort(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
