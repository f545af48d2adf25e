/**
 * Ansible's YAML inventory format (ansible-core 2.14 plugins/inventory/yaml.py): a mapping of
 * group names to `{hosts, vars, children}`, children nested the same way, host keys that may be
 * ranges or `host:port`. Parsed with the `yaml` package in YAML 1.1 mode, as PyYAML reads it
 * (`yes` is true, `0755` is octal). Errors are PtyError INVALID_ARGUMENT naming the file.
 */
import { parseDocument, type Tags } from "yaml";
import { PtyError } from "../errors.ts";
import { expandHostPattern } from "./address.ts";
import type { Inventory } from "./inventory.ts";

const MAX_DEPTH = 64;

// PyYAML's bool resolver knows yes/no/true/false/on/off but not the single letters y/n that the
// YAML 1.1 spec (and the `yaml` package) also read as booleans: `n: 1` is the key "n" to Ansible.
const PY_TRUE = /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/;
const PY_FALSE = /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/;
function pyYamlBools(tags: Tags): Tags {
  return tags.map((tag) => {
    if (typeof tag !== "object" || tag.tag !== "tag:yaml.org,2002:bool" || !("test" in tag) || tag.test === undefined) return tag;
    return { ...tag, test: tag.test.test("true") ? PY_TRUE : PY_FALSE } as typeof tag;
  });
}

/** Parses YAML text; undefined when it is not YAML or not a mapping (the caller then tries INI). */
export function readYamlMapping(text: string): Record<string, unknown> | undefined {
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, { version: "1.1", uniqueKeys: false, merge: true, prettyErrors: false, customTags: pyYamlBools });
  } catch {
    return undefined;
  }
  if (doc.errors.length > 0) return undefined;
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000, mapAsMap: false });
  } catch {
    return undefined;
  }
  return isMapping(data) ? data : undefined;
}

export function parseYamlInventory(inventory: Inventory, data: Record<string, unknown>, path: string): void {
  if (Object.keys(data).length === 0) throw new PtyError("INVALID_ARGUMENT", `${path}: parsed empty YAML file.`);
  if (data.plugin) throw new PtyError("INVALID_ARGUMENT", `${path}: a plugin configuration YAML file, not a YAML inventory (inventory plugins are not supported).`);
  for (const [name, body] of Object.entries(data)) parseGroup(inventory, name, body, path, 0);
}

function parseGroup(inventory: Inventory, name: string, body: unknown, path: string, depth: number): string | undefined {
  if (depth > MAX_DEPTH) throw new PtyError("INVALID_ARGUMENT", `${path}: groups nested more than ${MAX_DEPTH} deep.`);
  if (!(body === null || body === undefined || isMapping(body))) return undefined; // Ansible warns and skips it
  inventory.addGroup(name);
  if (body === null || body === undefined) return name;
  for (const section of ["vars", "children", "hosts"]) {
    const value = body[section];
    if (typeof value === "string") body[section] = { [value]: null };
    else if (!(value === undefined || value === null || isMapping(value)))
      throw new PtyError("INVALID_ARGUMENT", `${path}: invalid "${section}" entry for "${name}" group, requires a dictionary, found "${Array.isArray(value) ? "list" : typeof value}" instead.`);
  }
  for (const [key, value] of Object.entries(body)) {
    if (!isMapping(value)) continue;
    if (key === "vars") {
      for (const [k, v] of Object.entries(value)) inventory.setGroupVar(name, k, v);
    } else if (key === "children") {
      for (const [child, childBody] of Object.entries(value)) {
        const added = parseGroup(inventory, child, childBody, path, depth + 1);
        if (added !== undefined) inventory.addChild(name, added);
      }
    } else if (key === "hosts") {
      for (const [pattern, hostVars] of Object.entries(value)) {
        const { names, port } = expandHostPattern(pattern);
        const vars = hostVars ?? {};
        if (!isMapping(vars)) throw new PtyError("INVALID_ARGUMENT", `${path}: the variables of host ${pattern} in group ${name} must be a mapping.`);
        for (const host of names) {
          inventory.addHost(host, name, port);
          for (const [k, v] of Object.entries(vars)) inventory.setHostVar(host, k, v);
        }
      }
    }
  }
  return name;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
