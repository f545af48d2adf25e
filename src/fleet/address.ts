/**
 * Host identifiers as Ansible reads them (ansible/parsing/utils/addresses.py and
 * plugins/inventory/__init__.py in ansible-core 2.14): `host:port`, `[v6]:port`, IPv4, IPv6,
 * host names, and ranges such as `web[01:20]`, `db-[a:c]`, `node[1:9:2]`.
 *
 * Every regex here is anchored and made of disjoint pieces (no nested ambiguous repeats), and
 * callers bound the input length, so matching stays linear.
 */
import { PtyError } from "../errors.ts";

/** Longest host pattern or name accepted (a DNS name is at most 253). */
export const MAX_NAME_LENGTH = 1024;
/** Most host names a single range may expand to (`web[1:100000000]` is a typo, not a fleet). */
export const MAX_RANGE_HOSTS = 100_000;

const numericRange = String.raw`\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const hexRange = String.raw`\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`;
const alnumRange = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const v6c = String.raw`(?:[0-9a-f]{1,4}|${hexRange})`;
const v4c = String.raw`(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${numericRange})`;
// Python's \w under re.UNICODE: letters, digits (any script) and the underscore.
const w = String.raw`[\p{L}\p{N}\p{Mn}_]`;
const label = String.raw`(?:${w}|${alnumRange})(?:${w}|-|${alnumRange})*(?<![_-])`;

const BRACKETED_HOSTPORT = /^\[(.+)\]:([0-9]+)$/;
const HOSTPORT = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/;
const IPV4 = new RegExp(String.raw`^(?:${v4c}\.){3}${v4c}$`, "i");
const IPV6 = new RegExp(
  "^(?:" +
    [
      `(?:${v6c}:){7}${v6c}`,
      `(?:${v6c}:){1,6}:`,
      `(?:${v6c}:)(?::${v6c}){1,6}`,
      `(?:${v6c}:){2}(?::${v6c}){1,5}`,
      `(?:${v6c}:){3}(?::${v6c}){1,4}`,
      `(?:${v6c}:){4}(?::${v6c}){1,3}`,
      `(?:${v6c}:){5}(?::${v6c}){1,2}`,
      `(?:${v6c}:){6}(?::${v6c})`,
      `:(?::${v6c}){1,6}`,
      `${v6c}?::`,
      `(?:0:){6}(?:${v6c}\\.){3}${v6c}`,
      `::(?:ffff:)?(?:${v6c}\\.){3}${v6c}`,
      `(?:0:){5}ffff:(?:${v6c}\\.){3}${v6c}`,
    ].join("|") +
    ")$",
  "i",
);
const HOSTNAME = new RegExp(String.raw`^${label}(?:\.${label})*$`, "iu");

export function isIpAddress(text: string): boolean {
  return IPV4.test(text) || IPV6.test(text);
}

/**
 * `parse_address(address, allow_ranges=True)`: the host part and the port, or undefined when
 * the text is not a host identifier (Ansible raises there; its callers fall back to the text).
 */
export function parseAddress(address: string): { host: string; port: number | undefined } | undefined {
  if (address.length > MAX_NAME_LENGTH) return undefined;
  let rest = address;
  let port: number | undefined;
  // Both forms are tried in turn, as Ansible's loop does (`[a]:1:2` strips twice).
  for (const re of [BRACKETED_HOSTPORT, HOSTPORT]) {
    const m = re.exec(rest);
    if (m) {
      rest = m[1] as string;
      port = Number(m[2]);
    }
  }
  if (IPV4.test(rest) || IPV6.test(rest) || HOSTNAME.test(rest)) return { host: rest, port };
  return undefined;
}

/** `_expand_hostpattern`: the names a host line's first word stands for, and its port. */
export function expandHostPattern(pattern: string): { names: string[]; port: number | undefined } {
  const parsed = parseAddress(pattern);
  const host = parsed?.host ?? pattern;
  const port = parsed?.port;
  if (pattern.trim().endsWith(":") && port === undefined)
    throw new PtyError("INVALID_ARGUMENT", `Invalid host pattern '${pattern}': ending in ':' is not allowed, this character is reserved to provide a port.`);
  const names = host.includes("[") ? expandHostRange(host) : [host];
  if (names.some((n) => n.trim() === "---")) throw new PtyError("INVALID_ARGUMENT", `Invalid host pattern '${pattern}': '---' is normally a sign this is a YAML file.`);
  return { names, port };
}

const ASCII_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** `expand_hostname_range`: `db[01:03]-x` → db01-x db02-x db03-x; several ranges multiply. */
export function expandHostRange(line: string): string[] {
  const out: string[] = [];
  expandInto(line, out);
  return out;
}

function expandInto(line: string, out: string[]): void {
  // Python replaces the first '[' and the first ']' with '|' and splits: exactly three parts or it fails.
  const open = line.indexOf("[");
  const close = line.indexOf("]");
  if (open < 0 || close < open || line.includes("|"))
    throw new PtyError("INVALID_ARGUMENT", `Host range in '${line}' is malformed: expected name[begin:end] or name[begin:end:step].`);
  const head = line.slice(0, open);
  const range = line.slice(open + 1, close);
  const tail = line.slice(close + 1);
  const bounds = range.split(":");
  if (bounds.length !== 2 && bounds.length !== 3) throw new PtyError("INVALID_ARGUMENT", `Host range in '${line}' must be begin:end or begin:end:step.`);
  let [beg = "", end = ""] = bounds;
  const stepText = bounds[2] ?? "1";
  if (beg === "") beg = "0";
  if (end === "") throw new PtyError("INVALID_ARGUMENT", `Host range in '${line}' must specify an end value.`);
  let width = 0;
  if (beg[0] === "0" && beg.length > 1) {
    width = beg.length;
    if (width !== end.length) throw new PtyError("INVALID_ARGUMENT", `Host range in '${line}' must specify equal-length begin and end formats.`);
  }
  const step = pyInt(stepText, line);
  if (step === 0) throw new PtyError("INVALID_ARGUMENT", `Host range in '${line}' has a step of 0.`);
  const items: string[] = [];
  const iBeg = ASCII_LETTERS.indexOf(beg);
  const iEnd = ASCII_LETTERS.indexOf(end);
  if (iBeg >= 0 && iEnd >= 0 && beg.length > 0 && end.length > 0) {
    if (iBeg > iEnd) throw new PtyError("INVALID_ARGUMENT", `Host range in '${line}' must have begin <= end.`);
    const letters = ASCII_LETTERS.slice(iBeg, iEnd + 1);
    if (step < 0) throw new PtyError("INVALID_ARGUMENT", `Host range in '${line}' has a negative step.`);
    for (let i = 0; i < letters.length; i += step) items.push(letters[i] as string);
  } else {
    const b = pyInt(beg, line);
    const e = pyInt(end, line) + 1;
    const count = step > 0 ? Math.ceil((e - b) / step) : Math.ceil((b - e) / -step);
    if (count > MAX_RANGE_HOSTS) throw new PtyError("INVALID_ARGUMENT", `Host range in '${line}' expands to ${count} hosts (at most ${MAX_RANGE_HOSTS}).`);
    for (let i = b; step > 0 ? i < e : i > e; i += step) items.push(String(i));
  }
  for (const item of items) {
    const name = head + (width > 0 ? zfill(item, width) : item) + tail;
    if (name.includes("[")) expandInto(name, out);
    else out.push(name);
    if (out.length > MAX_RANGE_HOSTS) throw new PtyError("INVALID_ARGUMENT", `Host range in '${line}' expands to more than ${MAX_RANGE_HOSTS} hosts.`);
  }
}

function zfill(text: string, width: number): string {
  if (text.startsWith("-")) return `-${text.slice(1).padStart(width - 1, "0")}`;
  return text.padStart(width, "0");
}

/** Python's int() on a range bound: optional sign, decimal digits (underscores between them). */
function pyInt(text: string, line: string): number {
  const t = text.trim();
  if (!/^[-+]?\d+(?:_\d+)*$/.test(t)) throw new PtyError("INVALID_ARGUMENT", `Host range in '${line}': '${text}' is not a number or a single letter.`);
  const n = Number(t.replace(/_/g, ""));
  if (!Number.isSafeInteger(n)) throw new PtyError("INVALID_ARGUMENT", `Host range in '${line}': '${text}' is too large.`);
  return n;
}
