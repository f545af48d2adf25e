// The one session core. Every session type (local PTY, SSH, serial, daemon) is a Transport;
// this class gives each the same buffer, read mark, screen and waits, composed of the parts
// beside it: wait-for.ts (wait_for scanning), completion.ts (send_input), shell-hook-gate.ts
// (hooking a typed-into shell), auto-pager.ts, shell-markers.ts (what OSC 133 said).
import { PtyError } from "../errors.ts";
import { cleanText, lastLinesStart } from "../terminal/ansi.ts";
import { Screen, type ScreenSnapshot } from "../terminal/screen.ts";
import { AutoPager } from "./auto-pager.ts";
import { classifySession, type Classification } from "./classifier.ts";
import { sendInput, type SendInputOptions, type SendInputResult } from "./completion.ts";
import { INCREMENTAL_READ_BYTES, RESULT_BUDGET_BYTES, settledRead, type ReadResult } from "./result-budget.ts";
import type { SessionDescription, SessionType } from "./description.ts";
import { cursorKeyMode, lineAction, resolveKey } from "./keys.ts";
import { resultText, type ResultText } from "./result-text.ts";
import { bufferSizeFromEnv, OutputBuffer } from "./output-buffer.ts";
import type { SessionInit } from "./session-init.ts";
import { ShellHookGate, type HookOptions } from "./shell-hook-gate.ts";
import type { HookedShell } from "./shell-hooks.ts";
import { ShellMarkerParser, ShellState } from "./shell-markers.ts";
import type { OutputSink } from "./sink.ts";
import { Emitter, endedError, type Transport, type TransportExit } from "./transport.ts";
import { Wakers } from "./wakers.ts";
import { decode, settle, TAIL_BYTES, waitFor, type WaitOptions, type WaitResult } from "./wait-for.ts";

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

export const MAX_INPUT_BYTES = 1024 * 1024;

const encoder = new TextEncoder();

export class Session {
  readonly id: string;
  readonly description: SessionDescription;
  readonly name: string | undefined;
  readonly persistent: boolean;
  readonly createdAt: Date;
  lastUsed = new Date();
  readonly buffer: OutputBuffer;
  readonly screen: Screen;
  readonly resumable: boolean;
  lineEnding: string;
  autoPager: boolean;
  /** Cursor up to which output was returned to the agent. */
  readMark = 0;
  /** Set by prepare_secret while a secret waits for a password prompt. */
  awaitingSecret = false;
  readonly inputHooks: InputHook[] = [];
  /** What the shell integration markers (OSC 133) said. */
  readonly shell = new ShellState();
  #transport: Transport;
  readonly #input = new Emitter<InputEvent>();
  readonly #output = new Emitter<Uint8Array>();
  readonly #close = new Emitter<SessionClose>();
  readonly #resumed = new Emitter<Transport>();
  readonly #sinks: OutputSink[];
  #markers = new ShellMarkerParser();
  readonly #gate = new ShellHookGate((bytes) => this.#accept(bytes));
  readonly #pager = new AutoPager(this);
  #exit: TransportExit | undefined;
  #endedAt: Date | undefined;
  #closed = false;
  #size: { cols: number; rows: number };
  #lastOutputAt = 0;
  #lastPrompt: string | undefined;
  readonly #wakers = new Wakers();
  /** The transport's listeners. */
  #disposables: Disposable[] = [];

