// The `log_file` of a session: its output as readable text (escapes stripped, progress-bar
// rewrites resolved), appended line by line, rotated by size like logrotate's `size` + `rotate`:
// FILE → FILE.1 → FILE.2 …, keeping `maxFiles` files in all.
//
// The file is opened without following a symlink and made 0600 even when it existed (it holds
// whatever the session printed). Writes and rotations run off the event loop (libuv's pool), one
// at a time: a rotation of 100 generations never delays another session's call. Text that
// arrives while the disk is busy waits in memory up to MAX_QUEUED_BYTES; past that it is
// dropped and the log says how much.
import { close, constants, fchmodSync, fstatSync, mkdirSync, open, openSync, closeSync, rename, rm, write } from "node:fs";
import { dirname } from "node:path";
import { promisify } from "node:util";
import { PtyError, errorMessage } from "../errors.ts";
import { cleanText } from "../terminal/ansi.ts";
import type { OutputSink } from "../session/sink.ts";

export interface LogFileOptions {
  path: string;
  /** Bytes; 0 = never rotate; otherwise at least MIN_LOG_ROTATE_BYTES. */
  maxSize: number;
  /** Files kept in all, the live one included (≥ 1). */
  maxFiles: number;
}

/** The smallest rotation size (log_max_size 0.01 MB): below it every line was a rotation. */
export const MIN_LOG_ROTATE_BYTES = Math.round(0.01 * 1024 * 1024);
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
const FLUSH_MS = 100;
const PARTIAL_FLUSH_MS = 1000;

// O_NONBLOCK: opening a FIFO planted at the path must not hang the server (it is refused below).
const OPEN_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;

const openAsync = promisify(open);
const closeAsync = promisify(close);
const renameAsync = promisify(rename);
const rmAsync = promisify(rm);

/** Writes all of `bytes` at the file position (asynchronous, never blocks the event loop); also used by asciicast.ts. */
export function writeAll(fd: number, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const next = (offset: number): void => {
      if (offset >= bytes.length) return resolve();
      write(fd, bytes, offset, bytes.length - offset, null, (err, written) => (err ? reject(err) : next(offset + written)));
    };
    next(0);
  });
}

