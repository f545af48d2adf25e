// The rendered terminal a human would see, from @xterm/headless.
//
// Parsing costs about as much as the PTY delivers (40–60 MB/s), so the screen is kept off the
// hot path: bytes stay in the session's OutputBuffer and are fed here lazily — when someone
// reads the screen, before a resize, and once output has been idle for a moment. A flood
// therefore never waits for the emulator. If the buffer dropped bytes the screen never saw,
// the screen restarts from what the buffer still holds (full-screen programs redraw).
import type { Terminal as XTerm } from "@xterm/headless";
import { QueryDetector } from "./queries.ts";
import { serializeScreen } from "./serialize.ts";

/** The byte history the screen is fed from (the session's OutputBuffer): absolute cursors, oldest held first. */
export interface ScreenSource {
  readonly start: number;
  readonly end: number;
  read(from: number, maxBytes?: number): { bytes: Uint8Array; from: number; to: number };
}

// The emulator is loaded on first use, not at server start: importing it costs ~20 ms of a cold
// start, and many sessions never have their screen read.
type XTermModule = typeof import("@xterm/headless");
let xtermModule: Promise<XTermModule> | undefined;
function loadXterm(): Promise<XTermModule> {
  xtermModule ??= import("@xterm/headless").then((m) => ((m as unknown as { default?: XTermModule }).default ?? m));
  return xtermModule;
}

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
  #term: XTerm | undefined;
  #size: { cols: number; rows: number };
  #fedTo: number;
  #title = "";
  #queue: Promise<void> = Promise.resolve();
  #idleTimer: Timer | undefined;
  #closed = false;
  /** Where the terminal's answers to the program's queries go (Session: the transport); none: unanswered. */
  #reply: ((answer: string) => void) | undefined;
  readonly #queries = new QueryDetector();
  /** Output up to here was parsed once: after a restart, queries in it were answered already. */
  #answeredTo: number;
  readonly #buffer: ScreenSource;

  constructor(buffer: ScreenSource, size: { cols: number; rows: number }) {
    this.#buffer = buffer;
    this.#fedTo = buffer.end;
    this.#answeredTo = buffer.end;
    this.#size = { ...size };
  }

  /**
   * Answers the program's terminal queries (cursor position, device attributes, status, version) the
   * way a terminal does, from the screen's state at the query, through `reply`. A chunk with a query
   * (terminal/queries.ts) is parsed at once instead of when output idles.
   */
  answerQueries(reply: (answer: string) => void): void {
    this.#reply = reply;
  }

  async #create(): Promise<XTerm> {
    const { Terminal } = await loadXterm();
    const term = new Terminal({ cols: this.#size.cols, rows: this.#size.rows, scrollback: SCROLLBACK, allowProposedApi: true });
    term.onTitleChange((title) => (this.#title = title));
    // The emulator's own answers (xterm.js sends them as if typed). Output parsed before a restart
    // was answered then: only bytes past that point are answered.
    term.onData((answer) => {
      if (this.#reply && this.#fedTo > this.#answeredTo) this.#reply(answer);
    });
    return term;
  }

  get size(): { cols: number; rows: number } {
    return { ...this.#size };
  }

  /** True when the program switched the cursor keys to application mode (DECCKM). Read after sync(). */
  get applicationCursorKeys(): boolean {
    return this.#term?.modes.applicationCursorKeysMode ?? false;
  }

  /**
   * Called on every output chunk: (re)arms the idle timer, or parses at once when the chunk asks the
   * terminal something and this screen answers (answerQueries).
   */
  noteOutput(bytes?: Uint8Array): void {
    if (this.#closed) return;
    if (this.#reply && bytes && this.#queries.push(bytes)) {
      void this.sync();
      return;
    }
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
    this.#term ??= await this.#create();
    if (this.#closed) return;
    const buffer = this.#buffer;
    while (this.#fedTo < buffer.end) {
      if (this.#fedTo < buffer.start) {
        // Bytes were lost before the screen saw them: start over from what is held.
        this.#term.dispose();
        this.#term = await this.#create();
        this.#fedTo = buffer.start;
      }
      // A restart re-parses output that was answered already: up to that point in pieces of its own.
      const limit = this.#fedTo < this.#answeredTo ? Math.min(256 * 1024, this.#answeredTo - this.#fedTo) : 256 * 1024;
      const read = buffer.read(this.#fedTo, limit);
      if (read.to === read.from) break;
      this.#fedTo = read.to;
      const term = this.#term;
      await new Promise<void>((resolve) => term.write(read.bytes, resolve));
      this.#answeredTo = Math.max(this.#answeredTo, read.to);
      if (this.#closed) return;
    }
  }

  async resize(size: { cols: number; rows: number }): Promise<void> {
    this.#size = { ...size };
    await this.sync();
    if (!this.#closed) this.#term?.resize(size.cols, size.rows);
  }

  async snapshot(scrollback = 0): Promise<ScreenSnapshot> {
    await this.sync();
    const term = this.#term;
    if (!term) return { lines: [], cursor: { row: 0, col: 0 }, ...this.#size, alternate_screen: false, title: this.#title };
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
      if (this.#closed || !this.#term) return { ansi: "", cursor: this.#buffer.end };
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
    this.#term?.dispose();
  }
}