  constructor(init: SessionInit) {
    this.id = init.id;
    this.description = init.description;
    this.name = init.name;
    this.persistent = init.persistent ?? false;
    this.createdAt = init.createdAt ?? new Date();
    this.#transport = init.transport;
    this.resumable = init.resumable ?? false;
    this.lineEnding = init.lineEnding ?? "\r";
    this.autoPager = init.autoPager ?? false;
    this.#size = { ...init.size };
    this.#sinks = init.sinks ?? [];
    this.buffer = new OutputBuffer(init.bufferSize ?? bufferSizeFromEnv(), init.outputOffset ?? 0);
    this.readMark = this.buffer.end;
    this.screen = new Screen(this.buffer, init.size);
    const t = init.transport;
    // The program's terminal answers its queries (cursor position …), unless another session does (a daemon's mirror).
    if (!t.capabilities?.queriesAnsweredElsewhere) this.screen.answerQueries((answer) => void this.#transport.write(encoder.encode(answer)).catch(() => undefined));
    this.#attach(t);
  }

  #attach(t: Transport): void {
    this.#disposables = [t.onData((bytes) => this.#onData(bytes)), t.onExit((exit) => this.#onExit(exit))];
    if (t.onGap) this.#disposables.push(t.onGap((cursor) => this.buffer.restartAt(cursor)));
    if (t.onResized) this.#disposables.push(t.onResized((size) => void this.resize(size)));
    t.resume?.();
  }

  get transport(): Transport {
    return this.#transport;
  }

