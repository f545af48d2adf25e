/**
 * The hash chain of an audit JSONL file: every line is a JSON object whose
 * `prev_hash` is the SHA-256 (hex) of the exact bytes of the line before it
 * (without its newline); the first line's is 64 zeros. An edited line breaks
 * the link from the line after it; a deleted line breaks the link across the gap.
 *
 * The chain is a property of a file, so whoever appends to a file computes it:
 * the local sink for its file, the collector (`audit serve`) for its own.
 * Several processes may append to one file (two MCP servers sharing
 * `audit-log`); a lock file serializes them so the chain stays linear.
 *
 * What it does not prove: someone able to rewrite the file can recompute every
 * hash after an edit, and dropping the last lines leaves a valid shorter chain.
 * Keep a copy elsewhere (the collector) for that.
 */
import { createHash } from "node:crypto";
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, statSync, unlinkSync, writeSync } from "node:fs";
import { PtyError, errorMessage } from "../errors.ts";

export const GENESIS_HASH = "0".repeat(64);

/** SHA-256 hex of one line's bytes (without the newline). */
export function lineHash(line: string | Uint8Array): string {
  return createHash("sha256").update(line).digest("hex");
}

const LOCK_STALE_MS = 30_000;
const LOCK_TIMEOUT_MS = 5_000;

/**
 * Appends JSON objects as chained lines to a JSONL file (created 0600, opened
 * O_APPEND, symlinks refused). Appends from one instance are serialized in call
 * order; appends from other processes are serialized by `<file>.lock`.
 */
