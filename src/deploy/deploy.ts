// `pty-mcp deploy` and the automatic deploy of persistent SSH sessions (SPEC §5): put the
// matching pty-mcp build on a host over an authenticated SSH connection. Gzip over SFTP into a
// temp file beside the target, SHA-256 checked on the host, chmod 755, a trial `--version`, then
// an atomic rename. A binary whose daemon serves sessions is replaced only when we can still talk
// to that daemon.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Client } from "ssh2";
import { PROTOCOL_VERSIONS } from "../daemon/protocol.ts";
import { errorMessage, PtyError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { localPlatform, parseProbe, PROBE_SCRIPT, runsOn, targetNames, type Probe } from "./platform.ts";
import { exec, openSftp, sftpWriteFile, shellQuote } from "./remote.ts";

declare const PTY_MCP_RELEASE_REPO: string | undefined;

/** Where a binary goes when nobody says otherwise (SPEC §5). */
export const DEFAULT_REMOTE_PATH = "~/.local/bin/pty-mcp";

export interface DeployTarget {
  client: Client;
  /** For messages: `user@host:port`. */
  label: string;
}

export interface DeployOptions {
  /** Remote path (default ~/.local/bin/pty-mcp); `~/` is the remote $HOME. */
  path?: string;
  /** Install even when the remote reports our version. */
  force?: boolean;
  /** A directory holding pty-mcp-<os>-<arch>[-variant] builds (default: $PTY_MCP_RELEASE_DIR, then the running binary's directory). */
  releaseDir?: string;
  /** Progress lines (stderr for the CLI). */
  log?: (line: string) => void;
  /** Test seam: runs after the upload, before the host checks it (corrupt the upload here). */
  afterUpload?: (remoteFile: string) => Promise<void> | void;
  /** Probe already made on this connection. */
  probe?: Probe;
  /**
   * Talks to the daemon of the binary at `path` (`path client` over this connection): the caller's
   * DaemonLink supplies it, so deploy knows no daemon client. Used before replacing a binary whose
   * daemon serves sessions.
   */
  openDaemon: (target: DeployTarget, path: string) => Promise<DaemonHandle>;
}

/** What deploy needs of a daemon connection: the protocol version it speaks. */
export interface DaemonHandle {
  readonly hello: { version: number };
  close(): void;
}

export interface DeployResult {
  path: string;
  action: "installed" | "unchanged";
  version: string;
  previous_version?: string;
  /** Release asset the host needs, e.g. linux-x64. */
  target: string;
  /** Where the bytes came from: a file path or URL. */
  source?: string;
  bytes?: number;
  compressed_bytes?: number;
}

export async function probeHost(target: DeployTarget): Promise<Probe> {
  const r = await run(target, PROBE_SCRIPT, "probing the host");
  return parseProbe(r.stdout, target.label);
}

/** `~/x` → `$HOME/x` on the host; relative paths are relative to $HOME as well. */
export function expandRemotePath(path: string, home: string): string {
  if (path === "~") return home;
  if (path.startsWith("~/")) return `${home}/${path.slice(2)}`;
  if (!path.startsWith("/")) return `${home}/${path}`;
  return path;
}

/** `pty-mcp X.Y.Z` of the binary at `path` on the host, or undefined when it is missing or does not run. */
export async function remoteVersion(target: DeployTarget, path: string): Promise<string | undefined> {
  const r = await exec(target.client, `${shellQuote(path)} --version 2>/dev/null`);
  const m = r.code === 0 ? /^pty-mcp (\S+)/.exec(r.stdout.trim()) : null;
  return m?.[1];
}

/** -1, 0, 1 comparing dotted versions numerically (pre-release tags ignored). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.+-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length, 3); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

export async function deployBinary(target: DeployTarget, options: DeployOptions): Promise<DeployResult> {
  const log = options.log ?? (() => undefined);
  const probe = options.probe ?? (await probeHost(target));
  const names = targetNames(probe.platform);
  const path = expandRemotePath(options.path ?? DEFAULT_REMOTE_PATH, probe.home);
  const previous = await remoteVersion(target, path);
  const base: DeployResult = { path, action: "unchanged", version: VERSION, target: names[0]! };
  if (previous !== undefined) base.previous_version = previous;
  if (previous === VERSION && !options.force) {
    log(`${target.label}: ${path} is already pty-mcp ${VERSION}`);
    return base;
  }
  if (previous !== undefined) await assertReplaceable(target, path, previous, options.openDaemon);

  const build = await chooseBuild(probe, names, options.releaseDir);
  log(`${target.label}: ${probe.uname} needs pty-mcp-${build.name}; uploading ${build.source}`);
  const dir = dirname(path);
  const tmp = `${dir}/.pty-mcp.${randomBytes(6).toString("hex")}`;
  const payload: Uint8Array = probe.gzip ? Bun.gzipSync(build.bytes as Uint8Array<ArrayBuffer>, { level: 6 }) : build.bytes;
  const q = { dir: shellQuote(dir), tmp: shellQuote(tmp), gz: shellQuote(`${tmp}.gz`), path: shellQuote(path) };

  // Room for the upload and the unpacked binary; mkdir reports a read-only or foreign directory.
  const prep = await exec(target.client, `mkdir -p ${q.dir} && df -Pk ${q.dir} | awk 'NR==2 {print $4}'`);
  if (prep.code !== 0) throw deployFailed(target, `cannot create ${dir}: ${prep.stderr.trim() || `exit ${prep.code}`}. Choose another --path.`);
  const freeKb = Number.parseInt(prep.stdout.trim(), 10);
  const needKb = Math.ceil((build.bytes.length + payload.length) / 1024) + 1024;
  if (Number.isFinite(freeKb) && freeKb < needKb) {
    throw deployFailed(target, `no space: ${dir} has ${Math.floor(freeKb / 1024)} MB free, the upload needs ${Math.ceil(needKb / 1024)} MB. Free some space or choose another --path.`);
  }

  const cleanup = () => exec(target.client, `rm -f ${q.tmp} ${q.gz}`).catch(() => undefined);
  try {
    const sftp = await openSftp(target.client);
    try {
      await sftpWriteFile(sftp, probe.gzip ? `${tmp}.gz` : tmp, payload);
    } catch (err) {
      const text = errorMessage(err);
      throw deployFailed(target, /no space|quota|failure/i.test(text) ? `the upload to ${dir} failed (${text}): most likely no space left. Free some space or choose another --path.` : `the upload to ${dir} failed: ${text}.`);
    } finally {
      sftp.end();
    }
    await options.afterUpload?.(probe.gzip ? `${tmp}.gz` : tmp);
    if (!probe.sha) throw deployFailed(target, "the host has no SHA-256 tool (sha256sum, shasum or openssl), so the upload cannot be verified; install one of them.");
    const unpack = probe.gzip ? `gzip -dc ${q.gz} > ${q.tmp} && rm -f ${q.gz} && ` : "";
    const check = await exec(target.client, `${unpack}${probe.sha} ${q.tmp}`);
    const sum = /^([0-9a-f]{64})\b/i.exec(check.stdout.trim())?.[1]?.toLowerCase();
    if (check.code !== 0 || sum !== build.sha256) {
      const why = check.code !== 0 ? (check.stderr.trim() || `exit ${check.code}`) : `SHA-256 ${sum ?? "?"} instead of ${build.sha256}`;
      if (/no space/i.test(why)) throw deployFailed(target, `no space left in ${dir} while unpacking (${why}). Free some space or choose another --path.`);
      throw deployFailed(target, `the upload arrived corrupted (${why}); nothing was installed. Retry the deploy.`);
    }
    // A trial run before the rename: a noexec mount or a build that does not run there is refused now.
    const trial = await exec(target.client, `chmod 755 ${q.tmp} && ${q.tmp} --version`);
    if (trial.code !== 0 || trial.stdout.trim() !== `pty-mcp ${VERSION}`) {
      const text = `${trial.stderr}${trial.stdout}`.trim();
      if (trial.code === 126 || /permission denied/i.test(text)) {
        throw deployFailed(target, `${dir} does not allow running programs (mounted noexec?): ${text || `exit ${trial.code}`}. Deploy to another directory with --path (and set PTY_MCP_REMOTE_PATH for persistent sessions).`);
      }
      const other = /^pty-mcp (\S+)$/.exec(trial.stdout.trim())?.[1];
      if (trial.code === 0 && other) {
        throw deployFailed(target, `${build.source} is pty-mcp ${other}, not this version (${VERSION}); nothing was installed. Rebuild the release builds (bun scripts/build.ts --all) or point PTY_MCP_RELEASE_DIR at builds of ${VERSION}.`);
      }
      throw deployFailed(target, `pty-mcp-${build.name} does not run on ${probe.uname} (${text || `exit ${trial.code}`}). Put the right build in PTY_MCP_RELEASE_DIR.`);
    }
    const install = await exec(target.client, `mv -f ${q.tmp} ${q.path}`);
    if (install.code !== 0) throw deployFailed(target, `renaming into ${path} failed: ${install.stderr.trim() || `exit ${install.code}`}.`);
  } catch (err) {
    await cleanup();
    throw err;
  }
  log(`${target.label}: installed pty-mcp ${VERSION} at ${path}${previous ? ` (was ${previous})` : ""}`);
  return { ...base, action: "installed", source: build.source, bytes: build.bytes.length, compressed_bytes: payload.length };
}

/**
 * A binary of another version whose daemon serves live sessions is replaced only if that daemon
 * still speaks a protocol version we know (the new binary's `client` then keeps reaching it).
 */
async function assertReplaceable(target: DeployTarget, path: string, previous: string, openDaemon: DeployOptions["openDaemon"]): Promise<void> {
  const r = await exec(target.client, `${shellQuote(path)} sessions --json`);
  let live = 0;
  try {
    const listed = JSON.parse(r.stdout) as { daemon_running?: boolean; sessions?: Array<{ is_alive?: boolean }> };
    if (!listed.daemon_running) return;
    live = (listed.sessions ?? []).filter((s) => s.is_alive).length;
  } catch {
    return; // An old binary without `sessions --json`: it has no daemon of ours to protect.
  }
  if (live === 0) return;
  let client: DaemonHandle | undefined;
  try {
    client = await openDaemon(target, path);
    if (!PROTOCOL_VERSIONS.includes(client.hello.version)) throw new Error(`it speaks protocol ${client.hello.version}`);
  } catch (err) {
    throw deployFailed(
      target,
      `${path} (pty-mcp ${previous}) runs a daemon serving ${live} session(s) whose protocol this build cannot speak (${errorMessage(err)}); replacing it would strand them. ` +
        `Let them finish (list_remote_sessions), or deploy to another --path.`,
    );
  } finally {
    client?.close();
  }
}

interface Build {
  name: string;
  bytes: Uint8Array;
  sha256: string;
  source: string;
}

const buildCache = new Map<string, Build>();

/**
 * The build for the host, first found: an explicit release directory (option, $PTY_MCP_RELEASE_DIR);
 * the running binary when it fits (the very bytes of our version); release builds beside it
 * (dist/ in a checkout); the release download.
 */
async function chooseBuild(probe: Probe, names: string[], releaseDir: string | undefined): Promise<Build> {
  // PTY_MCP_RELEASE_BASE as install.sh takes it: a directory here, a URL for download().
  const base = process.env.PTY_MCP_RELEASE_BASE;
  const baseDir = base && !/^https?:\/\//.test(base) ? base.replace(/^file:\/\//, "") : undefined;
  const explicit = [releaseDir, process.env.PTY_MCP_RELEASE_DIR, baseDir].filter((d): d is string => !!d);
  const found = findInDirs(explicit, names);
  if (found) return found;
  const self = localPlatform();
  if (compiled() && runsOn(self, probe.platform)) {
    const file = process.execPath;
    return cached(file, () => {
      const bytes = readFileSync(file);
      return { name: names[0]!, bytes, sha256: sha(bytes), source: file };
    });
  }
  const beside = findInDirs(compiled() ? [dirname(process.execPath)] : [], names);
  if (beside) return beside;
  return download(names);
}

function findInDirs(dirs: string[], names: string[]): Promise<Build> | undefined {
  for (const dir of dirs) {
    for (const name of names) {
      const file = join(dir, `pty-mcp-${name}`);
      if (!existsSync(file)) continue;
      return cached(file, () => {
        const bytes = readFileSync(file);
        const sha256 = sha(bytes);
        const listed = listedSum(join(dir, "SHA256SUMS"), `pty-mcp-${name}`);
        if (listed !== undefined && listed !== sha256) throw new PtyError("DEPLOY_FAILED", `${file} does not match its SHA256SUMS entry; rebuild it (bun scripts/build.ts --target ${name}).`);
        return { name, bytes, sha256, source: file };
      });
    }
  }
  return undefined;
}

async function download(names: string[]): Promise<Build> {
  const repo = process.env.PTY_MCP_RELEASE_BASE ?? (typeof PTY_MCP_RELEASE_REPO === "string" ? `${PTY_MCP_RELEASE_REPO}/releases/download/v${VERSION}` : undefined);
  if (repo && /^https?:\/\//.test(repo)) {
    const name = names[0]!;
    const url = `${repo.replace(/\/$/, "")}/pty-mcp-${name}`;
    return cached(url, async () => {
      try {
        const [bin, sums] = await Promise.all([fetchBytes(url), fetchBytes(`${repo.replace(/\/$/, "")}/SHA256SUMS`)]);
        const sha256 = sha(bin);
        const listed = parseSums(new TextDecoder().decode(sums), `pty-mcp-${name}`);
        if (listed !== sha256) throw new Error(`its SHA-256 does not match SHA256SUMS`);
        return { name, bytes: bin, sha256, source: url };
      } catch (err) {
        throw new PtyError("DEPLOY_FAILED", `No local pty-mcp-${name} build and downloading ${url} failed (${errorMessage(err)}). Put the build in a directory and set PTY_MCP_RELEASE_DIR.`, true, { cause: err });
      }
    });
  }
  throw new PtyError(
    "DEPLOY_FAILED",
    `The host needs pty-mcp-${names.join(" or pty-mcp-")}, which is neither in a release directory (PTY_MCP_RELEASE_DIR) nor this running binary. Build it with \`bun scripts/build.ts --target ${names[0]}\` and set PTY_MCP_RELEASE_DIR.`,
  );
}

async function cached(key: string, make: () => Build | Promise<Build>): Promise<Build> {
  const hit = buildCache.get(key);
  if (hit) return hit;
  const build = await make();
  buildCache.set(key, build);
  return build;
}

/** Running as the compiled executable (not `bun src/main.ts`). */
function compiled(): boolean {
  return Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:/~BUN/");
}

function sha(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function listedSum(file: string, name: string): string | undefined {
  if (!existsSync(file)) return undefined;
  return parseSums(readFileSync(file, "utf8"), name);
}

function parseSums(text: string, name: string): string | undefined {
  for (const line of text.split("\n")) {
    const [sum, file] = line.trim().split(/\s+\*?/);
    if (file === name && sum && /^[0-9a-f]{64}$/i.test(sum)) return sum.toLowerCase();
  }
  return undefined;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url, { signal: AbortSignal.timeout(600_000) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function run(target: DeployTarget, command: string, what: string) {
  try {
    return await exec(target.client, command);
  } catch (err) {
    throw deployFailed(target, `${what} failed: ${errorMessage(err)}.`);
  }
}

function deployFailed(target: DeployTarget, message: string): PtyError {
  return new PtyError("DEPLOY_FAILED", `Deploying pty-mcp to ${target.label}: ${message}`);
}
