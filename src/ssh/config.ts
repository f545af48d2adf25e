/**
 * ssh_config(5) resolution the way `ssh` does it, on top of the `ssh-config`
 * parser: the user's file then the system file, first obtained value wins,
 * `Host` patterns (wildcards, negation) and a safe subset of `Match`,
 * `Include` (globs, relative to ~/.ssh or /etc/ssh) evaluated in place,
 * `IdentityFile` accumulating, `~` and `%` tokens expanded.
 *
 * Pure apart from reading the config files; HOME is read at call time so tests
 * can point it at a temp dir.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { isAbsolute, join } from "node:path";
import SSHConfig, { LineType, type Line } from "ssh-config";
import { PtyError } from "../errors.ts";
import { globMatch, hostMatches } from "./patterns.ts";

/** Everything the transport needs to reach one host (one hop). */
export interface SshTarget {
  /** The name the user gave (a config alias or a real host name). */
  alias: string;
  /** What we connect to (HostName, else the alias). */
  hostname: string;
  port: number;
  user: string;
  /** Identity files in the order they are tried, `~` and tokens expanded. */
  identityFiles: string[];
  /** True when identity files came from the config or `key_path` (not the defaults). */
  identityFilesConfigured: boolean;
  identitiesOnly: boolean;
  /** Hops to go through first, in order (already resolved through the config). */
  proxyJump: SshTarget[];
  /** Seconds between keepalives; 0 disables them. */
  serverAliveIntervalS: number;
  serverAliveCountMax: number;
  /** Seconds; undefined = OS TCP timeout (we apply our own default). */
  connectTimeoutS: number | undefined;
  /** Name used for known_hosts lookups (HostKeyAlias, else hostname). */
  hostKeyAlias: string | undefined;
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  hashKnownHosts: boolean;
  /** ssh_config `StrictHostKeyChecking` as written (lowercase), if set. */
  strictHostKeyChecking: string | undefined;
  passwordAuthentication: boolean;
  kbdInteractiveAuthentication: boolean;
  pubkeyAuthentication: boolean;
  /** `IdentityAgent`: a socket path, `none`, or undefined (= SSH_AUTH_SOCK). */
  identityAgent: string | undefined;
}

export interface ResolveOptions {
  /** Explicit tool parameters: they win over the config. */
  user?: string;
  port?: number;
  /** An extra identity tried before the configured ones (like `ssh -i`). */
  keyPath?: string;
  /** ProxyJump spec (`[user@]host[:port],...` or `none`) overriding the config. */
  jump?: string;
  /** Defaults: $HOME/.ssh/config and /etc/ssh/ssh_config. */
  userConfigFile?: string;
  systemConfigFile?: string;
  home?: string;
}

/** The keywords whose every occurrence counts (ssh_config(5)); all others: first wins. */
const MULTI = new Set(["identityfile", "certificatefile", "localforward", "remoteforward", "dynamicforward", "sendenv", "setenv"]);
const MAX_INCLUDE_DEPTH = 16;
const MAX_JUMP_HOPS = 16;

type Values = Map<string, string[]>;

/** Resolve `host` (alias or name) to a connectable target, hops included. */
export function resolveSshConfig(host: string, options: ResolveOptions = {}): SshTarget {
  return resolveHop(host, options, 0, new Set());
}

