// send_input's completion: after writing a line, when is its output complete? Exact with shell
// integration (as many hooked prompts, OSC 133, as the input held command lines: command-lines.ts), else a prompt (or question) after the echo that
// stays quiet briefly (PROMPT_QUIET_MS), or at the timeout with is_complete false.
import type { Classification, SessionState } from "./classifier.ts";
import type { ShellState } from "./shell-markers.ts";
import { commandLines } from "./command-lines.ts";
import { compilePatterns } from "./matcher.ts";
import { budgetedText, RESULT_BUDGET_BYTES, type Elided } from "./result-budget.ts";
import { compact, waitFor, type Progress, type WaitResult, type WaitSource } from "./wait-for.ts";

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
  elided?: Elided;
};

export interface SendInputOptions {
  input: string;
  raw?: boolean;
  timeoutMs: number;
  waitFor?: string | readonly string[];
  waitForTimeoutMs?: number;
  contextLines?: number;
  tailLines?: number;
  autoPager?: boolean;
  /** Output budget (default RESULT_BUDGET_BYTES): beyond it the middle is elided (result-budget.ts). */
  maxBytes?: number;
  signal?: AbortSignal;
  progress?: Progress;
}

/** A prompt must stay quiet this long before send_input calls the command complete. */
const PROMPT_QUIET_MS = 20;
/**
 * With shell integration, at a hooked prompt but fewer prompts than command lines counted (a line
 * read by a program rather than the shell, a construct the count took for two): quiet this long ends it.
 */
const STRAGGLER_QUIET_MS = 250;
/** Longest wait, before typing, for a hooked shell's first prompt (a slow rc file: nvm, conda). */
const FIRST_PROMPT_WAIT_MS = 5000;
/** Raw keystrokes: output idle this long counts as settled. */
const RAW_SETTLE_MS = 250;

/** What send_input needs of its session (Session implements it). */
export interface CompletionHost extends WaitSource {
  readonly id: string;
  readonly lineEnding: string;
  autoPager: boolean;
  readonly shell: ShellState;
  /** The one path to the transport (input hooks, audit). */
  write(data: string, event: { kind: "input" | "raw"; data: string }): Promise<void>;
  textBetween(from: number, to: number, maxBytes: number): { text: string; from: number; to: number; truncated: boolean };
  classify(): Classification;
}

/**
 * send_input: writes the text (plus the line ending unless raw) and returns when the
 * output is complete — a prompt after the echo has stayed quiet briefly — or at
 * `timeoutMs` with is_complete false. With `waitFor` it returns as read_output's wait mode.
 */
