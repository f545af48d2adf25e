// The one session core. Every session type (local PTY, SSH, serial, daemon) is a Transport;
// this class gives each the same buffer, read mark, screen, matcher, classifier and waits.
import { PtyError } from "../errors.ts";
import type { OutputSink } from "../record/sink.ts";
import { cleanText, displayedLine, stripAnsi } from "../terminal/ansi.ts";
import { Screen, type ScreenSnapshot } from "../terminal/screen.ts";
import { classify, isPagerLine, joinPages, type Classification, type SessionState } from "./classifier.ts";
import { resolveKey } from "./keys.ts";
import { typedHook, type HookedShell } from "./shell-hooks.ts";
import { ShellMarkerParser, type ShellMarker } from "./shell-markers.ts";
import { compilePatterns, firstMatch } from "./matcher.ts";
import { bufferSizeFromEnv, OutputBuffer } from "./output-buffer.ts";
import { Emitter, type Transport, type TransportExit } from "./transport.ts";

export type SessionType = "local" | "ssh" | "serial";

export interface SessionInit {
  id: string;
  type: SessionType;
  /** What the session is connected to, for humans: a command line, user@host, a device. */
  target: string;
  name?: string;
  transport: Transport;
  size: { cols: number; rows: number };
  /** Appended to send_input's text unless raw. Default "\r" (Enter on a terminal). */
  lineEnding?: string;
  /** Answer pagers (--More-- and kin) by itself. */
  autoPager?: boolean;
  persistent?: boolean;
  bufferSize?: number;
  /**
   * Absolute cursor of the first byte this session will receive (default 0). A mirror of a
   * session held elsewhere (the daemon) starts where its attachment starts, so that its
   * cursors are the original's.
   */
  outputOffset?: number;
  /** Log file, recording: get every output byte. */
  sinks?: OutputSink[];
  /** Extra facts for get_session_state (serial settings …). */
  details?: Record<string, unknown>;
}

/** Something typed into a session, for the audit trail. Secrets carry no data. */
export interface InputEvent {
  session: Session;
  kind: "input" | "raw" | "control" | "secret" | "auto_pager";
  data?: string;
}

/** How a session ended (Session.onClose). */
export interface SessionClose {
  /** detach_session or server shutdown: the persistent session's program keeps running in the daemon. */
  detached: boolean;
}

/** Awaited before any input reaches the transport; a hook that throws refuses the input (audit strict mode). */
export type InputHook = (event: InputEvent) => Promise<void>;

export interface Progress {
  (update: { progress: number; total?: number; message?: string }): void;
}

export interface WaitOptions {
  /** Pattern or list of patterns (RE2 syntax; invalid → substring with a warning). */
  waitFor: string | readonly string[];
  /** Scan from here (absolute cursor); default the read mark. */
  from?: number;
  timeoutMs: number;
  contextLines?: number;
  tailLines?: number;
  signal?: AbortSignal;
  progress?: Progress;
  /** Input lines just sent: their echo never counts as a match. */
  echoOf?: readonly string[];
}

export type WaitResult = {
  matched: boolean;
  timed_out: boolean;
  match_line?: string;
  matched_index?: number;
  context?: string;
  tail?: string;
  cursor: number;
  is_alive: boolean;
  warning?: string;
  is_truncated?: boolean;
  cancelled?: boolean;
};

export type ReadResult = {
  output: string;
  cursor: number;
  cursor_start: number;
  has_more: boolean;
  is_truncated: boolean;
  is_alive: boolean;
  state: SessionState;
};

export type SendInputResult = {
  output: string;
  cursor: number;
  cursor_start: number;
  cursor_end: number;
  is_alive: boolean;
  is_complete: boolean;
  exit_code?: number;
  state: SessionState;
  completion: "exact" | "heuristic";
  is_truncated?: boolean;
};

export const MAX_INPUT_BYTES = 1024 * 1024;
/** Largest `output` a result carries by default; more is read with since_cursor. */
export const DEFAULT_MAX_RESULT_BYTES = 256 * 1024;
/** A prompt must stay quiet this long before send_input calls the command complete. */
const PROMPT_QUIET_MS = 30;
/** With shell integration: quiet after the new prompt, in case the input held a second command line. */
const EXACT_QUIET_MS = 5;
/** Raw keystrokes: output idle this long counts as settled. */
const RAW_SETTLE_MS = 250;
/** read_output's settle mode: output idle this long means the program is waiting. */
const READ_SETTLE_MS = 100;
const PROGRESS_INTERVAL_MS = 5000;
/** Progress messages show the last line of output from this much of the tail, cut to this length. */
const PROGRESS_TAIL_BYTES = 1024;
const PROGRESS_LINE_CHARS = 200;
/** A line longer than this is matched without waiting for its newline. */
const MAX_PARTIAL_LINE = 64 * 1024;
const TAIL_BYTES = 4096;
/** Complete lines worth testing as one block before going line by line. */
const BLOCK_SCAN_MIN = 4096;
const AUTO_PAGER_DELAY_MS = 20;
/** installShellHook: longest wait for the first prompt (a slow ~/.bashrc: nvm, conda) before typing the hook. */
const HOOK_PROMPT_TIMEOUT_MS = 10_000;
/** installShellHook: a recognised prompt quiet this long is a shell waiting for a line. */
const HOOK_PROMPT_QUIET_MS = 50;
/**
 * installShellHook: output quiet this long at a last line that is no known prompt counts as one too.
 * Long, because typing while the rc files still run (a silent nvm/conda after the motd) would put
 * their output and the first prompt inside what the hook drops.
 */
