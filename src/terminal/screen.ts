// The rendered terminal a human would see, from @xterm/headless.
//
// Parsing costs about as much as the PTY delivers (40–60 MB/s), so the screen is kept off the
// hot path: bytes stay in the session's OutputBuffer and are fed here lazily — when someone
// reads the screen, before a resize, and once output has been idle for a moment. A flood
// therefore never waits for the emulator. If the buffer dropped bytes the screen never saw,
// the screen restarts from what the buffer still holds (full-screen programs redraw).
import xterm from "@xterm/headless";
import type { OutputBuffer } from "../session/output-buffer.ts";
import { serializeScreen } from "./serialize.ts";

const { Terminal } = xterm;

export interface ScreenSnapshot {
  lines: string[];
  cursor: { row: number; col: number };
  cols: number;
  rows: number;
  alternate_screen: boolean;
  title: string;
}

const IDLE_FEED_MS = 150;
const SCROLLBACK = 1000;

export class Screen {
  #term: InstanceType<typeof Terminal>;
  #fedTo: number;
  #title = "";
  #queue: Promise<void> = Promise.resolve();
  #idleTimer: Timer | undefined;
  #closed = false;
  readonly #buffer: OutputBuffer;

  constructor(buffer: OutputBuffer, size: { cols: number; rows: number }) {
    this.#buffer = buffer;
    this.#fedTo = buffer.end;
    this.#term = this.#create(size);
  }

  #create(size: { cols: number; rows: number }): InstanceType<typeof Terminal> {
    const term = new Terminal({ cols: size.cols, rows: size.rows, scrollback: SCROLLBACK, allowProposedApi: true });
    term.onTitleChange((title) => (this.#title = title));
    return term;
  }

  get size(): { cols: number; rows: number } {
    return { cols: this.#term.cols, rows: this.#term.rows };
  }

  /** True when the program switched the cursor keys to application mode (DECCKM). */
  get applicationCursorKeys(): boolean {
    return this.#term.modes.applicationCursorKeysMode;
  }

  /** Called on every output chunk: only (re)arms the idle timer. */
  noteOutput(): void {
    if (this.#closed) return;
    if (this.#idleTimer) this.#idleTimer.refresh();
    else this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      void this.sync();
    }, IDLE_FEED_MS);
  }

  /** Feeds everything the buffer holds beyond what the screen has seen; resolves once parsed. */
  sync(): Promise<void> {
    this.#queue = this.#queue.then(() => this.#feed());
    return this.#queue;
  }

  async #feed(): Promise<void> {
    if (this.#closed) return;
    const buffer = this.#buffer;
    while (this.#fedTo < buffer.end) {
      if (this.#fedTo < buffer.start) {
        // Bytes were lost before the screen saw them: start over from what is held.
        const size = this.size;
        this.#term.dispose();
        this.#term = this.#create(size);
        this.#fedTo = buffer.start;
      }
      const read = buffer.read(this.#fedTo, 256 * 1024);
      if (read.to === read.from) break;
      this.#fedTo = read.to;
      await new Promise<void>((resolve) => this.#term.write(read.bytes, resolve));
      if (this.#closed) return;
    }
  }

  async resize(size: { cols: number; rows: number }): Promise<void> {
    await this.sync();
    if (!this.#closed) this.#term.resize(size.cols, size.rows);
  }

  async snapshot(scrollback = 0): Promise<ScreenSnapshot> {
    await this.sync();
    const term = this.#term;
    const active = term.buffer.active;
    const first = Math.max(0, active.viewportY - Math.max(0, scrollback));
    const last = active.viewportY + term.rows;
    const lines: string[] = [];
    for (let y = first; y < last; y++) lines.push(active.getLine(y)?.translateToString(true) ?? "");
    return {
      lines,
      cursor: { row: active.cursorY, col: active.cursorX },
      cols: term.cols,
      rows: term.rows,
      alternate_screen: active.type === "alternate",
      title: this.#title,
    };
  }

  /**
   * Escape sequences that redraw the screen on another terminal of this size
   * (terminal/serialize.ts), and the output cursor the screen reflects: bytes from `cursor`
   * on are what the screen has not seen yet.
   */
  serialize(): Promise<{ ansi: string; cursor: number }> {
    const result = this.#queue.then(async () => {
      await this.#feed();
      if (this.#closed) return { ansi: "", cursor: this.#buffer.end };
      return { ansi: serializeScreen(this.#term), cursor: this.#fedTo };
    });
    this.#queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  dispose(): void {
    this.#closed = true;
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#term.dispose();
  }
}