export async function sendInput(host: CompletionHost, options: SendInputOptions): Promise<SendInputResult | (WaitResult & { cursor_start: number })> {
  const raw = options.raw ?? false;
  let text = options.input;
  if (!raw) text = text.replace(/\r?\n$/, "").replace(/\r?\n/g, host.lineEnding) + host.lineEnding;
  // Compiled once: a bad pattern fails before anything is typed, and the wait uses these.
  const patterns = options.waitFor === undefined ? undefined : compilePatterns(options.waitFor);
  // Sent right after create, before the hooked shell drew its first prompt: wait for that prompt,
  // or the first command would be heuristic and its result would hold the prompt and the echo.
  if (!raw && host.shell.pending && !host.shell.active) await awaitFirstHookedPrompt(host, Math.min(options.timeoutMs, FIRST_PROMPT_WAIT_MS), options.signal);
  const start = host.buffer.end;
  const autoPager = host.autoPager;
  if (options.autoPager) host.autoPager = true;
  // Exact completion when the shell is hooked and sitting at its prompt: the next prompt after
  // this input ends the command, whatever the output looks like or how long it pauses. Counted
  // before writing: a fast shell's next prompt may arrive before the write has settled (daemon).
  const echoOf = raw ? [] : options.input.replace(/\r?\n$/, "").split(/\r?\n/);
  const exact = !raw && host.shell.active && host.shell.phase === "prompt" ? { prompts: host.shell.prompts, ends: host.shell.commandEnds, lines: Math.max(1, commandLines(echoOf)) } : undefined;
  try {
    await host.write(text, { kind: raw ? "raw" : "input", data: options.input });
    if (patterns) {
      const wait = await waitFor(host, {
        waitFor: patterns,
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
      ? await awaitPrompts(host, exact.prompts, exact.lines, options.timeoutMs, options.signal)
      : await awaitCompletion(host, start, raw ? 0 : echoOf.length, raw, options.timeoutMs, options.signal);
    // Exact: the command's output starts at its (first) C marker. Before it is only the shell's line
    // editing (the echo, and what syntax highlighting, autosuggestions or fish redraw over it).
    const firstC = exact ? host.shell.firstCommandStartAfter(start) : -1;
    const commandStart = firstC > start ? firstC : start;
    const shape = raw || commandStart > start ? undefined : (head: string) => dropEcho(head, echoOf);
    const r = budgetedText(host, commandStart, host.buffer.end, options.maxBytes ?? RESULT_BUDGET_BYTES, shape);
    host.readMark = Math.max(host.readMark, r.to);
    const result: SendInputResult = {
      output: r.text,
      cursor: r.to,
      cursor_start: start,
      cursor_end: r.to,
      is_alive: host.isAlive,
      is_complete: complete,
      state: host.classify().state,
      completion: exact ? "exact" : "heuristic",
    };
    if (exact && complete && host.shell.commandEnds > exact.ends && host.shell.lastExitCode !== undefined) result.exit_code = host.shell.lastExitCode;
    if (r.truncated) result.is_truncated = true;
    if (r.elided) result.elided = r.elided;
    return result;
  } finally {
    host.autoPager = autoPager;
  }
}

/** Until the hooked shell sits at its first prompt, it ends, the call is cancelled or `timeoutMs` passed (then it stops waiting for good). */
async function awaitFirstHookedPrompt(host: CompletionHost, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (host.shell.pending && !host.shell.atPrompt && host.isAlive && !signal?.aborted) {
    const now = performance.now();
    if (now >= deadline) {
      host.shell.pending = false; // the rc files replaced the hook: later sends do not wait again
      return;
    }
    await host.changed(deadline - now, signal);
  }
}

/**
 * Waits until the shell has read every command line of the input: `lines` hooked prompts drawn after
 * the first `prompts` (one per command line read), the shell at the last of them. No quiet to wait for.
 */
async function awaitPrompts(host: CompletionHost, prompts: number, lines: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (!host.isAlive) return true;
    if (signal?.aborted) return false;
    const drawn = host.shell.prompts - prompts;
    const atNewPrompt = drawn > 0 && host.shell.phase === "prompt";
    if (atNewPrompt && drawn >= lines) return true;
    const quiet = host.quietMs();
    if (atNewPrompt && quiet >= STRAGGLER_QUIET_MS) return true;
    const now = performance.now();
    if (now >= deadline) return false;
    await host.changed(Math.max(1, Math.min(deadline - now, atNewPrompt ? STRAGGLER_QUIET_MS - quiet : deadline - now)), signal);
  }
}

async function awaitCompletion(host: CompletionHost, start: number, lines: number, raw: boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (!host.isAlive) return true;
    if (signal?.aborted) return false;
    const now = performance.now();
    const produced = host.buffer.end > start;
    let candidate = false;
    if (produced && newlinesSince(host, start, lines) >= lines) {
      const state = host.classify().state;
      // A pager that auto_pager is about to answer is not the end of the output.
      candidate = state === "at_prompt" || state === "password_prompt" || state === "confirmation" || (state === "pager" && !host.autoPager);
    }
    const quiet = host.quietMs();
    if (candidate && quiet >= PROMPT_QUIET_MS) return true;
    if (raw && produced && quiet >= RAW_SETTLE_MS) return candidate;
    if (now >= deadline) return false;
    const wakeIn = candidate ? PROMPT_QUIET_MS - quiet : raw && produced ? RAW_SETTLE_MS - quiet : deadline - now;
    await host.changed(Math.max(1, Math.min(deadline - now, wakeIn)), signal);
  }
}

/** Newlines output since `start`, counting up to `atLeast`. */
function newlinesSince(host: CompletionHost, start: number, atLeast: number): number {
  if (atLeast === 0) return 0;
  let n = 0;
  const from = Math.max(start, host.buffer.start);
  const bytes = host.buffer.slice(from);
  for (let i = bytes.indexOf(0x0a); i >= 0 && n < atLeast; i = bytes.indexOf(0x0a, i + 1)) n++;
  return n;
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