const HOOK_IDLE_QUIET_MS = 1500;
/** installShellHook: longest wait for the hooked prompt after typing the hook; then the held output is let through. */
const HOOK_TIMEOUT_MS = 5000;
/** installShellHook: held output beyond this means the hook went wrong; it is let through. */
const HOOK_MAX_HELD = 256 * 1024;
const B_MARKER = "\x1b]133;B";

const encoder = new TextEncoder();

export class Session {
  readonly id: string;
  readonly type: SessionType;
  readonly target: string;
  readonly name: string | undefined;
  readonly persistent: boolean;
  readonly createdAt = new Date();
  lastUsed = new Date();
  readonly buffer: OutputBuffer;
  readonly screen: Screen;
  readonly transport: Transport;
  readonly details: Record<string, unknown>;
  lineEnding: string;
  autoPager: boolean;
  /** Cursor up to which output was returned to the agent. */
  readMark = 0;
  /** Set by prepare_secret while a secret waits for a password prompt. */
  awaitingSecret = false;
  readonly inputHooks: InputHook[] = [];
  readonly #input = new Emitter<InputEvent>();
  readonly #output = new Emitter<Uint8Array>();
  readonly #close = new Emitter<SessionClose>();
  readonly #sinks: OutputSink[];
  #exit: TransportExit | undefined;
  #closed = false;
  #size: { cols: number; rows: number };
  #lastOutputAt = 0;
  #lastPrompt: string | undefined;
  #wakers = new Set<() => void>();
  #pagerTimer: Timer | undefined;
  /** Pages answered by auto_pager, for tests and the state. */
  pagesAnswered = 0;
  /** Cursors where auto_pager answered a pager prompt (each ends one): results leave those prompts out. */
  #answeredPagers: number[] = [];
  #disposables: Disposable[] = [];
  readonly #markers = new ShellMarkerParser();
  /** What the shell integration markers (OSC 133) said; `active` once a hooked prompt was drawn. */
  readonly #shell = {
    active: false,
    phase: "unknown" as "unknown" | "prompt" | "command" | "finished",
    prompts: 0,
    commandEnds: 0,
    commandRunning: false,
    lastExitCode: undefined as number | undefined,
  };

  /**
   * While installShellHook's line is being typed and run: output held back from the buffer, up to
   * the hooked prompt's B marker (then dropped: the echo of the line, the second prompt), or let
   * through whole if the hook never answers.
   */
  #gate: { chunks: Uint8Array[]; length: number; parser: ShellMarkerParser; done: (hooked: boolean) => void } | undefined;

  constructor(init: SessionInit) {
    this.id = init.id;
    this.type = init.type;
    this.target = init.target;
    this.name = init.name;
    this.persistent = init.persistent ?? false;
    this.transport = init.transport;
    this.lineEnding = init.lineEnding ?? "\r";
    this.autoPager = init.autoPager ?? false;
    this.details = init.details ?? {};
    this.#size = { ...init.size };
    this.#sinks = init.sinks ?? [];
    this.buffer = new OutputBuffer(init.bufferSize ?? bufferSizeFromEnv(), init.outputOffset ?? 0);
    this.readMark = this.buffer.end;
    this.screen = new Screen(this.buffer, init.size);
    this.#disposables.push(
      init.transport.onData((bytes) => this.#onData(bytes)),
      init.transport.onExit((exit) => this.#onExit(exit)),
    );
  }

  get isAlive(): boolean {
    return !this.#exit && !this.#closed;
  }

  get exit(): TransportExit | undefined {
    return this.#exit;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  get size(): { cols: number; rows: number } {
    return { ...this.#size };
  }

  /** Every input event, after it reached the transport. */
  onInput(listener: (event: InputEvent) => void): Disposable {
    return this.#input.on(listener);
  }

  /**
   * Fires once, when close() has ended the session (close_session, detach_session, the registry
   * dropping it, server shutdown): later than the program's exit, which leaves the output readable.
   */
  onClose(listener: (event: SessionClose) => void): Disposable {
    return this.#close.on(listener);
  }

  /** Output bytes as they arrive (after the buffer took them). */
  onOutput(listener: (bytes: Uint8Array) => void): Disposable {
    return this.#output.on(listener);
  }

  #onData(bytes: Uint8Array): void {
    if (this.#closed) return;
    if (this.#gate) {
      this.#gateData(bytes);
      return;
    }
    this.buffer.append(bytes);
    this.#lastOutputAt = performance.now();
    const markers = this.#markers.push(bytes, this.buffer.end);
    for (const marker of markers) this.#onMarker(marker);
    for (const sink of this.#sinks) sink.write(bytes);
    this.screen.noteOutput();
    this.#output.emit(bytes);
    if (this.autoPager) this.#armAutoPager();
    this.#wake();
  }

  #onMarker(marker: ShellMarker): void {
    const shell = this.#shell;
    switch (marker.kind) {
      case "B":
        shell.active = true;
        shell.phase = "prompt";
        shell.prompts++;
        break;
      case "C":
        shell.phase = "command";
        shell.commandRunning = true;
        break;
      case "D":
        // A D without a C is an empty command line: no exit status to report.
        if (shell.commandRunning) {
          shell.lastExitCode = marker.exitCode;
          shell.commandEnds++;
        }
        shell.commandRunning = false;
        shell.phase = "finished";
        break;
      case "A":
        break;
    }
  }

  /**
   * Hooks a shell we can only type into (an SSH login shell known to be bash or zsh): waits for
   * its first prompt, types the hook line (src/session/shell-hooks.ts) and holds the output back
   * until the hooked prompt arrives. Then the held bytes — the line's echo, the second prompt —
   * are dropped and the stream resumes at that prompt's B marker: the buffer, screen, logs and
   * results read as if the hook had never been typed, and the shell's history forgets it too.
   * True once the session is hooked; false (nothing typed, or the held output let through
   * unchanged) when no prompt came, the program asks for something (a password, a menu), the
   * hook did not answer within HOOK_TIMEOUT_MS, or the session ended. Typed straight to the
   * transport: it is not the agent's input (no input hooks, no audit entry).
   */
  async installShellHook(shell: HookedShell, options: { signal?: AbortSignal; promptTimeoutMs?: number; timeoutMs?: number } = {}): Promise<boolean> {
    if (this.#shell.active) return true;
    if (this.#gate || !this.isAlive) return false;
    if (!(await this.#awaitFirstPrompt(shell, options.promptTimeoutMs ?? HOOK_PROMPT_TIMEOUT_MS, options.signal))) return false;
    const hooked = new Promise<boolean>((resolve) => {
      this.#gate = { chunks: [], length: 0, parser: new ShellMarkerParser(), done: resolve };
    });
    const timer = setTimeout(() => this.#openGate(false), options.timeoutMs ?? HOOK_TIMEOUT_MS);
    const abort = () => this.#openGate(false);
    options.signal?.addEventListener("abort", abort, { once: true });
    try {
      await this.transport.write(encoder.encode(`${typedHook(shell)}\r`));
    } catch {
      this.#openGate(false);
    }
    try {
      return await hooked;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", abort);
    }
  }

  /** Output, then quiet at something that is a shell's prompt (or at least no question). */
  async #awaitFirstPrompt(shell: HookedShell, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (!this.isAlive || signal?.aborted) return false;
      const quiet = this.quietMs();
      const now = performance.now();
      if (this.#lastOutputAt > 0 && quiet >= HOOK_PROMPT_QUIET_MS) {
        const state = this.classify().state;
        // A question (password, yes/no, a pager, zsh's new-user menu) must not get the hook as its answer.
        if (state === "password_prompt" || state === "confirmation" || state === "pager") return false;
        if (shell === "zsh" && /zsh-newuser-install/.test(this.tailText())) return false;
        if (state === "at_prompt" || quiet >= HOOK_IDLE_QUIET_MS) return true;
      }
      if (now >= deadline) return false;
      const wake = this.#lastOutputAt > 0 ? (quiet < HOOK_PROMPT_QUIET_MS ? HOOK_PROMPT_QUIET_MS : HOOK_IDLE_QUIET_MS) - quiet : deadline - now;
      await this.changed(Math.max(1, Math.min(deadline - now, wake)), signal);
    }
  }

  #gateData(bytes: Uint8Array): void {
    const gate = this.#gate!;
    gate.chunks.push(bytes);
    gate.length += bytes.length;
    const b = gate.parser.push(bytes, gate.length).find((m) => m.kind === "B");
    if (!b) {
      if (gate.length > HOOK_MAX_HELD) this.#openGate(false);
      return;
    }
    const held = concatBytes(gate.chunks);
    const text = new TextDecoder("latin1").decode(held.subarray(0, b.cursor));
    const from = text.lastIndexOf(B_MARKER);
    this.#gate = undefined;
    this.#onData(held.subarray(Math.max(0, from)));
    gate.done(true);
  }

  /** Ends a gate without a hooked prompt: everything held goes through as it came. */
  #openGate(hooked: boolean): void {
    const gate = this.#gate;
    if (!gate) return;
    this.#gate = undefined;
    if (gate.length > 0) this.#onData(concatBytes(gate.chunks));
    gate.done(hooked);
  }

  /** Shell integration facts for get_session_state. */
  get shellIntegration(): { active: boolean; lastExitCode: number | undefined } {
    return { active: this.#shell.active, lastExitCode: this.#shell.lastExitCode };
  }

  #onExit(exit: TransportExit): void {
    if (this.#exit) return;
    this.#openGate(false);
    this.#exit = exit;
    for (const sink of this.#sinks) void sink.close();
    this.#wake();
  }

  #wake(): void {
    const wakers = [...this.#wakers];
    this.#wakers.clear();
    for (const wake of wakers) wake();
  }

  /**
   * Resolves at the next output or exit, after `timeoutMs`, or on abort, whichever comes
   * first. Never rejects; callers re-check their condition. This is the only way the core
   * waits: no polling anywhere.
   */
  changed(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (!this.isAlive || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: Timer | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.#wakers.delete(done);
        resolve();
      };
      this.#wakers.add(done);
      if (Number.isFinite(timeoutMs)) timer = setTimeout(done, Math.max(0, timeoutMs));
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  /** Milliseconds since the last output byte (∞ when none yet). */
  quietMs(): number {
    return this.#lastOutputAt === 0 ? Number.POSITIVE_INFINITY : performance.now() - this.#lastOutputAt;
  }

  #assertWritable(): void {
    if (this.#closed) throw new PtyError("SESSION_CLOSED", `Session ${this.id} is closed. Create a new session.`);
    if (this.#exit) {
      throw new PtyError(
        this.#exit.errorCode ?? "SESSION_CLOSED",
        `Session ${this.id} has ended (${describeExit(this.#exit)}); its output stays readable with read_output. Create a new session to continue.`,
      );
    }
  }

  /** Writes bytes after the input hooks agreed. The one path by which anything reaches a transport. */
  async write(data: string | Uint8Array, event: Omit<InputEvent, "session">): Promise<void> {
    this.#assertWritable();
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (bytes.length > MAX_INPUT_BYTES) {
      throw new PtyError("INVALID_ARGUMENT", `Input is ${bytes.length} bytes; the limit is ${MAX_INPUT_BYTES} (1 MB). Send it in parts or copy a file instead.`);
    }
    const full: InputEvent = { session: this, ...event };
    for (const hook of this.inputHooks) await hook(full);
    this.lastUsed = new Date();
    await this.transport.write(bytes);
    this.#input.emit(full);
  }

  /** Sends a key of SPEC §3 (bytes, a serial BREAK or modem lines). */
  async sendKey(key: string): Promise<void> {
    const action = resolveKey(key);
    this.#assertWritable();
    if (action.kind === "bytes") {
      let bytes = action.bytes;
      // Full-screen programs switch cursor keys to application mode (DECCKM): ESC O A instead of ESC [ A.
      if (/^\x1b\[[ABCDHF]$/.test(bytes) && (await this.#applicationCursorKeys())) bytes = `\x1bO${bytes[2]}`;
      await this.write(bytes, { kind: "control", data: key });
      return;
    }
    const caps = this.transport.capabilities;
    if (action.kind === "break") {
      if (!caps?.sendBreak) throw new PtyError("INVALID_ARGUMENT", `"break" is a serial BREAK; session ${this.id} is ${this.type}. Use ctrl+c to interrupt a program.`);
      for (const hook of this.inputHooks) await hook({ session: this, kind: "control", data: key });
      await caps.sendBreak();
    } else {
      if (!caps?.setModemLines) throw new PtyError("INVALID_ARGUMENT", `"${key}" sets a serial modem line; session ${this.id} is ${this.type}.`);
      for (const hook of this.inputHooks) await hook({ session: this, kind: "control", data: key });
      await caps.setModemLines(action.lines);
    }
    this.lastUsed = new Date();
    this.#input.emit({ session: this, kind: "control", data: key });
  }

  async #applicationCursorKeys(): Promise<boolean> {
    await this.screen.sync();
    return this.screen.applicationCursorKeys;
  }

  async resize(size: { cols: number; rows: number }): Promise<void> {
    this.#size = { ...size };
    if (this.isAlive) this.transport.resize(size);
    for (const sink of this.#sinks) sink.resize?.(size);
    await this.screen.resize(size);
  }

  // ---- reading -------------------------------------------------------------------------

  /** ANSI-stripped text of the last few KB: what the classifier looks at. */
  tailText(bytes = TAIL_BYTES): string {
    const from = Math.max(this.buffer.start, this.buffer.end - bytes);
    return cleanText(decode(this.buffer.read(from).bytes));
  }

  classify(): Classification {
    const localFlags = this.isAlive ? this.transport.capabilities?.localFlags?.() : undefined;
    let c = classify(this.tailText(), { localFlags, hasOutput: this.buffer.end > 0 });
    // The shell said its prompt is drawn: that is a fact, whatever the prompt looks like.
    if (this.#shell.active && this.#shell.phase === "prompt" && c.state !== "password_prompt") {
      const tail = this.tailText(512);
      c = { ...c, state: "at_prompt", prompt: c.prompt ?? (tail.slice(tail.lastIndexOf("\n") + 1).trimEnd() || undefined) };
      if (c.prompt === undefined) delete c.prompt;
    }
    if (c.state === "at_prompt" && c.prompt) this.#lastPrompt = c.prompt;
    if (!this.isAlive) return { ...c, state: "unknown" };
    return c;
  }

  get lastPrompt(): string | undefined {
    return this.#lastPrompt;
  }

  /** Text of [from, to) as results show it: escapes stripped, pager prompts removed where auto_pager answered them. */
  textBetween(from: number, to = this.buffer.end, maxBytes = DEFAULT_MAX_RESULT_BYTES): { text: string; from: number; to: number; truncated: boolean; hasMore: boolean } {
    const read = this.buffer.read(from, Math.min(maxBytes, Math.max(0, to - Math.max(from, this.buffer.start))));
    const cuts = this.#answeredPagers.filter((c) => c >= read.from && c <= read.to);
    let raw: string;
    if (cuts.length === 0) raw = decode(read.bytes);
    else {
      const segments: string[] = [];
      let at = read.from;
      for (const cut of [...cuts, read.to]) {
        segments.push(decode(read.bytes.subarray(at - read.from, cut - read.from)));
        at = cut;
      }
      raw = joinPages(segments);
    }
    return { text: cleanText(raw), from: read.from, to: read.to, truncated: read.truncated, hasMore: read.to < to || read.hasMore };
  }

  /** Incremental read from `since` (or the read mark), advancing the read mark. */
  read(options: { since?: number; maxBytes?: number } = {}): ReadResult {
    const from = options.since ?? this.readMark;
    const r = this.textBetween(from, this.buffer.end, options.maxBytes ?? DEFAULT_MAX_RESULT_BYTES);
    this.readMark = Math.max(this.readMark, r.to);
    this.lastUsed = new Date();
    return { output: r.text, cursor: r.to, cursor_start: r.from, has_more: r.hasMore, is_truncated: r.truncated, is_alive: this.isAlive, state: this.classify().state };
  }

  /** Settle mode: waits until output has been idle briefly (or `timeoutMs`), then reads what is new. */
  async readSettled(options: { timeoutMs: number; maxBytes?: number; signal?: AbortSignal }): Promise<ReadResult> {
    const deadline = performance.now() + options.timeoutMs;
    for (;;) {
      const quiet = this.quietMs();
      const remaining = deadline - performance.now();
      if (!this.isAlive || options.signal?.aborted || remaining <= 0 || quiet >= READ_SETTLE_MS) break;
      await this.changed(Math.min(remaining, READ_SETTLE_MS - quiet), options.signal);
    }
    return this.read({ maxBytes: options.maxBytes });
  }

  /**
   * Wait mode: scans output line by line (ANSI stripped, the unfinished last line included)
   * until a pattern matches, the session ends, the time is up or the signal aborts.
   */
  async waitFor(options: WaitOptions): Promise<WaitResult> {
    const { patterns, warning } = compilePatterns(options.waitFor);
    const contextLines = options.contextLines ?? 0;
    const started = performance.now();
    const deadline = started + options.timeoutMs;
    let pos = options.from ?? this.readMark;
    let truncated = pos < this.buffer.start;
    const before: string[] = [];
    const echo = (options.echoOf ?? []).map(compact).filter((s) => s.length > 0);
    let echoIndex = 0;
    // First progress after a second (a client sees the wait is alive), then every few seconds.
    let nextProgress = started + 1000;
    const finish = (result: Omit<WaitResult, "is_alive" | "cursor"> & { cursor?: number }): WaitResult => {
      const cursor = result.cursor ?? this.buffer.end;
      this.readMark = Math.max(this.readMark, cursor);
      this.lastUsed = new Date();
      const out: WaitResult = { ...result, cursor, is_alive: this.isAlive };
      if (warning) out.warning = warning;
      if (truncated) out.is_truncated = true;
      return out;
    };

    for (;;) {
      if (pos < this.buffer.start) {
        truncated = true;
        pos = this.buffer.start;
      }
      // Complete lines since pos.
      const base = pos;
      const raw = this.buffer.slice(base);
      let lineStart = 0;
      // A flood: test all complete lines at once and skip them when nothing can match there
      // (one RE2 pass instead of one per line); the line loop below then finds the exact line.
      const lastNewline = echoIndex >= echo.length ? raw.lastIndexOf(0x0a) : -1;
      if (lastNewline >= BLOCK_SCAN_MIN) {
        const block = cleanText(decode(raw.subarray(0, lastNewline)));
        if (!patterns.some((p) => p.testBlock(block))) {
          if (contextLines > 0) {
            const lines = block.split("\n").slice(-contextLines);
            before.push(...lines);
            before.splice(0, Math.max(0, before.length - contextLines));
          }
          lineStart = lastNewline + 1;
          pos = base + lineStart;
        }
      }
      for (;;) {
        let nl = raw.indexOf(0x0a, lineStart);
        const partial = nl < 0;
        if (partial) {
          if (raw.length - lineStart > MAX_PARTIAL_LINE) nl = raw.length - 1;
          else nl = raw.length;
        }
        if (partial && lineStart >= raw.length) break;
        const stripped = stripAnsi(decode(raw.subarray(lineStart, nl)));
        const line = shownLine(stripped);
        const lineEnd = base + Math.min(nl + 1, raw.length);
        // The terminal's echo of what was just sent never matches (SPEC §3 send_input).
        let isEcho = false;
        if (echoIndex < echo.length) {
          const c = compact(stripped);
          if (c.length > 0 && c.includes(echo[echoIndex]!)) {
            // A complete echo line is skipped; an unfinished one too, until its newline says what it is.
            isEcho = true;
            if (!partial) echoIndex++;
          } else if (partial && c.length > 0 && echo[echoIndex]!.startsWith(c)) {
            isEcho = true; // the echo is still arriving (readline may send it a few characters at a time)
          } else if (!partial || !echo[echoIndex]!.startsWith(c)) {
            echoIndex = echo.length; // echo is off or already past: everything counts from here
          }
        }
        if (!isEcho) {
          const index = firstMatch(patterns, line);
          if (index >= 0) {
            const after = await this.#linesAfter(lineEnd, contextLines, deadline, options.signal);
            const context = contextLines > 0 ? [...before.slice(-contextLines), line, ...after.lines].join("\n") : undefined;
            const result: Omit<WaitResult, "is_alive" | "cursor"> & { cursor?: number } = {
              matched: true,
              timed_out: false,
              match_line: line,
              matched_index: index,
              cursor: partial ? this.buffer.end : after.cursor,
            };
            if (context !== undefined) result.context = context;
            if (options.tailLines) result.tail = this.#tail(options.tailLines);
            if (typeof options.waitFor === "string") delete result.matched_index;
            return finish(result);
          }
        }
        if (partial) break;
        if (!isEcho) {
          before.push(line);
          if (before.length > contextLines) before.shift();
        }
        lineStart = nl + 1;
        pos = lineEnd;
      }

      const now = performance.now();
      if (!this.isAlive) return finish({ matched: false, timed_out: false, tail: this.#tail(options.tailLines || 10) });
      if (options.signal?.aborted) return finish({ matched: false, timed_out: false, cancelled: true, cursor: pos });
      if (now >= deadline) return finish({ matched: false, timed_out: true, tail: this.#tail(options.tailLines || 10), cursor: pos });
      if (options.progress && now >= nextProgress) {
        options.progress({ progress: Math.round((now - started) / 1000), total: Math.round(options.timeoutMs / 1000), message: this.#waitingMessage(options.waitFor) });
        nextProgress = now + PROGRESS_INTERVAL_MS;
      }
      await this.changed(Math.min(deadline - now, options.progress ? nextProgress - now : Number.POSITIVE_INFINITY), options.signal);
    }
  }

  /** Up to `count` lines after `from`, waiting briefly for them to arrive. */
  async #linesAfter(from: number, count: number, deadline: number, signal?: AbortSignal): Promise<{ lines: string[]; cursor: number }> {
    if (count <= 0) return { lines: [], cursor: from };
    const limit = Math.min(deadline, performance.now() + 500);
    for (;;) {
      const raw = this.buffer.slice(from);
      const lines: string[] = [];
      let start = 0;
      let cursor = from;
      while (lines.length < count) {
        const nl = raw.indexOf(0x0a, start);
        if (nl < 0) break;
        lines.push(shownLine(stripAnsi(decode(raw.subarray(start, nl)))));
        start = nl + 1;
        cursor = from + start;
      }
      const now = performance.now();
      if (lines.length >= count || !this.isAlive || signal?.aborted || now >= limit || this.quietMs() >= 200) return { lines, cursor };
      await this.changed(Math.min(limit - now, 200), signal);
    }
  }

  /** A wait's progress message: what it waits for and the last line of output seen (what the program is doing). */
  #waitingMessage(waitFor: string | readonly string[]): string {
    const lines = this.tailText(PROGRESS_TAIL_BYTES).split("\n");
    let last = "";
    for (let i = lines.length - 1; i >= 0 && last === ""; i--) last = lines[i]!.trim();
    if (last.length > PROGRESS_LINE_CHARS) last = `${last.slice(0, PROGRESS_LINE_CHARS)}…`;
    return `waiting for ${JSON.stringify(waitFor)}${last ? `; last line: ${last}` : "; no output yet"}`;
  }

  #tail(lines: number): string {
    const text = this.tailText(Math.max(TAIL_BYTES, lines * 256)).replace(/\n+$/, "");
    const all = text.split("\n");
    return all.slice(-lines).join("\n");
  }

  /**
   * send_input: writes the text (plus the line ending unless raw) and returns when the
   * output is complete — a prompt after the echo has stayed quiet briefly — or at
   * `timeoutMs` with is_complete false. With `waitFor` it returns as read_output's wait mode.
   */
  async sendInput(options: {
    input: string;
    raw?: boolean;
    timeoutMs: number;
    waitFor?: string | readonly string[];
    waitForTimeoutMs?: number;
    contextLines?: number;
    tailLines?: number;
    autoPager?: boolean;
    signal?: AbortSignal;
    progress?: Progress;
  }): Promise<SendInputResult | (WaitResult & { cursor_start: number })> {
    const raw = options.raw ?? false;
    let text = options.input;
    if (!raw) text = text.replace(/\r?\n$/, "").replace(/\r?\n/g, this.lineEnding) + this.lineEnding;
    if (options.waitFor !== undefined) compilePatterns(options.waitFor); // a bad pattern fails before anything is typed
    const start = this.buffer.end;
    const autoPager = this.autoPager;
    if (options.autoPager) this.autoPager = true;
    // Exact completion when the shell is hooked and sitting at its prompt: the next prompt after
    // this input ends the command, whatever the output looks like or how long it pauses. Counted
    // before writing: a fast shell's next prompt may arrive before the write has settled (daemon).
    const exact = !raw && this.#shell.active && this.#shell.phase === "prompt" ? { prompts: this.#shell.prompts, ends: this.#shell.commandEnds } : undefined;
    try {
      await this.write(text, { kind: raw ? "raw" : "input", data: options.input });
      const echoOf = raw ? [] : options.input.replace(/\r?\n$/, "").split(/\r?\n/);
      if (options.waitFor !== undefined) {
        const wait = await this.waitFor({
          waitFor: options.waitFor,
          from: start,
          timeoutMs: options.waitForTimeoutMs ?? 10_000,
          contextLines: options.contextLines,
          tailLines: options.tailLines,
          signal: options.signal,
          progress: options.progress,
          echoOf,
        });
        return { ...wait, cursor_start: start };
      }
      const complete = exact
        ? await this.#awaitPrompt(exact.prompts, options.timeoutMs, options.signal)
        : await this.#awaitCompletion(start, raw ? 0 : echoOf.length, raw, options.timeoutMs, options.signal);
      const end = this.buffer.end;
      const maxBytes = DEFAULT_MAX_RESULT_BYTES;
      const from = end - start > maxBytes ? end - maxBytes : start;
      const r = this.textBetween(from, end, maxBytes);
      this.readMark = Math.max(this.readMark, r.to);
      const result: SendInputResult = {
        output: raw ? r.text : dropEcho(r.text, echoOf),
        cursor: r.to,
        cursor_start: start,
        cursor_end: r.to,
        is_alive: this.isAlive,
        is_complete: complete,
        state: this.classify().state,
        completion: exact ? "exact" : "heuristic",
      };
      if (exact && complete && this.#shell.commandEnds > exact.ends && this.#shell.lastExitCode !== undefined) result.exit_code = this.#shell.lastExitCode;
      if (r.truncated || from > start) result.is_truncated = true;
      return result;
    } finally {
      this.autoPager = autoPager;
    }
  }

  /** Waits for a hooked prompt drawn after `prompts` prompts, then a moment of quiet (a second command line may follow). */
  async #awaitPrompt(prompts: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (!this.isAlive) return true;
      if (signal?.aborted) return false;
      const atNewPrompt = this.#shell.prompts > prompts && this.#shell.phase === "prompt";
      const quiet = this.quietMs();
      if (atNewPrompt && quiet >= EXACT_QUIET_MS) return true;
      const now = performance.now();
      if (now >= deadline) return false;
      await this.changed(Math.max(1, Math.min(deadline - now, atNewPrompt ? EXACT_QUIET_MS - quiet : deadline - now)), signal);
    }
  }

  async #awaitCompletion(start: number, lines: number, raw: boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (!this.isAlive) return true;
      if (signal?.aborted) return false;
      const now = performance.now();
      const produced = this.buffer.end > start;
      let candidate = false;
      if (produced && this.#newlinesSince(start, lines) >= lines) {
        const state = this.classify().state;
        // A pager that auto_pager is about to answer is not the end of the output.
        candidate = state === "at_prompt" || state === "password_prompt" || state === "confirmation" || (state === "pager" && !this.autoPager);
      }
      const quiet = this.quietMs();
      if (candidate && quiet >= PROMPT_QUIET_MS) return true;
      if (raw && produced && quiet >= RAW_SETTLE_MS) return candidate;
      if (now >= deadline) return false;
      const wakeIn = candidate ? PROMPT_QUIET_MS - quiet : raw && produced ? RAW_SETTLE_MS - quiet : deadline - now;
      await this.changed(Math.max(1, Math.min(deadline - now, wakeIn)), signal);
    }
  }

  /** Newlines output since `start`, counting up to `atLeast`. */
  #newlinesSince(start: number, atLeast: number): number {
    if (atLeast === 0) return 0;
    let n = 0;
    const from = Math.max(start, this.buffer.start);
    const bytes = this.buffer.slice(from);
    for (let i = bytes.indexOf(0x0a); i >= 0 && n < atLeast; i = bytes.indexOf(0x0a, i + 1)) n++;
    return n;
  }

  #armAutoPager(): void {
    if (this.#pagerTimer) {
      this.#pagerTimer.refresh();
      return;
    }
    this.#pagerTimer = setTimeout(() => {
      this.#pagerTimer = undefined;
      if (!this.isAlive || !this.autoPager) return;
      const tail = this.tailText(512);
      const last = tail.slice(tail.lastIndexOf("\n") + 1);
      if (!isPagerLine(last)) return;
      this.pagesAnswered++;
      this.#answeredPagers = this.#answeredPagers.filter((c) => c > this.buffer.start);
      this.#answeredPagers.push(this.buffer.end);
      // `(END)` is less at the end of its input: space does nothing there, q leaves.
      const answer = /\(END\)/.test(last) ? "q" : " ";
      void this.write(answer, { kind: "auto_pager" }).catch(() => undefined);
    }, AUTO_PAGER_DELAY_MS);
  }

  async snapshot(scrollback = 0): Promise<ScreenSnapshot> {
    this.lastUsed = new Date();
    return this.screen.snapshot(scrollback);
  }

  /**
   * Ends the program or connection; output stays readable until the registry drops the session.
   * `detached`: the program goes on elsewhere (a persistent session's daemon), only this session ends.
   */
  async close(options: { detached?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#openGate(false);
    this.#closed = true;
    if (this.#pagerTimer) clearTimeout(this.#pagerTimer);
    try {
      await this.transport.close();
    } finally {
      for (const d of this.#disposables) d[Symbol.dispose]();
      await Promise.allSettled(this.#sinks.map((s) => s.close()));
      this.screen.dispose();
      this.#wake();
      this.#close.emit({ detached: options.detached ?? false });
    }
  }
}

function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const decoder = new TextDecoder();
function decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** One output line (escapes already stripped, no LF) as a terminal shows it, for matching and context. */
function shownLine(stripped: string): string {
  return displayedLine(stripped.replace(/\r+$/, ""));
}

/** Text without whitespace and CR, for comparing an echo with the input (line wrapping inserts CR/spaces). */
function compact(text: string): string {
  return text.replace(/[\s\r\x08]+/g, "");
}

/** Drops the leading lines that are the terminal's echo of `inputLines`. */
function dropEcho(text: string, inputLines: readonly string[]): string {
  const lines = text.split("\n");
  let i = 0;
  for (const input of inputLines) {
    const c = compact(input);
    if (i < lines.length - 1 && c.length > 0 && compact(lines[i]!).includes(c)) i++;
    else if (c.length === 0 && i < lines.length - 1 && compact(lines[i]!) === "") i++;
    else break;
  }
  return lines.slice(i).join("\n");
}

export function describeExit(exit: TransportExit): string {
  if (exit.reason) return exit.reason;
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exit code ${exit.code}`;
}
