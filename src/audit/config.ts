/**
 * Audit settings from the config file (keys of the Go original: `audit-url`,
 * `audit-user`, `audit-mode`, `audit-token`; ours: `audit-log`, `audit-enabled`),
 * overridden by `--audit-*` flags and `PTY_MCP_AUDIT_TOKEN`.
 */
import { userInfo } from "node:os";
import { isAbsolute, join } from "node:path";
import { type Env, readConfigFile } from "../config-file.ts";
import { PtyError } from "../errors.ts";

export const auditModes = ["best-effort", "strict"] as const;
export type AuditMode = (typeof auditModes)[number];

export interface AuditSettings {
  /** Collector base URL; entries are POSTed to `<url>/audit` as the Go original does. */
  url?: string;
  token?: string;
  user: string;
  mode: AuditMode;
  /** Local JSONL sink with a hash chain. */
  logPath?: string;
}

export interface AuditFlags {
  url?: string;
  user?: string;
  mode?: string;
  log?: string;
}

const FLAG_NAMES = { "--audit-url": "url", "--audit-user": "user", "--audit-mode": "mode", "--audit-log": "log" } as const;

/**
 * The `--audit-*` flags of `pty-mcp [serve]` (as the Go original's), `--flag value` or
 * `--flag=value`; other arguments are returned untouched.
 */
export function takeAuditFlags(args: readonly string[]): { flags: AuditFlags; rest: string[] } {
  const flags: AuditFlags = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const key = Object.hasOwn(FLAG_NAMES, name) ? FLAG_NAMES[name as keyof typeof FLAG_NAMES] : undefined;
    if (key === undefined) {
      rest.push(arg);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) throw new PtyError("INVALID_ARGUMENT", `${name} needs a value.`);
    flags[key] = value;
  }
  return { flags, rest };
}

export function parseAuditMode(value: string, where: string): AuditMode {
  const mode = auditModes.find((m) => m === value);
  if (!mode) throw new PtyError("INVALID_ARGUMENT", `${where}: audit-mode must be best-effort or strict, got "${value}".`);
  return mode;
}

/** `~/x` and relative paths are resolved against $HOME (the config file has no working directory). */
export function expandHome(path: string, env: Env): string {
  if (path === "~") return env.HOME ?? path;
  if (path.startsWith("~/")) return join(env.HOME ?? "", path.slice(2));
  return isAbsolute(path) ? path : join(env.HOME ?? "", path);
}

export function defaultAuditUser(env: Env): string {
  if (env.USER) return env.USER;
  if (env.LOGNAME) return env.LOGNAME;
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}

/**
 * The effective audit settings, or undefined when audit is off: no config, no
 * destination (`audit-url` / `audit-log`), or `audit-enabled=false`. A flag
 * naming a destination turns audit on whatever the file says.
 */
export function resolveAuditSettings(flags: AuditFlags = {}, env: Env = process.env, platform: NodeJS.Platform = process.platform): AuditSettings | undefined {
  const file = readConfigFile(env, platform);
  const where = file?.path ?? "flags";
  const get = (key: string): string | undefined => {
    const value = file?.values.get(key);
    return value === "" ? undefined : value;
  };
  const enabledText = get("audit-enabled") ?? "true";
  if (enabledText !== "true" && enabledText !== "false") {
    throw new PtyError("INVALID_ARGUMENT", `${where}: audit-enabled must be true or false, got "${enabledText}".`);
  }
  const explicit = flags.url !== undefined || flags.log !== undefined;
  if (enabledText === "false" && !explicit) return undefined;
  const url = flags.url ?? get("audit-url");
  const log = flags.log ?? get("audit-log");
  if (url === undefined && log === undefined) return undefined;

  const mode = parseAuditMode(flags.mode ?? get("audit-mode") ?? "best-effort", flags.mode ? "--audit-mode" : where);
  const token = env.PTY_MCP_AUDIT_TOKEN || get("audit-token");
  const settings: AuditSettings = { user: flags.user ?? get("audit-user") ?? defaultAuditUser(env), mode };
  if (url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new PtyError("INVALID_ARGUMENT", `${where}: audit-url "${url}" is not a URL (expected e.g. http://collector:9099).`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new PtyError("INVALID_ARGUMENT", `${where}: audit-url must be http:// or https://, got "${url}".`);
    }
    if (!token) {
      throw new PtyError("INVALID_ARGUMENT", `${where}: audit-url is set but there is no audit-token; run "pty-mcp audit init" or set PTY_MCP_AUDIT_TOKEN.`);
    }
    settings.url = url.replace(/\/+$/, "");
    settings.token = token;
  }
  if (log !== undefined) settings.logPath = expandHome(log, env);
  return settings;
}
