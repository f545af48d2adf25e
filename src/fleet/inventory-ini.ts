/**
 * Ansible's INI inventory format, line for line as ansible-core 2.14's plugins/inventory/ini.py
 * reads it: `[group]`, `[group:vars]`, `[group:children]` (a child may be declared later),
 * host lines split like a POSIX shell (`shlex.split(line, comments=True)`), `host:port`,
 * ranges, and values read as Python literals (`ansible_port=2222` is a number).
 *
 * Errors are PtyError INVALID_ARGUMENT naming the file and line; nothing else is thrown.
 */
import { PtyError } from "../errors.ts";
import { expandHostPattern } from "./address.ts";
import type { Inventory } from "./inventory.ts";

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/;

interface Pending {
  line: number;
  state: "vars" | "children";
  name: string;
  parents: string[];
}

export function parseIniInventory(inventory: Inventory, text: string, path: string): void {
  const pending = new Map<string, Pending>();
  let group = "ungrouped";
  let state = "hosts";
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const fail = (message: string): never => {
      throw new PtyError("INVALID_ARGUMENT", `${path}:${lineNo}: ${message}`);
    };
    const line = (lines[i] as string).trim();
    if (line.length === 0 || line[0] === "#" || line[0] === ";") continue;
    const section = SECTION.exec(line);
    if (section) {
      group = safeGroupName(section[1] as string);
      state = section[2] ?? "hosts";
      if (state !== "hosts" && state !== "children" && state !== "vars") fail(`Section [${section[1]}:${state}] has unknown type: ${state}`);
      if (!inventory.groups.has(group)) {
        // [g:vars] may come before [g]; it is an error only if [g] never comes.
        if (state === "vars" && !pending.has(group)) pending.set(group, { line: lineNo, state: "vars", name: group, parents: [] });
        inventory.addGroup(group);
      }
      const waiting = pending.get(group);
      if (waiting !== undefined && state !== "vars") {
        if (waiting.state === "children") addPendingChildren(inventory, group, pending);
        else pending.delete(group);
      }
      continue;
    }
    if (line.startsWith("[") && line.endsWith("]"))
      fail(`Invalid section entry: '${line}'. Please make sure that there are no spaces in the section entry, and that there are no other invalid characters`);
    try {
      if (state === "hosts") {
        let tokens: string[];
        try {
          tokens = shlexSplit(line);
        } catch (err) {
          return fail(`Error parsing host definition '${line}': ${(err as Error).message}`);
        }
        if (tokens.length === 0) continue;
        const { names, port } = expandHostPattern(tokens[0] as string);
        const vars: Record<string, unknown> = {};
        for (const token of tokens.slice(1)) {
          const eq = token.indexOf("=");
          if (eq < 0) fail(`Expected key=value host variable assignment, got: ${token}`);
          vars[token.slice(0, eq)] = pythonLiteral(token.slice(eq + 1));
        }
        for (const name of names) {
          inventory.addHost(name, group, port);
          for (const [k, v] of Object.entries(vars)) inventory.setHostVar(name, k, v);
        }
      } else if (state === "vars") {
        const eq = line.indexOf("=");
        if (eq < 0) fail(`Expected key=value, got: ${line}`);
        inventory.setGroupVar(group, line.slice(0, eq).trim(), pythonLiteral(line.slice(eq + 1).trim()));
      } else {
        const m = GROUP_NAME.exec(line);
        if (!m) return fail(`Expected group name, got: ${line}`);
        const child = m[1] as string;
        if (!inventory.groups.has(child)) {
          const p = pending.get(child);
          if (p === undefined) pending.set(child, { line: lineNo, state: "children", name: child, parents: [group] });
          else p.parents.push(group);
        } else inventory.addChild(group, child);
      }
    } catch (err) {
      if (err instanceof PtyError && !err.message.startsWith(path)) throw new PtyError("INVALID_ARGUMENT", `${path}:${lineNo}: ${err.message.replace(/^Inventory: /, "")}`);
      throw err;
    }
  }
  for (const decl of pending.values()) {
    if (decl.state === "vars") throw new PtyError("INVALID_ARGUMENT", `${path}:${decl.line}: Section [${decl.name}:vars] not valid for undefined group: ${decl.name}`);
    throw new PtyError("INVALID_ARGUMENT", `${path}:${decl.line}: Section [${decl.parents.at(-1)}:children] includes undefined group: ${decl.name}`);
  }
}

function addPendingChildren(inventory: Inventory, group: string, pending: Map<string, Pending>): void {
  const decl = pending.get(group) as Pending;
  for (const parent of decl.parents) {
    inventory.addChild(parent, group);
    const p = pending.get(parent);
    if (p !== undefined && p.state === "children") addPendingChildren(inventory, parent, pending);
  }
  pending.delete(group);
}

/** `to_safe_group_name(name, force=True)`: characters other than \w (and a leading digit) become `_`. */
export function safeGroupName(name: string): string {
  return name.replace(/^[\p{N}]|[^\p{L}\p{N}\p{Mn}_]/gu, "_");
}

/**
 * Python's `shlex.split(line, comments=True)` (POSIX mode): whitespace separates words, `'…'`
 * is literal, `"…"` keeps backslash only before `"` and `\`, a backslash outside quotes
 * escapes the next character, and `#` outside quotes ends the line.
 */
