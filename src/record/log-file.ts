// The `log_file` of a session: its output as readable text (escapes stripped, progress-bar
// rewrites resolved), appended line by line, rotated by size like logrotate's `size` + `rotate`:
// FILE → FILE.1 → FILE.2 …, keeping `maxFiles` files in all.
import { closeSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { PtyError } from "../errors.ts";
import { cleanText } from "../terminal/ansi.ts";
import type { OutputSink } from "./sink.ts";

export interface LogFileOptions {
  path: string;
  /** Bytes; 0 = never rotate. */
  maxSize: number;
  /** Files kept in all, the live one included (≥ 1). */
  maxFiles: number;
}

const FLUSH_MS = 100;
const PARTIAL_FLUSH_MS = 1000;

export class LogFile implements OutputSink {
  readonly #options: LogFileOptions;
  #fd: number;
  #size: number;
  #decoder = new TextDecoder();
  /** Text of the unfinished last line, written once it ends or has idled. */
  #partial = "";
  #pending: string[] = [];
  #timer: Timer | undefined;
  #partialTimer: Timer | undefined;
  #closed = false;

  constructor(options: LogFileOptions) {
    this.#options = options;
    try {
      mkdirSync(dirname(options.path), { recursive: true });
      this.#fd = openSync(options.path, "a", 0o600);
      this.#size = statSync(options.path).size;
    } catch (err) {
      throw new PtyError("INVALID_ARGUMENT", `Cannot open log_file ${options.path}: ${(err as Error).message}`, false, { cause: err });
    }
  }

  write(bytes: Uint8Array): void {
    if (this.#closed) return;
    const text = this.#partial + this.#decoder.decode(bytes, { stream: true });
    const lastNewline = text.lastIndexOf("\n");
    if (lastNewline < 0) {
      this.#partial = text;
    } else {
      this.#pending.push(cleanText(text.slice(0, lastNewline + 1)));
      this.#partial = text.slice(lastNewline + 1);
    }
    this.#timer ??= setTimeout(() => this.#flush(), FLUSH_MS);
    if (this.#partial) {
      if (this.#partialTimer) this.#partialTimer.refresh();
      else this.#partialTimer = setTimeout(() => this.#flushPartial(), PARTIAL_FLUSH_MS);
    }
  }

  /** A prompt that waits for input is worth logging even without its newline. */
  #flushPartial(): void {
    this.#partialTimer = undefined;
    if (!this.#partial) return;
    this.#pending.push(cleanText(this.#partial) + "\n");
    this.#partial = "";
    this.#flush();
  }

  #flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const text = this.#pending.join("");
    this.#pending = [];
    try {
      const { maxSize } = this.#options;
      if (maxSize <= 0) {
        this.#append(Buffer.from(text, "utf8"));
        return;
      }
      // Rotate on line boundaries, so no line is split across two files.
      let chunk: string[] = [];
      let chunkBytes = 0;
      for (const line of text.split(/(?<=\n)/)) {
        const bytes = Buffer.byteLength(line);
        if (this.#size + chunkBytes + bytes > maxSize && this.#size + chunkBytes > 0) {
          this.#append(Buffer.from(chunk.join(""), "utf8"));
          chunk = [];
          chunkBytes = 0;
          this.#rotate();
        }
        chunk.push(line);
        chunkBytes += bytes;
      }
      this.#append(Buffer.from(chunk.join(""), "utf8"));
    } catch (err) {
      // A full disk must not take the session down; say so on stderr.
      console.error(`pty-mcp: log_file ${this.#options.path}: ${(err as Error).message}`);
    }
  }

  #append(data: Buffer): void {
    if (data.length === 0) return;
    writeSync(this.#fd, data);
    this.#size += data.length;
  }

  #rotate(): void {
    const { path, maxFiles } = this.#options;
    closeSync(this.#fd);
    if (maxFiles <= 1) {
      rmSync(path, { force: true });
    } else {
      rmSync(`${path}.${maxFiles - 1}`, { force: true });
      for (let i = maxFiles - 2; i >= 1; i--) {
        try {
          renameSync(`${path}.${i}`, `${path}.${i + 1}`);
        } catch {
          // that generation does not exist yet
        }
      }
      renameSync(path, `${path}.1`);
    }
    this.#fd = openSync(path, "a", 0o600);
    this.#size = 0;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#partialTimer) clearTimeout(this.#partialTimer);
    this.#partial += this.#decoder.decode();
    if (this.#partial) this.#pending.push(cleanText(this.#partial) + "\n");
    this.#partial = "";
    this.#flush();
    this.#closed = true;
    closeSync(this.#fd);
  }
}