export class ChainedLog {
  readonly path: string;
  readonly #fd: number;
  readonly #lockPath: string;
  #tail: { size: number; hash: string } | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.#fd = fd;
    this.#lockPath = `${path}.lock`;
  }

  /** Opens (creating 0600) the file; throws PtyError INVALID_ARGUMENT when it cannot. */
  static open(path: string): ChainedLog {
    try {
      const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
      return new ChainedLog(path, fd);
    } catch (err) {
      throw new PtyError("INVALID_ARGUMENT", `Cannot open audit log ${path}: ${errorMessage(err)}. Check the path and its directory's permissions.`, false, { cause: err });
    }
  }

  /** Appends `fields` plus `prev_hash` as one line; resolves to the line written (without newline). */
  append(fields: Readonly<Record<string, unknown>>): Promise<string> {
    const run = this.#queue.then(() => this.#appendLocked(fields));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #appendLocked(fields: Readonly<Record<string, unknown>>): Promise<string> {
    if (this.#closed) throw new PtyError("INTERNAL_ERROR", `Audit log ${this.path} is closed.`);
    const release = await acquireLock(this.#lockPath);
    try {
      const { hash, needsNewline } = this.#previous();
      const line = JSON.stringify({ ...fields, prev_hash: hash });
      const bytes = Buffer.from(`${needsNewline ? "\n" : ""}${line}\n`);
      let written = 0;
      while (written < bytes.length) written += writeSync(this.#fd, bytes, written);
      this.#tail = { size: fstatSync(this.#fd).size, hash: lineHash(line) };
      return line;
    } finally {
      release();
    }
  }

  /** The hash of the file's last line, re-read when another writer appended since our last append. */
  #previous(): { hash: string; needsNewline: boolean } {
    const size = fstatSync(this.#fd).size;
    if (this.#tail && this.#tail.size === size) return { hash: this.#tail.hash, needsNewline: false };
    if (size === 0) return { hash: GENESIS_HASH, needsNewline: false };
    const last = readLastLine(this.path, size);
    // A line cut short by a crash keeps its place in the chain: we hash it as it is and start
    // a new line after it; `audit verify` reports it as incomplete.
    return { hash: lineHash(last.bytes), needsNewline: !last.terminated };
  }

  /** Waits for pending appends, then closes the file. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#queue;
    this.#closed = true;
    closeSync(this.#fd);
  }
}

/** The last line of a file (bytes without the newline) and whether it ended with one. */
function readLastLine(path: string, size: number): { bytes: Buffer; terminated: boolean } {
  const fd = openSync(path, "r");
  try {
    const chunks: Buffer[] = [];
    let end = size;
    let terminated = false;
    let first = true;
    while (end > 0) {
      const start = Math.max(0, end - 65536);
      const chunk = Buffer.alloc(end - start);
      readSync(fd, chunk, 0, chunk.length, start);
      let search = chunk;
      if (first) {
        first = false;
        if (chunk[chunk.length - 1] === 0x0a) {
          terminated = true;
          search = chunk.subarray(0, chunk.length - 1);
        }
      }
      const newline = search.lastIndexOf(0x0a);
      if (newline >= 0) {
        chunks.unshift(search.subarray(newline + 1));
        break;
      }
      chunks.unshift(search);
      end = start;
    }
    return { bytes: Buffer.concat(chunks), terminated };
  } finally {
    closeSync(fd);
  }
}

/** An O_EXCL lock file holding our pid; a lock whose owner is gone, or older than 30 s, is taken over. */
async function acquireLock(lockPath: string): Promise<() => void> {
  const deadline = performance.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      const fd = openSync(lockPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(lockPath);
        } catch {
          // Taken over as stale by another writer: nothing of ours left to remove.
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new PtyError("INVALID_ARGUMENT", `Cannot create lock ${lockPath}: ${errorMessage(err)}.`, false, { cause: err });
      }
    }
    if (lockIsStale(lockPath)) {
      try {
        unlinkSync(lockPath);
      } catch {
        // Someone else removed it first; try again.
      }
      continue;
    }
    if (performance.now() > deadline) {
      throw new PtyError("INTERNAL_ERROR", `Audit log lock ${lockPath} has been held for over ${LOCK_TIMEOUT_MS / 1000} s; remove it if no pty-mcp is writing.`, true);
    }
    await Bun.sleep(5 + Math.random() * 10);
  }
}

function lockIsStale(lockPath: string): boolean {
  try {
    if (Date.now() - statSync(lockPath).mtimeMs > LOCK_STALE_MS) return true;
    const pid = Number(readFileSync(lockPath, "utf8"));
    if (!Number.isInteger(pid) || pid <= 0) return false; // being written right now
    process.kill(pid, 0);
    return false;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ESRCH: the owner is gone. ENOENT: released meanwhile (retry). EPERM: alive, another user's.
    return code === "ESRCH";
  }
}

export type VerifyResult =
  | { ok: true; entries: number }
  | { ok: false; entries: number; line: number; reason: string };

/**
 * Checks the chain of a JSONL audit file, streaming it (files may be large).
 * Reports the first line whose link is broken: after an edit that is the line
 * after the edited one, after a deletion the line after the gap.
 */
export async function verifyChainFile(path: string): Promise<VerifyResult> {
  let lineNumber = 0;
  let previous = GENESIS_HASH;
  let pending: Buffer = Buffer.alloc(0);
  const check = (bytes: Buffer): VerifyResult | undefined => {
    lineNumber++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString("utf8"));
    } catch {
      return { ok: false, entries: lineNumber - 1, line: lineNumber, reason: "not valid JSON (edited or cut short)" };
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return { ok: false, entries: lineNumber - 1, line: lineNumber, reason: "not a JSON object" };
    }
    const prevHash = (parsed as Record<string, unknown>).prev_hash;
    if (typeof prevHash !== "string") {
      return { ok: false, entries: lineNumber - 1, line: lineNumber, reason: "has no prev_hash" };
    }
    if (prevHash !== previous) {
      const reason =
        lineNumber === 1
          ? "prev_hash is not the chain start (64 zeros): lines before it were deleted"
          : prevHash === GENESIS_HASH
            ? `prev_hash restarts the chain: line ${lineNumber - 1} and this one come from different logs, or earlier lines were replaced`
            : `prev_hash does not match line ${lineNumber - 1}: line ${lineNumber - 1} was edited, or lines between them were deleted`;
      return { ok: false, entries: lineNumber - 1, line: lineNumber, reason };
    }
    previous = lineHash(bytes);
    return undefined;
  };
  for await (const chunk of Bun.file(path).stream()) {
    pending = pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([pending, chunk]);
    let start = 0;
    for (let newline = pending.indexOf(0x0a, start); newline >= 0; newline = pending.indexOf(0x0a, start)) {
      const broken = check(pending.subarray(start, newline));
      if (broken) return broken;
      start = newline + 1;
    }
    pending = pending.subarray(start);
  }
  if (pending.length > 0) {
    const broken = check(pending);
    if (broken) return broken;
    return { ok: false, entries: lineNumber - 1, line: lineNumber, reason: "is incomplete (no newline at the end of the file: a write was cut short)" };
  }
  return { ok: true, entries: lineNumber };
}
