// wait_for scanning (read_output's wait mode, send_input with wait_for): output is matched line by
// line after ANSI stripping, the unfinished last line (a prompt) included, against the RE2 patterns
// of matcher.ts. The echo of input just sent never matches (SPEC §3 send_input).
import { cleanText, displayedLine, isPlain, stripAnsi, trimTrailing } from "../terminal/ansi.ts";
import { firstMatch, patternsOf, type Pattern, type PatternSource } from "./matcher.ts";
import type { OutputBuffer } from "./output-buffer.ts";

export interface Progress {
  (update: { progress: number; total?: number; message?: string }): void;
}

export interface WaitOptions {
  /** Pattern or list of patterns (RE2 syntax; invalid → substring with a warning), or compilePatterns' result for them. */
  waitFor: PatternSource;
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

/** What a wait reads of its session (Session implements it). */
export interface WaitSource {
  readonly buffer: OutputBuffer;
  readMark: number;
  lastUsed: Date;
  readonly isAlive: boolean;
  /** Resolves at the next output or exit, after timeoutMs, or on abort; never rejects. */
  changed(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Milliseconds since the last output byte (∞ when none yet). */
  quietMs(): number;
  /** ANSI-stripped text of the last `bytes` bytes. */
  tailText(bytes?: number): string;
}

const PROGRESS_INTERVAL_MS = 5000;
/** Progress messages show the last line of output from this much of the tail, cut to this length. */
const PROGRESS_TAIL_BYTES = 1024;
const PROGRESS_LINE_CHARS = 200;
/** An unfinished line up to this long is tested again at every chunk; a longer one as deferLongLine says. */
const MAX_PARTIAL_LINE = 64 * 1024;
/**
 * An unfinished line longer than MAX_PARTIAL_LINE is tested again only once it has doubled since
 * its last test, gained its newline, or output paused this long (deferLongLine). Testing it from
 * its start at every chunk cost O(line) per chunk: an 8 MB line in 4 KB chunks took 1.1 s of CPU
 * and gigabytes of garbage strings (the soak's RSS swings); now such a line's scan is linear.
 */
const LONG_LINE_QUIET_MS = 50;
export const TAIL_BYTES = 4096;

/**
 * Wait mode: scans output line by line (ANSI stripped, the unfinished last line included)
 * until a pattern matches, the session ends, the time is up or the signal aborts.
 */
export async function waitFor(source: WaitSource, options: WaitOptions): Promise<WaitResult> {
  const compiled = patternsOf(options.waitFor);
  const { patterns, warning } = compiled;
  const contextLines = options.contextLines ?? 0;
  const started = performance.now();
  const deadline = started + options.timeoutMs;
  let pos = options.from ?? source.readMark;
  let truncated = pos < source.buffer.start;
  const before: string[] = [];
  const echo = (options.echoOf ?? []).map(compact).filter((s) => s.length > 0);
  let echoIndex = 0;
  // First progress after a second (a client sees the wait is alive), then every few seconds.
  let nextProgress = started + 1000;
  // The unfinished line tested last: where it started, up to where it was tested, and up to where it is known to have no newline.
  let unfinished: UnfinishedLine | undefined;
  const finish = (result: Omit<WaitResult, "is_alive" | "cursor"> & { cursor?: number }): WaitResult => {
    const cursor = result.cursor ?? source.buffer.end;
    source.readMark = Math.max(source.readMark, cursor);
    source.lastUsed = new Date();
    const out: WaitResult = { ...result, cursor, is_alive: source.isAlive };
    if (warning) out.warning = warning;
    if (truncated) out.is_truncated = true;
    return out;
  };

  for (;;) {
    if (pos < source.buffer.start) {
      truncated = true;
      pos = source.buffer.start;
    }
    if (unfinished && echoIndex >= echo.length && !(options.progress && performance.now() >= nextProgress) && deferLongLine(source, pos, unfinished, deadline, options.signal)) {
      await source.changed(Math.min(deadline - performance.now(), LONG_LINE_QUIET_MS), options.signal);
      continue;
    }
    unfinished = undefined;
    // Complete lines since pos (a view of the buffer: read before the next await).
    const base = pos;
    const raw = source.buffer.view(base);
    let lineStart = 0;
    // Complete lines are tested all at once and skipped when nothing can match there (one search
    // instead of one RE2 test per line); only when something may match, the line loop below finds it.
    const lastNewline = echoIndex >= echo.length ? raw.lastIndexOf(0x0a) : -1;
    if (lastNewline >= 0 && !blockMayMatch(raw.subarray(0, lastNewline), patterns, contextLines > 0 ? before : undefined, contextLines)) {
      lineStart = lastNewline + 1;
      pos = base + lineStart;
    }
    for (;;) {
      let nl = raw.indexOf(0x0a, lineStart);
      const partial = nl < 0;
      // The unfinished last line is tested whole (it was cut one byte short once it passed
      // MAX_PARTIAL_LINE, so a marker ending a long line never matched until more output came).
      if (partial) nl = raw.length;
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
          const after = await linesAfter(source, lineEnd, contextLines, deadline, options.signal);
          const context = contextLines > 0 ? [...before.slice(-contextLines), line, ...after.lines].join("\n") : undefined;
          const result: Omit<WaitResult, "is_alive" | "cursor"> & { cursor?: number } = {
            matched: true,
            timed_out: false,
            match_line: line,
            matched_index: index,
            cursor: partial ? source.buffer.end : after.cursor,
          };
          if (context !== undefined) result.context = context;
          if (options.tailLines) result.tail = tailLines(source, options.tailLines);
          if (typeof options.waitFor === "string") delete result.matched_index;
          return finish(result);
        }
      }
      if (partial) {
        unfinished = { start: pos, testedTo: base + raw.length, noNewlineTo: base + raw.length };
        break;
      }
      if (!isEcho) {
        before.push(line);
        if (before.length > contextLines) before.shift();
      }
      lineStart = nl + 1;
      pos = lineEnd;
    }

