/**
 * Where the fleet is written down (SPEC §10): `$PTY_MCP_INVENTORY`, else `$ANSIBLE_INVENTORY`,
 * else /etc/ansible/hosts — each a comma-separated list of files or directories as Ansible takes
 * them, with their group_vars/ and host_vars/ — plus the `Host` aliases of ~/.ssh/config as hosts
 * of their own. Files are read
 * asynchronously and the parsed inventory is kept until a file's size or mtime changes.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { PtyError } from "../errors.ts";
import { configHostAliases } from "../ssh/config.ts";
import { Inventory } from "./inventory.ts";
import { parseIniInventory } from "./inventory-ini.ts";
import { parseYamlInventory, readYamlMapping } from "./inventory-yaml.ts";
import { loadVarsDirs, varsBase, varsStamps } from "./vars-dirs.ts";

export const DEFAULT_INVENTORY = "/etc/ansible/hosts";
/** Largest inventory file read (a fleet of 100k hosts fits in a few MB). */
const MAX_FILE_BYTES = 32 * 1024 * 1024;
const YAML_EXTENSIONS = new Set([".yml", ".yaml", ".json"]);
// INVENTORY_IGNORE_EXTS of ansible-core 2.14 (REJECT_EXTS + .orig .cfg .retry).
const IGNORED_EXTENSIONS = [".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry"];

export interface InventorySources {
  /** Files or directories, in order. */
  paths: string[];
  /** Whether the paths came from the environment (a missing explicit file is an error; a missing /etc/ansible/hosts is not). */
  explicit: boolean;
}

export function inventorySources(env: Record<string, string | undefined> = process.env): InventorySources {
  const given = [env.PTY_MCP_INVENTORY, env.ANSIBLE_INVENTORY].find((v) => v !== undefined && v.trim().length > 0);
  if (given !== undefined)
    return { paths: given.split(",").map((p) => p.trim()).filter((p) => p.length > 0), explicit: true };
  return { paths: [DEFAULT_INVENTORY], explicit: false };
}

interface CacheEntry {
  key: string;
  inventory: Inventory;
}
let cache: CacheEntry | undefined;

export interface LoadOptions {
  env?: Record<string, string | undefined>;
  /** Add ~/.ssh/config Host aliases (default true). */
  sshConfigHosts?: boolean;
  home?: string;
}

/** The inventory as it is on disk now. Throws PtyError INVALID_ARGUMENT for a file that does not parse. */
export async function loadInventory(options: LoadOptions = {}): Promise<Inventory> {
  const sources = inventorySources(options.env);
  const files: { path: string; size: number; mtimeMs: number }[] = [];
  for (const path of sources.paths) await collectFiles(path, sources.explicit, files, 0);
  const aliases = options.sshConfigHosts === false ? [] : configHostAliases(options.home === undefined ? {} : { home: options.home });
  const bases = [...new Set(await Promise.all(sources.paths.map(varsBase)))];
  const stamps = (await Promise.all(bases.map(varsStamps))).flat();
  const key = JSON.stringify([files, aliases, stamps]);
  if (cache?.key === key) return cache.inventory;
  const inventory = new Inventory();
  for (const file of files) {
    const text = await readFile(file.path, "utf8");
    parseInventoryText(inventory, text, file.path);
  }
  for (const base of bases) await loadVarsDirs(inventory, base);
  for (const alias of aliases) if (!inventory.hosts.has(alias) && !inventory.groups.has(alias)) {
    inventory.addHost(alias, "ungrouped");
    inventory.sshConfigOnly.add(alias);
  }
  cache = { key, inventory };
  return inventory;
}

/** One source's text into the inventory: YAML when it has a YAML extension or reads as a YAML mapping, else INI. */
export function parseInventoryText(inventory: Inventory, text: string, path: string): void {
  const yamlOnly = YAML_EXTENSIONS.has(extname(path).toLowerCase());
  const mapping = readYamlMapping(text);
  if (mapping !== undefined) parseYamlInventory(inventory, mapping, path);
  else if (yamlOnly) throw new PtyError("INVALID_ARGUMENT", `${path}: not a YAML inventory (a mapping of groups). Fix the file or rename it without the .yml/.yaml/.json extension for INI.`);
  else parseIniInventory(inventory, text, path);
  inventory.reconcile();
}

async function collectFiles(path: string, explicit: boolean, out: { path: string; size: number; mtimeMs: number }[], depth: number): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (err) {
    if (explicit && depth === 0) throw new PtyError("INVALID_ARGUMENT", `Inventory ${path} cannot be read: ${(err as Error).message}. Set PTY_MCP_INVENTORY to an Ansible inventory file.`, false, { cause: err });
    return;
  }
  if (info.isDirectory()) {
    if (depth > 8) return;
    const entries = (await readdir(path)).sort();
    for (const entry of entries) {
      if (entry.startsWith(".") || entry === "group_vars" || entry === "host_vars" || IGNORED_EXTENSIONS.some((ext) => entry.endsWith(ext))) continue;
      await collectFiles(join(path, entry), explicit, out, depth + 1);
    }
    return;
  }
  if (!info.isFile()) return;
  if (info.size > MAX_FILE_BYTES) throw new PtyError("INVALID_ARGUMENT", `Inventory ${path} is ${info.size} bytes (at most ${MAX_FILE_BYTES}).`);
  out.push({ path, size: info.size, mtimeMs: info.mtimeMs });
}
