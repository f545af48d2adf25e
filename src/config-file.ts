/**
 * The user's pty-mcp config file: `key=value` lines, `#` comments, as in the Go
 * original (internal/config). It holds the audit settings and the audit token,
 * so it must not be readable by group or others.
 *
 * Paths, in the order they are read:
 *  1. `$XDG_CONFIG_HOME/pty-mcp/config`, else `$HOME/.config/pty-mcp/config` (written by `audit init`)
 *  2. on macOS `~/Library/Application Support/pty-mcp/config` (where the Go original's os.UserConfigDir put it)
 *  3. `~/.pty-mcp` (the Go original's legacy file)
 */
import { mkdirSync, openSync, closeSync, readFileSync, renameSync, statSync, writeSync, fchmodSync, constants } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { PtyError } from "./errors.ts";

export type Env = Readonly<Record<string, string | undefined>>;

export interface ConfigFile {
  path: string;
  values: ReadonlyMap<string, string>;
}

function home(env: Env): string {
  const value = env.HOME;
  return value && isAbsolute(value) ? value : homedir();
}

/** Where `audit init` writes and `enable`/`disable` edit. */
export function primaryConfigPath(env: Env = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  // XDG Base Directory spec: a relative XDG_CONFIG_HOME is invalid and must be ignored.
  const base = xdg && isAbsolute(xdg) ? xdg : join(home(env), ".config");
  return join(base, "pty-mcp", "config");
}

function fallbackConfigPaths(env: Env, platform: NodeJS.Platform): string[] {
  const paths: string[] = [];
  if (platform === "darwin") paths.push(join(home(env), "Library", "Application Support", "pty-mcp", "config"));
  paths.push(join(home(env), ".pty-mcp"));
  return paths;
}

/** Parses `key=value` lines; blank lines and `#` comments are skipped; keys and values are trimmed. */
export function parseConfig(text: string, path: string): Map<string, string> {
  const values = new Map<string, string>();
  const lines = text.split("\n");
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) {
      throw new PtyError("INVALID_ARGUMENT", `${path}:${index + 1}: expected key=value, got "${line.slice(0, 80)}". Fix or remove that line.`);
    }
    values.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return values;
}

/**
 * Reads the first config file that exists; undefined when there is none. Refuses a
 * file that group or others can access (it holds the audit token), like the original.
 */
export function readConfigFile(env: Env = process.env, platform: NodeJS.Platform = process.platform): ConfigFile | undefined {
  for (const path of [primaryConfigPath(env), ...fallbackConfigPaths(env, platform)]) {
    let mode: number;
    try {
      mode = statSync(path).mode;
    } catch {
      continue;
    }
    if (platform !== "win32" && (mode & 0o077) !== 0) {
      throw new PtyError("INVALID_ARGUMENT", `Config file ${path} has unsafe permissions ${(mode & 0o777).toString(8)} (it holds the audit token); run: chmod 600 ${path}`);
    }
    return { path, values: parseConfig(readFileSync(path, "utf8"), path) };
  }
  return undefined;
}

/**
 * Writes `text` to `path` with mode 0600 through a temp file and a rename, so a
 * reader never sees half a file and the mode is right before the token is in it.
 * The parent directory is created 0700.
 */
export function writeConfigFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

/**
 * Sets `key=value` in config text, keeping comments and order: replaces the first
 * active line of that key, else the first commented-out one (`# key=…`), else appends.
 */
export function setConfigValue(text: string, key: string, value: string): string {
  const lines = text.split("\n");
  const active = lines.findIndex((line) => keyOf(line) === key);
  const commented = lines.findIndex((line) => /^\s*#/.test(line) && keyOf(line.replace(/^\s*#\s?/, "")) === key);
  const index = active >= 0 ? active : commented;
  if (index >= 0) {
    lines[index] = `${key}=${value}`;
    return lines.join("\n");
  }
  const body = text === "" || text.endsWith("\n") ? text : `${text}\n`;
  return `${body}${key}=${value}\n`;
}

/** Turns the first commented-out `# key=value` line back on when no active one exists; returns the value now active. */
export function uncommentKey(text: string, key: string): { text: string; value: string | undefined } {
  const lines = text.split("\n");
  const active = lines.find((line) => keyOf(line) === key);
  if (active !== undefined) return { text, value: valueOf(active) };
  const index = lines.findIndex((line) => /^\s*#/.test(line) && keyOf(line.replace(/^\s*#\s?/, "")) === key);
  const line = lines[index];
  if (line === undefined) return { text, value: undefined };
  const uncommented = line.replace(/^\s*#\s?/, "").trim();
  lines[index] = uncommented;
  return { text: lines.join("\n"), value: valueOf(uncommented) };
}

/** Comments out every active `key=…` line (the Go original's way of disabling audit-url). */
export function commentOutKey(text: string, key: string): string {
  return text
    .split("\n")
    .map((line) => (keyOf(line) === key ? `# ${line.trim()}` : line))
    .join("\n");
}

function valueOf(line: string): string {
  return line.slice(line.indexOf("=") + 1).trim();
}

function keyOf(line: string): string | undefined {
  const trimmed = line.trim();
  if (trimmed.startsWith("#")) return undefined;
  const eq = trimmed.indexOf("=");
  return eq > 0 ? trimmed.slice(0, eq).trim() : undefined;
}