    const now = performance.now();
    if (!source.isAlive) return finish({ matched: false, timed_out: false, tail: tailLines(source, options.tailLines || 10) });
    if (options.signal?.aborted) return finish({ matched: false, timed_out: false, cancelled: true, cursor: pos });
    if (now >= deadline) return finish({ matched: false, timed_out: true, tail: tailLines(source, options.tailLines || 10), cursor: pos });
    if (options.progress && now >= nextProgress) {
      options.progress({ progress: Math.round((now - started) / 1000), total: Math.round(options.timeoutMs / 1000), message: waitingMessage(source, compiled.source) });
      nextProgress = now + PROGRESS_INTERVAL_MS;
    }
    await source.changed(Math.min(deadline - now, options.progress ? nextProgress - now : Number.POSITIVE_INFINITY), options.signal);
  }
}

/**
 * Whether a round may skip the scan: the unfinished line at `pos` is over MAX_PARTIAL_LINE, has
 * no newline yet, grew by less than what was tested of it, output has not paused, and the wait is
 * not ending (the round that ends it scans, so nothing that arrived is left untested).
 */
function deferLongLine(source: WaitSource, pos: number, line: UnfinishedLine, deadline: number, signal: AbortSignal | undefined): boolean {
  const end = source.buffer.end;
  if (line.start > pos || end - pos <= MAX_PARTIAL_LINE) return false;
  if (end - line.testedTo >= Math.max(line.testedTo - pos, MAX_PARTIAL_LINE)) return false;
  if (!source.isAlive || signal?.aborted || performance.now() >= deadline || source.quietMs() >= LONG_LINE_QUIET_MS) return false;
  // Only the bytes since the last look are searched for a newline (in place, no copy).
  if (source.buffer.countNewlines(line.noNewlineTo) > 0) return false;
  line.noNewlineTo = end;
  return true;
}

interface UnfinishedLine {
  start: number;
  testedTo: number;
  noNewlineTo: number;
}

/** read_output's settle mode: output idle this long means the program is waiting. */
const READ_SETTLE_MS = 100;

/** Settle mode: resolves once output has been idle briefly (READ_SETTLE_MS), the session ended, or at `timeoutMs`. */
export async function settle(source: WaitSource, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const quiet = source.quietMs();
    const remaining = deadline - performance.now();
    if (!source.isAlive || signal?.aborted || remaining <= 0 || quiet >= READ_SETTLE_MS) return;
    await source.changed(Math.min(remaining, READ_SETTLE_MS - quiet), signal);
  }
}

