// Results sized for agents (SPEC §11): the one place that decides how much output a result carries.
// A client that cannot show a result inline is worse than a short result: Claude Code puts a tool
// result over 25,000 tokens into a file and shows the model a note instead. So send_input,
// settle-mode read_output and run_dialog return at most 16 KiB by default: all of it when it fits,
// else the first 2 KiB and the last part, with one line between them naming the exact read_output
// call that returns what was left out. Incremental reads return exact bytes, 64 KiB by default.
// The text itself (escapes stripped, progress lines collapsed, UTF-8 never split) comes from
// resultText (result-text.ts); this module only chooses the byte ranges.
import type { SessionState } from "./classifier.ts";
import type { OutputBuffer } from "./output-buffer.ts";

/** Default output budget of send_input, settle-mode read_output and run_dialog. */
export const RESULT_BUDGET_BYTES = 16 * 1024;
/** Default size of an incremental read (read_output since_cursor). */
export const INCREMENTAL_READ_BYTES = 64 * 1024;
/** The head kept before an elision: the start of the output (the command's first lines, an error's cause). */
export const HEAD_BYTES = 2 * 1024;

/** What an elision left out: the bytes [from_cursor, to_cursor), read back with read_output since_cursor. */
export interface Elided {
  from_cursor: number;
  to_cursor: number;
  bytes: number;
  lines: number;
}

/** What the budget needs of a session: its id (for the read_output call), buffer and text of a range. */
export interface BudgetSource {
  readonly id: string;
  readonly buffer: OutputBuffer;
  textBetween(from: number, to: number, maxBytes: number): { text: string; from: number; to: number; truncated: boolean };
}

export interface BudgetedText {
  text: string;
  /** Cursor of the first byte shown. */
  from: number;
  /** Cursor after the last byte shown: where the next read continues. */
  to: number;
  /** Output before `from` was lost from the buffer (older than it holds). */
  truncated: boolean;
  elided?: Elided;
}

/**
 * The output of [from, to) within `maxBytes` bytes of the stream. `shape` rewrites the start of the
 * text (send_input drops the echo of the input there) before the elision line is added.
 */
export function budgetedText(source: BudgetSource, from: number, to: number, maxBytes = RESULT_BUDGET_BYTES, shape: (head: string) => string = (t) => t): BudgetedText {
  const buffer = source.buffer;
  const start = Math.min(Math.max(from, buffer.start), to);
  const truncated = from < buffer.start;
  if (to - start <= maxBytes) {
    const all = source.textBetween(start, to, maxBytes);
    return { text: shape(all.text), from: all.from, to: all.to, truncated: truncated || all.truncated };
  }
  // Head: up to HEAD_BYTES (an eighth of a small budget), ending after its last newline when it has one.
  const headLimit = Math.max(1, Math.min(HEAD_BYTES, Math.floor(maxBytes / 8)));
  const headEnd = afterLastNewline(buffer, start, start + headLimit) ?? start + headLimit;
  const head = source.textBetween(start, headEnd, headLimit);
  // Tail: the rest of the budget, starting after a newline when one is near its start.
  const tailBytes = Math.max(1, maxBytes - (head.to - start));
  const tailWindow = to - tailBytes;
  const tailStart = afterFirstNewline(buffer, tailWindow, tailWindow + Math.min(1024, tailBytes >> 2)) ?? tailWindow;
  const tail = source.textBetween(tailStart, to, tailBytes);
  const elided: Elided = { from_cursor: head.to, to_cursor: tail.from, bytes: tail.from - head.to, lines: buffer.countNewlines(head.to, tail.from) };
  const headText = shape(head.text);
  const line = elisionLine(source.id, elided);
  const text = `${headText}${headText === "" || headText.endsWith("\n") ? "" : "\n"}${line}\n${tail.text}`;
  return { text, from: head.from, to: tail.to, truncated: truncated || head.truncated, elided };
}

/** The one line that stands for the left-out middle, with the call that returns it. */
export function elisionLine(sessionId: string, elided: Elided): string {
  const call = JSON.stringify({ session_id: sessionId, since_cursor: elided.from_cursor, max_bytes: elided.bytes });
  return `[… ${elided.bytes} bytes (${elided.lines} lines) left out here; read_output ${call} returns them …]`;
}

/** Cursor after the last LF in [from, to), or undefined when there is none (or only at `from`). */
function afterLastNewline(buffer: OutputBuffer, from: number, to: number): number | undefined {
  const bytes = buffer.slice(from, to);
  const i = bytes.lastIndexOf(0x0a);
  return i >= 0 ? from + i + 1 : undefined;
}

/** Cursor after the first LF in [from, to), or undefined. */
function afterFirstNewline(buffer: OutputBuffer, from: number, to: number): number | undefined {
  const bytes = buffer.slice(from, to);
  const i = bytes.indexOf(0x0a);
  return i >= 0 ? from + i + 1 : undefined;
}


/** read_output's incremental and settle results. */
export type ReadResult = {
  output: string;
  cursor: number;
  cursor_start: number;
  has_more: boolean;
  is_truncated: boolean;
  is_alive: boolean;
  state: SessionState;
  /** Settle mode: the middle left out of a result over its budget. */
  elided?: Elided;
};

/** What a settle-mode read needs of its session (Session implements it). */
export interface SettledSource extends BudgetSource {
  readMark: number;
  lastUsed: Date;
  readonly isAlive: boolean;
  classify(): { state: SessionState };
}

/** read_output's settle-mode result: what is new since the read mark, within the budget; advances the read mark. */
export function settledRead(source: SettledSource, maxBytes: number): ReadResult {
  const r = budgetedText(source, source.readMark, source.buffer.end, maxBytes);
  source.readMark = Math.max(source.readMark, r.to);
  source.lastUsed = new Date();
  return {
    output: r.text, cursor: r.to, cursor_start: r.from, has_more: r.to < source.buffer.end, is_truncated: r.truncated,
    is_alive: source.isAlive, state: source.classify().state, ...(r.elided ? { elided: r.elided } : {}),
  };
}