function resolveHop(host: string, options: ResolveOptions, depth: number, seen: Set<string>): SshTarget {
  if (host.length === 0) throw new PtyError("INVALID_ARGUMENT", "host is empty. Give a host name, an address or an alias from ~/.ssh/config.");
  if (/[\s\0]/.test(host) || host.startsWith("-"))
    throw new PtyError("INVALID_ARGUMENT", `host "${host}" is not a valid host name. Give a host name, an address or an alias from ~/.ssh/config.`);
  const home = options.home ?? process.env.HOME ?? homedir();
  const localUser = process.env.USER ?? safeUserName();
  const values = evaluateConfigs(host, options, home, localUser);
  const first = (key: string): string | undefined => values.get(key)?.[0];

  const user = options.user ?? first("user") ?? localUser;
  const rawHostname = first("hostname");
  const hostname = rawHostname === undefined ? host : expandTokens(rawHostname, { h: host, home, localUser, user, port: "" });
  const port = options.port ?? parsePort(first("port"), host) ?? 22;
  const tokens: Tokens = { h: hostname, home, localUser, user, port: String(port) };

  const explicit = values.get("identityfile") ?? [];
  const configured = explicit.filter((f) => f.toLowerCase() !== "none").map((f) => expandPath(expandTokens(f, tokens), home));
  if (options.keyPath !== undefined) configured.unshift(expandPath(options.keyPath, home));
  const identityFilesConfigured = configured.length > 0 || explicit.some((f) => f.toLowerCase() === "none");
  // Defaults in the order named by the issue (ed25519, ecdsa, rsa): ssh_config(5) IdentityFile.
  const identityFiles = identityFilesConfigured
    ? dedupe(configured)
    : ["id_ed25519", "id_ecdsa", "id_rsa"].map((name) => join(home, ".ssh", name));

  const jumpSpec = options.jump ?? first("proxyjump");
  const proxyJump: SshTarget[] = [];
  if (jumpSpec !== undefined && jumpSpec.toLowerCase() !== "none" && jumpSpec.length > 0) {
    const key = `${user}@${hostname}:${port}`;
    if (seen.has(key) || depth >= MAX_JUMP_HOPS)
      throw new PtyError("INVALID_ARGUMENT", `ProxyJump for "${host}" loops back on itself. Fix the ProxyJump lines in ~/.ssh/config.`);
    const nextSeen = new Set(seen).add(key);
    const hops = parseJumpSpec(jumpSpec);
    for (const hop of hops) {
      // Each hop is resolved through the config as `ssh -J` does; the hop's own
      // ProxyJump is honored only for the first hop (a chain is given by the list).
      const resolved = resolveHop(
        hop.host,
        { ...pick(options, ["userConfigFile", "systemConfigFile", "home"]), user: hop.user, port: hop.port, jump: proxyJump.length === 0 ? undefined : "none" },
        depth + 1,
        nextSeen,
      );
      if (proxyJump.length === 0) proxyJump.push(...resolved.proxyJump);
      proxyJump.push({ ...resolved, proxyJump: [] });
    }
  }

  const knownHostsFiles = (values.get("userknownhostsfile")?.[0]?.split(/\s+/) ?? ["~/.ssh/known_hosts", "~/.ssh/known_hosts2"])
    .filter((f) => f.length > 0 && f.toLowerCase() !== "none")
    .map((f) => expandPath(expandTokens(f, tokens), home));
  const globalKnownHostsFiles = (values.get("globalknownhostsfile")?.[0]?.split(/\s+/) ?? ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"])
    .filter((f) => f.length > 0 && f.toLowerCase() !== "none");

  const agent = first("identityagent");
  return {
    alias: host,
    hostname,
    port,
    user,
    identityFiles,
    identityFilesConfigured,
    identitiesOnly: yes(first("identitiesonly"), false),
    proxyJump,
    serverAliveIntervalS: parseNonNegative(first("serveraliveinterval"), "ServerAliveInterval") ?? 0,
    serverAliveCountMax: parseNonNegative(first("serveralivecountmax"), "ServerAliveCountMax") ?? 3,
    connectTimeoutS: parseNonNegative(first("connecttimeout"), "ConnectTimeout"),
    hostKeyAlias: first("hostkeyalias"),
    userKnownHostsFiles: knownHostsFiles,
    globalKnownHostsFiles,
    hashKnownHosts: yes(first("hashknownhosts"), false),
    strictHostKeyChecking: first("stricthostkeychecking")?.toLowerCase(),
    passwordAuthentication: yes(first("passwordauthentication"), true),
    kbdInteractiveAuthentication: yes(first("kbdinteractiveauthentication") ?? first("challengeresponseauthentication"), true),
    pubkeyAuthentication: yes(first("pubkeyauthentication"), true),
    identityAgent: identityAgent(agent, tokens, home),
  };
}

/** `IdentityAgent`: `none`, `SSH_AUTH_SOCK`/`$SSH_AUTH_SOCK` (= the environment, undefined) or a socket path. */
function identityAgent(agent: string | undefined, tokens: Tokens, home: string): string | undefined {
  if (agent === undefined || agent === "SSH_AUTH_SOCK" || agent === "$SSH_AUTH_SOCK") return undefined;
  if (agent.toLowerCase() === "none") return "none";
  return expandPath(expandTokens(agent, tokens), home);
}

/** `[user@]host[:port]` or `ssh://[user@]host[:port]`, comma separated. */
export function parseJumpSpec(spec: string): { user?: string; host: string; port?: number }[] {
  return spec.split(",").map((raw) => {
    let part = raw.trim();
    if (part.startsWith("ssh://")) part = part.slice(6).replace(/\/$/, "");
    let user: string | undefined;
    const at = part.lastIndexOf("@");
    if (at >= 0) {
      user = part.slice(0, at);
      part = part.slice(at + 1);
    }
    let host = part;
    let port: number | undefined;
    const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(part);
    if (bracket) {
      host = bracket[1] ?? "";
      port = bracket[2] === undefined ? undefined : Number(bracket[2]);
    } else {
      const colon = part.lastIndexOf(":");
      if (colon >= 0 && part.indexOf(":") === colon) {
        host = part.slice(0, colon);
        port = Number(part.slice(colon + 1));
      }
    }
    if (host.length === 0 || (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) || user === "")
      throw new PtyError("INVALID_ARGUMENT", `Jump host "${raw.trim()}" is not [user@]host[:port]. Fix the jump parameter or the ProxyJump line.`);
    return { ...(user === undefined ? {} : { user }), host, ...(port === undefined ? {} : { port }) };
  });
}

function evaluateConfigs(host: string, options: ResolveOptions, home: string, localUser: string): Values {
  const values: Values = new Map();
  const ctx: EvalContext = { host, home, localUser, values, user: options.user };
  const userFile = options.userConfigFile ?? join(home, ".ssh", "config");
  const systemFile = options.systemConfigFile ?? "/etc/ssh/ssh_config";
  evaluateFile(userFile, join(home, ".ssh"), ctx, 0, false);
  evaluateFile(systemFile, "/etc/ssh", ctx, 0, false);
  return values;
}

interface EvalContext {
  host: string;
  home: string;
  localUser: string;
  user: string | undefined;
  values: Values;
}

// Parsed files, kept while their size and mtime stay the same: a fleet resolves thousands of
// hosts through the same two files (5500 hosts: 970 ms of reading and parsing → a stat each).
const parsedFiles = new Map<string, { size: number; mtimeMs: number; parsed: SSHConfig }>();

function evaluateFile(path: string, includeBase: string, ctx: EvalContext, depth: number, mustExist: boolean): void {
  let stamp: { size: number; mtimeMs: number };
  let text: string;
  try {
    const s = statSync(path);
    stamp = { size: s.size, mtimeMs: s.mtimeMs };
    const cached = parsedFiles.get(path);
    if (cached !== undefined && cached.size === stamp.size && cached.mtimeMs === stamp.mtimeMs) {
      evaluateLines(cached.parsed, includeBase, ctx, depth);
      return;
    }
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (mustExist) throw new PtyError("INVALID_ARGUMENT", `Cannot read ssh config ${path}: ${(err as Error).message}`, false, { cause: err });
    return;
  }
  let parsed: SSHConfig;
  try {
    parsed = SSHConfig.parse(text);
  } catch (err) {
    throw new PtyError("INVALID_ARGUMENT", `${path} is not valid ssh_config: ${(err as Error).message}. Fix the file or pass host, user and port explicitly.`, false, { cause: err });
  }
  if (parsedFiles.size > 256) parsedFiles.clear();
  parsedFiles.set(path, { ...stamp, parsed });
  evaluateLines(parsed, includeBase, ctx, depth);
}

function evaluateLines(lines: readonly Line[], includeBase: string, ctx: EvalContext, depth: number): void {
  for (const line of lines) {
    if (line.type !== LineType.DIRECTIVE) continue;
    const param = line.param.toLowerCase();
    if ("config" in line) {
      const active = param === "host" ? hostMatches(valueList(line.value), ctx.host) : matchMatches(line.value, ctx);
      if (active) evaluateLines(line.config, includeBase, ctx, depth);
      continue;
    }
    const value = valueString(line.value);
    if (param === "include") {
      if (depth >= MAX_INCLUDE_DEPTH) throw new PtyError("INVALID_ARGUMENT", "ssh config Include nests too deep (loop?). Fix the Include lines.");
      for (const pattern of valueList(line.value)) {
        const expanded = expandPath(pattern, ctx.home);
        const absolute = isAbsolute(expanded) ? expanded : join(includeBase, expanded);
        for (const file of globFiles(absolute)) evaluateFile(file, includeBase, ctx, depth + 1, false);
      }
      continue;
    }
    const existing = ctx.values.get(param);
    if (existing === undefined) ctx.values.set(param, [value]);
    else if (MULTI.has(param)) existing.push(value);
  }
}

/**
 * A safe subset of `Match`: `all`, `host`, `originalhost`, `user`,
 * `localuser`. `exec` is never run (no shell from config text); `canonical`,
 * `final` and unknown criteria make the block not match.
 */
function matchMatches(value: string | { val: string }[], ctx: EvalContext): boolean {
  const words = valueList(value);
  let i = 0;
  while (i < words.length) {
    const word = (words[i] ?? "").toLowerCase();
    i++;
    if (word === "all") continue;
    const negated = word.startsWith("!");
    const criterion = negated ? word.slice(1) : word;
    const arg = words[i] ?? "";
    i++;
    let result: boolean;
    switch (criterion) {
      case "host":
      case "originalhost":
        result = hostMatches([arg], ctx.host);
        break;
      case "user":
        result = ctx.user !== undefined && hostMatches([arg], ctx.user);
        break;
      case "localuser":
        result = hostMatches([arg], ctx.localUser);
        break;
      default:
        return false;
    }
    if (result === negated) return false;
  }
  return true;
}

function valueList(value: string | { val: string }[]): string[] {
  if (typeof value === "string") return value.split(/\s+/).filter((v) => v.length > 0);
  return value.map((v) => v.val);
}

function valueString(value: string | { val: string }[]): string {
  return typeof value === "string" ? value : value.map((v) => v.val).join(" ");
}

/** Expand a path glob (wildcards in any segment), sorted like glob(3). */
function globFiles(pattern: string): string[] {
  if (!/[*?[]/.test(pattern)) return [pattern];
  const segments = pattern.split("/").filter((s, idx) => s.length > 0 || idx === 0);
  let current = [segments[0] === "" ? "/" : segments[0] ?? "/"];
  for (const segment of segments.slice(1)) {
    const next: string[] = [];
    for (const dir of current) {
      if (!/[*?[]/.test(segment)) {
        next.push(join(dir, segment));
        continue;
      }
      let entries: string[];
      try {
        entries = readdirSync(dir).sort();
      } catch {
        continue;
      }
      for (const entry of entries) if (!entry.startsWith(".") && globMatch(segment, entry)) next.push(join(dir, entry));
    }
    current = next;
  }
  return current.filter((f) => {
    try {
      return statSync(f).isFile();
    } catch {
      return false;
    }
  });
}

/** `~` and `~/...` to HOME (ssh_config(5): only the current user's `~`). */
export function expandPath(path: string, home: string): string {
  if (path === "~") return home;
  if (path.startsWith("~/")) return join(home, path.slice(2));
  return path;
}

/** The ssh_config TOKENS we can know: %% %h %d %u %r %p %n. */
interface Tokens {
  h: string;
  home: string;
  localUser: string;
  user: string;
  port: string;
}

function expandTokens(value: string, t: Tokens): string {
  return value.replace(/%([%hdurpn])/g, (_m, c: string) => {
    switch (c) {
      case "%":
        return "%";
      case "h":
      case "n":
        return t.h;
      case "d":
        return t.home;
      case "u":
        return t.localUser;
      case "r":
        return t.user;
      default:
        return t.port;
    }
  });
}

function parsePort(value: string | undefined, host: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new PtyError("INVALID_ARGUMENT", `ssh config gives Port "${value}" for ${host}; it must be 1-65535. Fix ~/.ssh/config or pass port.`);
  return port;
}

function parseNonNegative(value: string | undefined, keyword: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new PtyError("INVALID_ARGUMENT", `ssh config ${keyword} "${value}" is not a number of seconds. Fix ~/.ssh/config.`);
  return n;
}

function yes(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  return ["yes", "true", "ask", "accept-new", "confirm"].includes(value.toLowerCase());
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}

function pick<T extends object, K extends keyof T>(obj: T, keys: K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return "root";
  }
}

/**
 * The host aliases of the user's ssh_config: every name in a `Host` line that is not a
 * pattern (no `*`, `?`, `!`), in file order, Includes followed. Used as fleet hosts (SPEC §10).
 */
export function configHostAliases(options: { home?: string; userConfigFile?: string } = {}): string[] {
  const home = options.home ?? process.env.HOME ?? homedir();
  const out: string[] = [];
  const visit = (path: string, depth: number): void => {
    let parsed: SSHConfig;
    try {
      parsed = SSHConfig.parse(readFileSync(path, "utf8"));
    } catch {
      return;
    }
    const walk = (lines: readonly Line[]): void => {
      for (const line of lines) {
        if (line.type !== LineType.DIRECTIVE) continue;
        const param = line.param.toLowerCase();
        if (param === "host") {
          for (const name of valueList(line.value).flatMap((v) => v.split(","))) if (name.length > 0 && !/[*?!]/.test(name) && !out.includes(name)) out.push(name);
        }
        if ("config" in line) walk(line.config);
        else if (param === "include" && depth < MAX_INCLUDE_DEPTH) {
          for (const pattern of valueList(line.value)) {
            const expanded = expandPath(pattern, home);
            for (const file of globFiles(isAbsolute(expanded) ? expanded : join(home, ".ssh", expanded))) visit(file, depth + 1);
          }
        }
      }
    };
    walk(parsed);
  };
  visit(options.userConfigFile ?? join(home, ".ssh", "config"), 0);
  return out;
}