/**
 * Whether a line of `bytes` (complete lines, the last one's LF cut off) may match a pattern. When
 * none can, `before` (if given) takes the block's last `contextLines` lines. A flood is mostly plain
 * text (no escapes, no CR but before LF: ansi.isPlain): its lines are pieces of the text as it is, so
 * a pattern that needs some string (Pattern.needs) cannot match where a native search does not find
 * it — no cleaning, no RE2. Anything else is cleaned and tested with RE2 as a whole.
 */
function blockMayMatch(bytes: Uint8Array, patterns: readonly Pattern[], before: string[] | undefined, contextLines: number): boolean {
  // Without the CRs of its last line: a CR at the very end is not before a LF (not plain), and shows the same.
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0x0d) end--;
  const text = decode(bytes.subarray(0, end));
  const ruledOut = isPlain(text) && patterns.every((p) => p.needs !== undefined && !p.needs.some((s) => text.includes(s)));
  // One line that may match: the line loop tests it anyway (a block test first was the same RE2 test twice: M2's marker).
  if (!ruledOut && bytes.indexOf(0x0a) < 0) return true;
  const block = ruledOut && !before ? "" : cleanText(text);
  if (!ruledOut && patterns.some((p) => p.testBlock(block))) return true;
  if (before) {
    before.push(...lastLines(block, contextLines));
    before.splice(0, Math.max(0, before.length - contextLines));
  }
  return false;
}

/** Up to `count` lines after `from`, waiting briefly for them to arrive. */
async function linesAfter(source: WaitSource, from: number, count: number, deadline: number, signal?: AbortSignal): Promise<{ lines: string[]; cursor: number }> {
  if (count <= 0) return { lines: [], cursor: from };
  const limit = Math.min(deadline, performance.now() + 500);
  for (;;) {
    const raw = source.buffer.slice(from);
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
    if (lines.length >= count || !source.isAlive || signal?.aborted || now >= limit || source.quietMs() >= 200) return { lines, cursor };
    await source.changed(Math.min(limit - now, 200), signal);
  }
}

/** A wait's progress message: what it waits for and the last line of output seen (what the program is doing). */
function waitingMessage(source: WaitSource, waitFor: string | readonly string[]): string {
  const lines = source.tailText(PROGRESS_TAIL_BYTES).split("\n");
  let last = "";
  for (let i = lines.length - 1; i >= 0 && last === ""; i--) last = lines[i]!.trim();
  if (last.length > PROGRESS_LINE_CHARS) last = `${last.slice(0, PROGRESS_LINE_CHARS)}…`;
  return `waiting for ${JSON.stringify(waitFor)}${last ? `; last line: ${last}` : "; no output yet"}`;
}

/** The last `lines` lines of output, for a result's tail. */
export function tailLines(source: WaitSource, lines: number): string {
  const text = trimTrailing(source.tailText(Math.max(TAIL_BYTES, lines * 256)), "\n");
  const all = text.split("\n");
  return all.slice(-lines).join("\n");
}

/** UTF-8 text of `bytes`, as TextDecoder gives it (invalid sequences as U+FFFD, a leading BOM dropped), through Buffer: 3x faster on a flood. */
export function decode(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The last `count` lines of `text` (fewer when it has fewer), without splitting all of it. */
export function lastLines(text: string, count: number): string[] {
  const lines: string[] = [];
  let end = text.length;
  while (lines.length < count) {
    const nl = end > 0 ? text.lastIndexOf("\n", end - 1) : -1;
    lines.push(text.slice(nl + 1, end));
    if (nl < 0) break;
    end = nl;
  }
  return lines.reverse();
}

/** One output line (escapes already stripped, no LF) as a terminal shows it, for matching and context. */
export function shownLine(stripped: string): string {
  return displayedLine(trimTrailing(stripped, "\r"));
}

/** Text without whitespace and CR, for comparing an echo with the input (line wrapping inserts CR/spaces). */
export function compact(text: string): string {
  return text.replace(/[\s\r\x08]+/g, "");
}
