/**
 * `group_vars/` and `host_vars/` beside an inventory source (ansible-core 2.14's host_group_vars
 * vars plugin and DataLoader.find_vars_files): for a group or host NAME, the first of `NAME`,
 * `NAME.yml`, `NAME.yaml`, `NAME.json` that exists — a file, or a directory whose files (sorted,
 * recursively, hidden and `~` ones skipped, extension none/.yml/.yaml/.json) are merged in order.
 * Only names the inventory has are read.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, extname, join } from "node:path";
import { PtyError } from "../errors.ts";
import type { Inventory, Vars } from "./inventory.ts";
import { readYamlMapping } from "./inventory-yaml.ts";

const EXTENSIONS = ["", ".yml", ".yaml", ".json"];
const MAX_VARS_FILE_BYTES = 8 * 1024 * 1024;

export interface FileStamp {
  path: string;
  size: number;
  mtimeMs: number;
}

/** The directory whose group_vars/host_vars belong to a source (the source itself if a directory). */
export async function varsBase(source: string): Promise<string> {
  try {
    return (await stat(source)).isDirectory() ? source : dirname(source);
  } catch {
    return dirname(source);
  }
}

/** Every file under base/group_vars and base/host_vars (for the cache key). */
export async function varsStamps(base: string): Promise<FileStamp[]> {
  const out: FileStamp[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries: string[];
    try {
      entries = (await readdir(dir)).sort();
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry);
      const s = await stat(path).catch(() => undefined);
      if (s?.isDirectory() && depth < 8) await walk(path, depth + 1);
      else if (s?.isFile()) out.push({ path, size: s.size, mtimeMs: s.mtimeMs });
    }
  };
  for (const sub of ["group_vars", "host_vars"]) await walk(join(base, sub), 0);
  return out;
}

/** Reads base/group_vars and base/host_vars into the inventory's directory variables. */
export async function loadVarsDirs(inventory: Inventory, base: string): Promise<void> {
  for (const [sub, names, target] of [
    ["group_vars", [...inventory.groups.keys()], inventory.groupDirVars],
    ["host_vars", [...inventory.hosts.keys()], inventory.hostDirVars],
  ] as const) {
    const dir = join(base, sub);
    let entries: Set<string>;
    try {
      entries = new Set(await readdir(dir));
    } catch {
      continue;
    }
    for (const name of names) {
      if (name.startsWith("/")) continue;
      for (const ext of EXTENSIONS) {
        if (!entries.has(name + ext)) continue;
        const path = join(dir, name + ext);
        const files = (await stat(path)).isDirectory() ? await dirFiles(path, 0) : [path];
        for (const file of files) {
          const data = await readVarsFile(file);
          if (data !== undefined) target.set(name, { ...(target.get(name) ?? {}), ...data });
        }
        break;
      }
    }
  }
}

async function dirFiles(dir: string, depth: number): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir)).sort()) {
    if (entry.startsWith(".") || entry.endsWith("~")) continue;
    const path = join(dir, entry);
    const ext = extname(entry);
    const s = await stat(path);
    if (s.isDirectory() && ext === "" && depth < 8) out.push(...(await dirFiles(path, depth + 1)));
    else if (s.isFile() && EXTENSIONS.includes(ext)) out.push(path);
  }
  return out;
}

async function readVarsFile(path: string): Promise<Vars | undefined> {
  const s = await stat(path);
  if (s.size > MAX_VARS_FILE_BYTES) throw new PtyError("INVALID_ARGUMENT", `${path} is ${s.size} bytes (at most ${MAX_VARS_FILE_BYTES}).`);
  const text = await readFile(path, "utf8");
  if (text.trim().length === 0) return undefined;
  const data = readYamlMapping(text);
  if (data === undefined) throw new PtyError("INVALID_ARGUMENT", `${path}: not a YAML mapping of variables.`);
  return data;
}
