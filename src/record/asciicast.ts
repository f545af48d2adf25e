/**
 * A session recording in asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/):
 * a header line `{"version":2,"width","height","timestamp","env"}`, then one JSON
 * array per event: `[seconds, "o", text]` for output, `[seconds, "r", "COLSxROWS"]`
 * for a resize. `asciinema play` and `asciinema cat` read it.
 *
 * Output is decoded as a UTF-8 stream, so a character split across two chunks is
 * written whole in the later event; bytes that are not UTF-8 (a serial console
 * in latin1) become U+FFFD, as asciicast text must be Unicode. Input is never
 * recorded (it may be a secret). The file is created 0600, never through a symlink.
 */
import { closeSync, constants, fchmodSync, openSync } from "node:fs";
import { PtyError, errorMessage } from "../errors.ts";
import type { OutputSink } from "../session/sink.ts";
import { writeAll } from "./log-file.ts";

export interface AsciicastOptions {
  cols: number;
  rows: number;
  /** Header `title`. */
  title?: string;
}

export class AsciicastWriter implements OutputSink {
  readonly path: string;
  readonly #fd: number;
  readonly #start = performance.now();
  readonly #decoder = new TextDecoder("utf-8");
  #pending: string[] = [];
  #flushing: Promise<void> | undefined;
  #scheduled = false;
  #closed: Promise<void> | undefined;
  #failed = false;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.#fd = fd;
  }

  /** Creates (or truncates) `path` and writes the header; throws PtyError INVALID_ARGUMENT when the file cannot be created. */
  static create(path: string, options: AsciicastOptions): AsciicastWriter {
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
      // An existing file keeps its mode through O_TRUNC; a recording may hold anything the session printed.
      fchmodSync(fd, 0o600);
    } catch (err) {
      throw new PtyError("INVALID_ARGUMENT", `Cannot create recording ${path}: ${errorMessage(err)}. Give a writable path (a symlink is refused).`, false, { cause: err });
    }
    const writer = new AsciicastWriter(path, fd);
    const header: Record<string, unknown> = {
      version: 2,
      width: options.cols,
      height: options.rows,
      timestamp: Math.floor(Date.now() / 1000),
      env: { TERM: "xterm-256color" },
    };
    if (options.title !== undefined) header.title = options.title;
    writer.#push(JSON.stringify(header));
    return writer;
  }

  #elapsed(): number {
    // asciinema writes microsecond precision.
    return Math.round((performance.now() - this.#start) * 1000) / 1e6;
  }

  write(bytes: Uint8Array): void {
    if (this.#closed) return;
    const text = this.#decoder.decode(bytes, { stream: true });
    if (text !== "") this.#push(JSON.stringify([this.#elapsed(), "o", text]));
  }

  resize(size: { cols: number; rows: number }): void {
    if (this.#closed) return;
    this.#push(JSON.stringify([this.#elapsed(), "r", `${size.cols}x${size.rows}`]));
  }

  #push(line: string): void {
    if (this.#failed) return;
    this.#pending.push(line);
    if (this.#scheduled) return;
    this.#scheduled = true;
    // Coalesce what arrives in one turn of the event loop into one write.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  /** Writes what is pending; one write in flight at a time, in order. */
  #flush(): Promise<void> {
    const previous = this.#flushing ?? Promise.resolve();
    const run = previous.then(async () => {
      if (this.#pending.length === 0 || this.#failed) return;
      const text = `${this.#pending.join("\n")}\n`;
      this.#pending = [];
      try {
        await writeAll(this.#fd, Buffer.from(text, "utf8"));
      } catch (err) {
        this.#failed = true;
        console.error(`pty-mcp: recording ${this.path} stopped: ${errorMessage(err)}`);
      }
    });
    this.#flushing = run;
    return run;
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      const rest = this.#decoder.decode();
      if (rest !== "") this.#push(JSON.stringify([this.#elapsed(), "o", rest]));
      await this.#flush();
      closeSync(this.#fd);
    })();
    return this.#closed;
  }
}