export function shlexSplit(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i] as string;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (c === "#") {
      break;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error("No closing quotation");
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      inWord = true;
      let closed = false;
      while (i < line.length) {
        const d = line[i] as string;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === "\\" && i + 1 < line.length && (line[i + 1] === '"' || line[i + 1] === "\\")) {
          word += line[i + 1];
          i += 2;
        } else if (d === "\\" && i + 1 >= line.length) {
          throw new Error("No closing quotation");
        } else {
          word += d;
          i++;
        }
      }
      if (!closed) throw new Error("No closing quotation");
    } else if (c === "\\") {
      if (i + 1 >= line.length) throw new Error("No escaped character");
      word += line[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

const MAX_LITERAL_DEPTH = 32;

/**
 * `ast.literal_eval(v)`, falling back to the text itself as ini.py does: integers, floats,
 * True/False/None, quoted strings, and lists, tuples and dicts of them.
 */
export function pythonLiteral(text: string): unknown {
  const parser = new LiteralParser(text);
  try {
    const value = parser.value(0);
    parser.skipSpace();
    if (parser.pos !== text.length) return text;
    return value;
  } catch {
    return text;
  }
}

class LiteralParser {
  pos = 0;
  constructor(readonly text: string) {}

  skipSpace(): void {
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === " " || c === "\t") this.pos++;
      else if (c === "#") this.pos = this.text.length;
      else break;
    }
  }

  value(depth: number): unknown {
    if (depth > MAX_LITERAL_DEPTH) throw new Error("too deep");
    // Leading whitespace is an IndentationError for literal_eval.
    if (depth === 0 && /^\s/.test(this.text)) throw new Error("indent");
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === "[") return this.sequence("]", depth);
    if (c === "(") {
      const items = this.sequence(")", depth, true);
      return items;
    }
    if (c === "{") return this.dict(depth);
    if (c === "'" || c === '"') {
      let s = this.string();
      // Adjacent literals concatenate: 'a' 'b'.
      for (;;) {
        const save = this.pos;
        this.skipSpace();
        const d = this.text[this.pos];
        if (d === "'" || d === '"') s += this.string();
        else {
          this.pos = save;
          break;
        }
      }
      return s;
    }
    return this.atom();
  }

  sequence(close: string, depth: number, tuple = false): unknown[] {
    this.pos++;
    const items: unknown[] = [];
    let sawComma = false;
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === close) {
        this.pos++;
        break;
      }
      items.push(this.value(depth + 1));
      this.skipSpace();
      if (this.text[this.pos] === ",") {
        this.pos++;
        sawComma = true;
      } else if (this.text[this.pos] === close) {
        this.pos++;
        break;
      } else throw new Error("expected , or close");
    }
    // `(1)` is just 1.
    if (tuple && items.length === 1 && !sawComma) return items[0] as unknown[];
    return items;
  }

  dict(depth: number): Record<string, unknown> {
    this.pos++;
    const out: Record<string, unknown> = {};
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === "}") {
        this.pos++;
        break;
      }
      const key = this.value(depth + 1);
      if (typeof key === "object" && key !== null) throw new Error("unhashable key");
      this.skipSpace();
      if (this.text[this.pos] !== ":") throw new Error("expected :");
      this.pos++;
      out[String(key)] = this.value(depth + 1);
      this.skipSpace();
      if (this.text[this.pos] === ",") this.pos++;
      else if (this.text[this.pos] === "}") {
        this.pos++;
        break;
      } else throw new Error("expected , or }");
    }
    return out;
  }

  string(): string {
    const q = this.text[this.pos] as string;
    this.pos++;
    let out = "";
    while (this.pos < this.text.length) {
      const c = this.text[this.pos] as string;
      if (c === q) {
        this.pos++;
        return out;
      }
      if (c === "\\") {
        const n = this.text[this.pos + 1];
        const map: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0" };
        if (n !== undefined && n in map) {
          out += map[n];
          this.pos += 2;
          continue;
        }
        out += c;
        this.pos++;
        continue;
      }
      out += c;
      this.pos++;
    }
    throw new Error("unterminated string");
  }

  atom(): unknown {
    const m = /^[-+]?[A-Za-z0-9_.]+(?:[eE][-+]?\d+)?/.exec(this.text.slice(this.pos));
    if (!m) throw new Error("not a literal");
    const word = m[0];
    this.pos += word.length;
    if (word === "True") return true;
    if (word === "False") return false;
    if (word === "None") return null;
    const sign = word[0] === "-" ? -1 : 1;
    const body = word.replace(/^[-+]/, "");
    if (/^(?:0|[1-9](?:_?\d)*)$/.test(body) || /^0+$/.test(body)) return sign * Number(body.replace(/_/g, ""));
    if (/^0[xX](?:_?[0-9a-fA-F])+$/.test(body) || /^0[oO](?:_?[0-7])+$/.test(body) || /^0[bB](?:_?[01])+$/.test(body)) return sign * Number(body.replace(/_/g, ""));
    if (/^(?:\d(?:_?\d)*)?\.?(?:\d(?:_?\d)*)?(?:[eE][-+]?\d+)?$/.test(body) && /\d/.test(body) && /[.eE]/.test(body)) return sign * Number(body.replace(/_/g, ""));
    throw new Error("not a literal");
  }
}
