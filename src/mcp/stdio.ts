// The MCP server's stdin and stdout, for the SDK's StdioServerTransport, on Bun's native fd I/O
// (Bun.stdin's stream, Bun.stdout's FileSink) instead of process.stdin/process.stdout. Touching
// either of those loads Bun's node:stream implementation, ~9 ms of a ~30 ms cold start (README,
// Benchmark): the server answers initialize before that would even have loaded. Only what the
// transport and serve.ts use is here: data/end/close/error events and pause() on the input;
// write() → false until the bytes are out, then "drain", and "error" (EPIPE: the client went away).
import { EventEmitter } from "node:events";

/** fd 0 as the transport reads it: "data" (Buffer chunks), then "end" and "close"; "error" on a read error. */
export class StdinReader extends EventEmitter {
  readableEnded = false;
  destroyed = false;
  readonly #reader = Bun.stdin.stream().getReader();

  constructor() {
    super();
    void this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        const { value, done } = await this.#reader.read();
        if (done || this.destroyed) break;
        // The SDK's ReadBuffer concatenates and decodes Buffers (no copy: a view of the same bytes).
        this.emit("data", Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      }
    } catch (err) {
      if (!this.destroyed) this.emit("error", err instanceof Error ? err : new Error(String(err)));
    }
    this.readableEnded = true;
    this.emit("end");
    this.emit("close");
  }

  /** Called by the transport on close: stop reading fd 0 (nothing is listening any more). */
  pause(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      void this.#reader.cancel().catch(() => undefined);
    }
    return this;
  }
}

/** fd 1 as the transport writes it: write() is true when the bytes went out at once. */
export class StdoutWriter extends EventEmitter {
  readonly #sink = Bun.stdout.writer();
  #pending = 0;
  #failed: Error | undefined;

  constructor() {
    super();
    // The transport adds an "error" and a "drain" listener per answer still in the pipe.
    this.setMaxListeners(0);
  }

  /** Resolves when everything written is out (or the pipe failed): the server exits only then. */
  drained(): Promise<void> {
    if (this.#pending === 0 || this.#failed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.off("drain", done);
        this.off("error", done);
        resolve();
      };
      this.on("drain", done);
      this.on("error", done);
    });
  }

  write(text: string): boolean {
    if (this.#failed) {
      const err = this.#failed;
      queueMicrotask(() => this.emit("error", err));
      return false;
    }
    let waits: Promise<number>[];
    try {
      // A FileSink takes what the pipe takes now and keeps the rest; write/flush return promises then.
      // EPIPE comes as a throw or as a rejection, depending on when the reader went away.
      const wrote: unknown = this.#sink.write(text);
      const flushed: unknown = this.#sink.flush();
      waits = [wrote, flushed].filter((p): p is Promise<number> => p instanceof Promise);
    } catch (err) {
      queueMicrotask(() => this.#fail(err));
      return false;
    }
    if (waits.length === 0) return true;
    this.#pending++;
    Promise.all(waits).then(
      () => {
        if (--this.#pending === 0 && !this.#failed) this.emit("drain");
      },
      (err: unknown) => {
        this.#pending--;
        this.#fail(err);
      },
    );
    return false;
  }

  #fail(err: unknown): void {
    if (this.#failed) return;
    this.#failed = err instanceof Error ? err : new Error(String(err));
    this.emit("error", this.#failed);
  }
}