  /**
   * The one place a session changes transport (reconnect_session): a session whose link ended goes
   * on over `transport` with the same id, buffer and cursors. `note` (one line saying when the link
   * ended and came back) enters the output stream first; the new shell's markers start afresh.
   */
  resume(transport: Transport, note: string): void {
    if (this.#closed || !this.#exit) throw new PtyError("INVALID_ARGUMENT", `Session ${this.id} is ${this.#closed ? "closed" : "still connected"}; only an ended link is resumed.`);
    for (const d of this.#disposables) d[Symbol.dispose]();
    this.#transport = transport;
    this.#exit = undefined;
    this.#endedAt = undefined;
    this.shell.restart();
    this.#markers = new ShellMarkerParser();
    const last = this.buffer.end > this.buffer.start ? this.buffer.slice(this.buffer.end - 1)[0] : 0x0a;
    this.#accept(encoder.encode(`${last === 0x0a ? "" : "\r\n"}${note}\r\n`));
    this.#attach(transport);
    this.#resumed.emit(transport);
  }

  /** Fires when resume() gave the session a new transport (the audit trail records it and watches the new one's exit). */
  onResume(listener: (transport: Transport) => void): Disposable {
    return this.#resumed.on(listener);
  }

  /** When the transport ended (the program exited, the link was lost); undefined while alive. */
  get endedAt(): Date | undefined {
    return this.#endedAt;
  }

  get type(): SessionType {
    return this.description.type;
  }

  /** What the session is connected to, for humans: a command line, user@host, a device. */
  get target(): string {
    return this.description.target;
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
    if (this.#gate.holding) this.#gate.push(bytes);
    else this.#accept(bytes);
  }

  #accept(bytes: Uint8Array): void {
    this.buffer.append(bytes);
    this.#lastOutputAt = performance.now();
    for (const marker of this.#markers.push(bytes, this.buffer.end)) this.shell.note(marker);
    for (const sink of this.#sinks) sink.write(bytes);
    this.screen.noteOutput(bytes);
    this.#output.emit(bytes);
    if (this.autoPager) this.#pager.arm();
    this.#wakers.wake();
  }

  /** Hooks bash/zsh typed into (an SSH login shell) for shell integration: see ShellHookGate.install. */
  installShellHook(shell: HookedShell, options: HookOptions = {}): Promise<boolean> {
    return this.#gate.install(this, shell, options);
  }

  /** Shell integration facts for get_session_state. */
  get shellIntegration(): { active: boolean; lastExitCode: number | undefined } {
    return { active: this.shell.active, lastExitCode: this.shell.lastExitCode };
  }

  #onExit(exit: TransportExit): void {
    if (this.#exit) return;
    this.#gate.open(false);
    this.#exit = exit;
    this.#endedAt = new Date();
    if (!this.resumable) for (const sink of this.#sinks) void sink.close();
    this.#wakers.wake();
  }

  /**
   * Resolves at the next output or exit, after `timeoutMs`, or on abort, whichever comes
   * first. Never rejects; callers re-check their condition.
   */
  changed(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (!this.isAlive || signal?.aborted) return Promise.resolve();
    return this.#wakers.next(timeoutMs, signal);
  }

  /** Milliseconds since the last output byte (∞ when none yet). */
  quietMs(): number {
    return this.#lastOutputAt === 0 ? Number.POSITIVE_INFINITY : performance.now() - this.#lastOutputAt;
  }

  #assertWritable(): void {
    if (this.#closed) throw new PtyError("SESSION_CLOSED", `Session ${this.id} is closed. Create a new session.`);
    if (this.#exit) throw endedError(this.id, this.#exit);
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
      await this.write(await cursorKeyMode(action.bytes, this.screen), { kind: "control", data: key });
      return;
    }
    const run = lineAction(action, key, this.transport.capabilities, `session ${this.id} is ${this.type}`);
    for (const hook of this.inputHooks) await hook({ session: this, kind: "control", data: key });
    await run();
    this.lastUsed = new Date();
    this.#input.emit({ session: this, kind: "control", data: key });
  }

  async resize(size: { cols: number; rows: number }): Promise<void> {
    this.#size = { ...size };
    if (this.isAlive) this.transport.resize(size);
    for (const sink of this.#sinks) sink.resize?.(size);
    await this.screen.resize(size);
  }

  /** ANSI-stripped text of the last few KB (the classifier's); with `lines`, only its last `lines` lines are sure to be there (ansi.ts lastLinesStart). */
  tailText(bytes = TAIL_BYTES, lines?: number): string {
    const tail = this.buffer.read(Math.max(this.buffer.start, this.buffer.end - bytes)).bytes;
    return cleanText(decode(lines === undefined ? tail : tail.subarray(lastLinesStart(tail, lines))));
  }

  classify(): Classification {
    const c = classifySession(this);
    if (c.state === "at_prompt" && c.prompt) this.#lastPrompt = c.prompt;
    return this.isAlive ? c : { ...c, state: "unknown" };
  }

  get lastPrompt(): string | undefined {
    return this.#lastPrompt;
  }

  /** Text of [from, to) as results show it: escapes stripped, pager prompts removed where auto_pager answered them. */
  textBetween(from: number, to = this.buffer.end, maxBytes = INCREMENTAL_READ_BYTES): ResultText {
    return resultText(this.buffer, from, to, maxBytes, (a, b) => this.#pager.cutsWithin(a, b));
  }

  /** Incremental read from `since` (or the read mark): exact bytes, at most `maxBytes` (64 KiB), advancing the read mark. */
  read(options: { since?: number; maxBytes?: number } = {}): ReadResult {
    const from = options.since ?? this.readMark;
    const r = this.textBetween(from, this.buffer.end, options.maxBytes ?? INCREMENTAL_READ_BYTES);
    this.readMark = Math.max(this.readMark, r.to);
    this.lastUsed = new Date();
    return { output: r.text, cursor: r.to, cursor_start: r.from, has_more: r.hasMore, is_truncated: r.truncated, is_alive: this.isAlive, state: this.classify().state };
  }

  /** Settle mode: waits until output has been idle briefly (or `timeoutMs`), then returns what is new within the result budget (16 KiB; result-budget.ts). */
  async readSettled(options: { timeoutMs: number; maxBytes?: number; signal?: AbortSignal }): Promise<ReadResult> {
    await settle(this, options.timeoutMs, options.signal);
    return settledRead(this, options.maxBytes ?? RESULT_BUDGET_BYTES);
  }

  /** Wait mode (read_output wait_for): see wait-for.ts. */
  waitFor(options: WaitOptions): Promise<WaitResult> {
    return waitFor(this, options);
  }

  /** send_input: see completion.ts. */
  sendInput(options: SendInputOptions): Promise<SendInputResult | (WaitResult & { cursor_start: number })> {
    return sendInput(this, options);
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
    this.#gate.open(false);
    this.#closed = true;
    this.#pager.dispose();
    try {
      await this.transport.close();
    } finally {
      for (const d of this.#disposables) d[Symbol.dispose]();
      await Promise.allSettled(this.#sinks.map((s) => s.close()));
      this.screen.dispose();
      this.#wakers.wake();
      this.#close.emit({ detached: options.detached ?? false });
    }
  }
}