/** A regular file of ours, made 0600; anything else (a FIFO, a device) is refused and `fd` closed. */
function checkedLogFd(fd: number): number {
  try {
    if (!fstatSync(fd).isFile()) throw new Error("not a regular file");
    fchmodSync(fd, 0o600);
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

export class LogFile implements OutputSink {
  readonly #options: LogFileOptions;
  /** -1 once a rotation could not reopen the file: nothing more is logged. */
  #fd: number;
  #size: number;
  #decoder = new TextDecoder();
  /** Text of the unfinished last line, written once it ends or has idled. */
  #partial = "";
  #pending: string[] = [];
  #pendingBytes = 0;
  #droppedBytes = 0;
  #writing: Promise<void> | undefined;
  #timer: Timer | undefined;
  #partialTimer: Timer | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: LogFileOptions) {
    this.#options = options;
    try {
      mkdirSync(dirname(options.path), { recursive: true });
      this.#fd = checkedLogFd(openSync(options.path, OPEN_FLAGS, 0o600));
      this.#size = fstatSync(this.#fd).size;
    } catch (err) {
      throw new PtyError("INVALID_ARGUMENT", `Cannot open log_file ${options.path}: ${errorMessage(err)}. Give a writable regular file (a symlink is refused).`, false, { cause: err });
    }
  }

  write(bytes: Uint8Array): void {
    if (this.#closed) return;
    const text = this.#partial + this.#decoder.decode(bytes, { stream: true });
    const lastNewline = text.lastIndexOf("\n");
    if (lastNewline < 0) {
      this.#partial = text;
    } else {
      this.#queue(cleanText(text.slice(0, lastNewline + 1)));
      this.#partial = text.slice(lastNewline + 1);
    }
    this.#timer ??= setTimeout(() => this.#flush(), FLUSH_MS);
    if (this.#partial) {
      if (this.#partialTimer) this.#partialTimer.refresh();
      else this.#partialTimer = setTimeout(() => this.#flushPartial(), PARTIAL_FLUSH_MS);
    }
  }

  #queue(text: string): void {
    if (this.#pendingBytes + text.length > MAX_QUEUED_BYTES) {
      this.#droppedBytes += Buffer.byteLength(text);
      return;
    }
    this.#pending.push(text);
    this.#pendingBytes += text.length;
  }

  /** A prompt that waits for input is worth logging even without its newline. */
  #flushPartial(): void {
    this.#partialTimer = undefined;
    if (!this.#partial) return;
    this.#queue(cleanText(this.#partial) + "\n");
    this.#partial = "";
    this.#flush();
  }

  /** Starts the writer unless it runs; it takes whatever is pending when it gets to it. */
  #flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#writing ??= this.#drain().finally(() => (this.#writing = undefined));
    return this.#writing;
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0 || this.#droppedBytes > 0) {
      if (this.#droppedBytes > 0) {
        this.#pending.push(`[pty-mcp: ${this.#droppedBytes} bytes of output not logged: the disk did not keep up]\n`);
        this.#droppedBytes = 0;
      }
      const text = this.#pending.join("");
      this.#pending = [];
      this.#pendingBytes = 0;
      try {
        await this.#writeText(text);
      } catch (err) {
        // A full disk must not take the session down; say so on stderr.
        console.error(`pty-mcp: log_file ${this.#options.path}: ${errorMessage(err)}`);
      }
    }
  }

  async #writeText(text: string): Promise<void> {
    const { maxSize } = this.#options;
    if (maxSize <= 0) return this.#append(Buffer.from(text, "utf8"));
    // Rotate on line boundaries, so no line is split across two files.
    let chunk: string[] = [];
    let chunkBytes = 0;
    for (const line of text.split(/(?<=\n)/)) {
      const bytes = Buffer.byteLength(line);
      if (this.#size + chunkBytes + bytes > maxSize && this.#size + chunkBytes > 0) {
        await this.#append(Buffer.from(chunk.join(""), "utf8"));
        chunk = [];
        chunkBytes = 0;
        await this.#rotate();
      }
      chunk.push(line);
      chunkBytes += bytes;
    }
    await this.#append(Buffer.from(chunk.join(""), "utf8"));
  }

  async #append(data: Buffer): Promise<void> {
    if (data.length === 0 || this.#fd < 0) return;
    await writeAll(this.#fd, data);
    this.#size += data.length;
  }

  /**
   * Renames move the names themselves (a symlink planted as FILE.2 is moved, never followed),
   * and the new FILE is created exclusively: whatever appeared at the path meanwhile is refused.
   */
  async #rotate(): Promise<void> {
    const { path, maxFiles } = this.#options;
    if (this.#fd < 0) return;
    if (maxFiles <= 1) {
      await rmAsync(path, { force: true });
    } else {
      await rmAsync(`${path}.${maxFiles - 1}`, { force: true });
      for (let i = maxFiles - 2; i >= 1; i--) {
        await renameAsync(`${path}.${i}`, `${path}.${i + 1}`).catch(() => undefined); // that generation does not exist yet
      }
      await renameAsync(path, `${path}.${1}`);
    }
    const old = this.#fd;
    this.#fd = -1;
    await closeAsync(old);
    this.#fd = checkedLogFd(await openAsync(path, OPEN_FLAGS | constants.O_EXCL, 0o600));
    this.#size = 0;
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      if (this.#partialTimer) clearTimeout(this.#partialTimer);
      this.#partial += this.#decoder.decode();
      if (this.#partial) this.#queue(cleanText(this.#partial) + "\n");
      this.#partial = "";
      await this.#flush();
      if (this.#fd >= 0) await closeAsync(this.#fd).catch(() => undefined);
      this.#fd = -1;
    })();
    return this.#closed;
  }
}
