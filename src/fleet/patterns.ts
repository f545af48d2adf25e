/**
 * Ansible host patterns (ansible/inventory/manager.py in ansible-core 2.14): names of hosts and
 * groups, shell wildcards (`web*`, `db?`, `[ab]*`), `~regex`, subscripts (`web[0]`, `web[1:3]`,
 * `web[-1]`), and lists joined by `,` or `:` where `&x` intersects and `!x` excludes. Ansible
 * applies the plain patterns first (in order), then every `&`, then every `!`, whatever the
 * order written; so do we, with the same result order.
 *
 * Wildcards and regexes run on RE2 (linear time, a pattern cannot freeze the server).
 */
import { RE2JS } from "re2js";
import { PtyError } from "../errors.ts";
import { parseAddress } from "./address.ts";
import type { Inventory } from "./inventory.ts";

export const MAX_PATTERN_LENGTH = 4096;

/** `split_host_pattern`: `a,b` or `a:&b:!c` into single patterns; an address (IPv6, host:port) stays whole. */
export function splitHostPattern(pattern: string): string[] {
  let parts: string[];
  if (pattern.includes(",")) parts = pattern.split(",");
  else if (parseAddress(pattern) !== undefined) parts = [pattern];
  else parts = pattern.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? [];
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** `order_patterns`: plain ones first (or `all` if none), then `&`, then `!`. */
export function orderPatterns(patterns: readonly string[]): string[] {
  const regular = patterns.filter((p) => p[0] !== "!" && p[0] !== "&");
  const intersect = patterns.filter((p) => p[0] === "&");
  const exclude = patterns.filter((p) => p[0] === "!");
  return [...(regular.length > 0 ? regular : ["all"]), ...intersect, ...exclude];
}

/** The hosts a pattern selects, in Ansible's order, each once. */
export function selectHosts(inventory: Inventory, pattern: string): string[] {
  if (pattern.length > MAX_PATTERN_LENGTH) throw new PtyError("INVALID_ARGUMENT", `pattern is longer than ${MAX_PATTERN_LENGTH} characters.`);
  const cache = new Map<string, string[]>();
  let hosts: string[] = [];
  for (const p of orderPatterns(splitHostPattern(pattern))) {
    if (inventory.hosts.has(p)) {
      hosts.push(p);
      continue;
    }
    const key = p[0] === "&" || p[0] === "!" ? p.slice(1) : p;
    let that = cache.get(key);
    if (that === undefined) {
      that = matchOnePattern(inventory, key);
      cache.set(key, that);
    }
    if (p[0] === "!") {
      const drop = new Set(that);
      hosts = hosts.filter((h) => !drop.has(h));
    } else if (p[0] === "&") {
      const keep = new Set(that);
      hosts = hosts.filter((h) => keep.has(h));
    } else {
      const existing = new Set(hosts);
      hosts.push(...that.filter((h) => !existing.has(h)));
    }
  }
  return [...new Set(hosts)];
}

const SUBSCRIPT = /^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$/s;

function matchOnePattern(inventory: Inventory, pattern: string): string[] {
  if (pattern.length === 0) return [];
  let expr = pattern;
  let subscript: [number, number | undefined] | undefined;
  if (pattern[0] !== "~") {
    const m = SUBSCRIPT.exec(pattern);
    if (m) {
      expr = m[1] as string;
      if (m[2] !== undefined) subscript = [Number(m[2]), undefined];
      else subscript = [Number(m[3]), m[5] === "" ? -1 : Number(m[5])];
    }
  }
  const hosts = enumerateMatches(inventory, expr);
  if (subscript === undefined || hosts.length === 0) return hosts;
  const [start, rawEnd] = subscript;
  // Python: `if end:` — an end of 0 means "a single index", as in Ansible.
  if (rawEnd !== undefined && rawEnd !== 0) {
    const end = rawEnd === -1 ? hosts.length - 1 : rawEnd;
    return hosts.slice(start, end + 1);
  }
  const index = start < 0 ? hosts.length + start : start;
  const host = hosts[index];
  if (index < 0 || host === undefined) throw new PtyError("INVALID_ARGUMENT", `No hosts matched the subscripted pattern '${pattern}' (${hosts.length} matched before the subscript).`);
  return [host];
}

function enumerateMatches(inventory: Inventory, pattern: string): string[] {
  const matcher = compileMatcher(pattern);
  const results: string[] = [];
  const groups = [...inventory.groups.keys()].filter(matcher);
  for (const g of groups) results.push(...inventory.groupHosts(g));
  if (groups.length === 0 || pattern[0] === "~" || /[.?*[]/.test(pattern)) {
    for (const h of inventory.hosts.keys()) if (matcher(h)) results.push(h);
  }
  return results;
}

/** A name test: `~regex` matches at the start (Python re.match), anything else as fnmatch (whole name, case-sensitive). */
export function compileMatcher(pattern: string): (name: string) => boolean {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern[0] === "~" ? pattern.slice(1) : fnmatchToRegex(pattern), RE2JS.DOTALL);
  } catch (err) {
    throw new PtyError("INVALID_ARGUMENT", `Invalid host list pattern: ${pattern} (${(err as Error).message}). Patterns use RE2 syntax after '~'.`);
  }
  if (pattern[0] === "~") return (name) => re.matcher(name).lookingAt();
  if (!/[*?[]/.test(pattern)) return (name) => name === pattern;
  return (name) => re.matches(name);
}

/** Python's fnmatch.translate: `*`, `?`, `[seq]`, `[!seq]`; an unclosed `[` is literal. */
export function fnmatchToRegex(pattern: string): string {
  let out = "";
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i] as string;
    i++;
    if (c === "*") {
      while (pattern[i] === "*") i++;
      out += ".*";
    } else if (c === "?") out += ".";
    else if (c === "[") {
      let j = i;
      if (pattern[j] === "!") j++;
      if (pattern[j] === "]") j++;
      while (j < pattern.length && pattern[j] !== "]") j++;
      if (j >= pattern.length) out += "\\[";
      else {
        let stuff = pattern.slice(i, j);
        i = j + 1;
        if (stuff.length === 0) {
          out += "\\b\\B"; // matches nothing (RE2 has no (?!))
          continue;
        }
        stuff = stuff.replace(/\\/g, "\\\\");
        if (stuff[0] === "!") stuff = `^${stuff.slice(1)}`;
        else if (stuff[0] === "^") stuff = `\\${stuff}`;
        out += `[${stuff.replace(/\[/g, "\\[")}]`;
      }
    } else out += RE2JS.quote(c);
  }
  return out;
}
