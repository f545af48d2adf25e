// Where the daemon listens and who may reach it (SPEC §1): a Unix socket in a private
// directory. The directory is the security boundary: it must be ours and 0700, or we refuse
// it. One daemon per socket, held by an flock(2) on `daemon.pid` beside it (released by the
// kernel when the daemon dies, so a crash never leaves a lock behind).
import { dlopen, FFIType } from "bun:ffi";
import { closeSync, ftruncateSync, lstatSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { PtyError } from "../errors.ts";

export const SOCKET_NAME = "daemon.sock";
export const LOCK_NAME = "daemon.pid";
export const LOG_NAME = "daemon.log";

/** `$XDG_RUNTIME_DIR/pty-mcp/daemon.sock`, else `/tmp/pty-mcp-$UID/daemon.sock`. */
export function defaultSocketPath(env: Record<string, string | undefined> = process.env, uid = currentUid()): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime && runtime.startsWith("/")) return join(runtime, "pty-mcp", SOCKET_NAME);
  return join("/tmp", `pty-mcp-${uid}`, SOCKET_NAME);
}

export function currentUid(): number {
  return process.getuid?.() ?? 0;
}

/**
 * Makes sure the socket's directory exists (created 0700 when `create`) and is safe: a real
 * directory (not a link), owned by us, with no access for group or others. Anything else is
 * refused with DAEMON_UNAVAILABLE saying how to fix it; we never loosen or tighten it silently.
 */
export function ensureSocketDirectory(socketPath: string, options: { create: boolean }): string {
  const dir = dirname(socketPath);
  if (options.create) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new PtyError("DAEMON_UNAVAILABLE", `Cannot create the daemon's directory ${dir}: ${(err as Error).message}.`, false, { cause: err });
    }
  }
  checkSocketDirectory(dir);
  return dir;
}

/** Throws DAEMON_UNAVAILABLE unless `dir` is a directory owned by us with mode 0700 (or narrower). */
export function checkSocketDirectory(dir: string): void {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(dir);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const message = code === "ENOENT" ? `The daemon's directory ${dir} does not exist: no daemon is running there.` : `Cannot inspect ${dir}: ${(err as Error).message}.`;
    throw new PtyError("DAEMON_UNAVAILABLE", message, code === "ENOENT", { cause: err });
  }
  if (st.isSymbolicLink() || !st.isDirectory()) {
    throw new PtyError("DAEMON_UNAVAILABLE", `${dir} is not a directory (a symlink or a file stands there); the daemon's socket must live in a private directory. Remove it and try again.`);
  }
  const uid = currentUid();
  if (st.uid !== uid) {
    throw new PtyError("DAEMON_UNAVAILABLE", `Refusing the daemon socket directory ${dir}: it belongs to uid ${st.uid}, not to you (uid ${uid}). Someone else could watch or drive your sessions; remove it or use another --socket.`);
  }
  const mode = st.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new PtyError("DAEMON_UNAVAILABLE", `Refusing the daemon socket directory ${dir}: its mode is ${mode.toString(8).padStart(4, "0")}, others could reach your sessions. Run \`chmod 700 ${dir}\` and try again.`);
  }
}

/**
 * What stands at the socket path: nothing, or a socket of ours. Anything else (a file, a
 * socket of another user) is refused rather than removed.
 */
export function checkSocketFile(socketPath: string): "absent" | "socket" {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(socketPath);
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return "absent";
    throw new PtyError("DAEMON_UNAVAILABLE", `Cannot inspect ${socketPath}: ${(err as Error).message}.`, false, { cause: err });
  }
  if (!st.isSocket()) throw new PtyError("DAEMON_UNAVAILABLE", `${socketPath} exists and is not a socket. Remove it and try again.`);
  if (st.uid !== currentUid()) throw new PtyError("DAEMON_UNAVAILABLE", `${socketPath} belongs to uid ${st.uid}, not to you. Remove it and try again.`);
  return "socket";
}

/**
 * Removes a socket left by a daemon that died (SIGKILL, crash): only call this while holding
 * the instance lock, which proves no daemon is serving it.
 */
export function removeStaleSocket(socketPath: string): boolean {
  if (checkSocketFile(socketPath) === "absent") return false;
  unlinkSync(socketPath);
  return true;
}

/** The daemon's single-instance lock: hold it for the daemon's life; the kernel drops it on exit. */
export interface InstanceLock {
  readonly path: string;
  release(): void;
}

const LOCK_EX = 2;
const LOCK_NB = 4;

let flockFn: ((fd: number, operation: number) => number) | null | undefined;

function loadFlock(): ((fd: number, operation: number) => number) | null {
  if (flockFn !== undefined) return flockFn;
  const arch = process.arch === "arm64" ? "aarch64" : "x86_64";
  const names = process.platform === "darwin" ? ["libSystem.B.dylib", "/usr/lib/libSystem.B.dylib"] : ["libc.so.6", `libc.musl-${arch}.so.1`, "libc.so"];
  for (const name of names) {
    try {
      const lib = dlopen(name, { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
      flockFn = (fd, op) => lib.symbols.flock(fd, op);
      return flockFn;
    } catch {
      // try the next name
    }
  }
  flockFn = null;
  return flockFn;
}

/**
 * Takes the lock file `daemon.pid` beside the socket with flock(LOCK_EX|LOCK_NB) and writes
 * our pid into it. Returns undefined when another live process holds it (a daemon is running
 * or starting). The file is opened close-on-exec, so session programs never inherit the lock.
 */
export function acquireInstanceLock(socketPath: string): InstanceLock | undefined {
  const path = join(dirname(socketPath), LOCK_NAME);
  const fd = openSync(path, "a+", 0o600);
  const flock = loadFlock();
  if (flock) {
    if (flock(fd, LOCK_EX | LOCK_NB) !== 0) {
      closeSync(fd);
      return undefined;
    }
  } else if (lockHolderAlive(path)) {
    // No flock(2) available: fall back to the pid in the file.
    closeSync(fd);
    return undefined;
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`);
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      try {
        ftruncateSync(fd, 0);
      } catch {
        // best effort
      }
      closeSync(fd);
    },
  };
}

/** The pid written in `daemon.pid` beside the socket, if any. */
export function readDaemonPid(socketPath: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dirname(socketPath), LOCK_NAME), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function lockHolderAlive(path: string): boolean {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
