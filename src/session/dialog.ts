// run_dialog (SPEC §9): an expect-style dialog run server-side on a session's public wait and
// write API. Each step waits for its pattern(s) with the same scanner as wait_for, starting
// where the step starts (never output from before it, never the echo of what the dialog itself
// typed), then answers. The secret flow lives above the core (src/secrets), so it comes in as
// a function.
import { PtyError } from "../errors.ts";
import { trimTrailing } from "../terminal/ansi.ts";
import { resolveKey } from "./keys.ts";
import { compilePatterns, joinPatterns, type CompiledPatterns } from "./matcher.ts";
import type { SessionState } from "./classifier.ts";
import { budgetedText, RESULT_BUDGET_BYTES, type Elided } from "./result-budget.ts";
import { MAX_INPUT_BYTES, type Session } from "./session.ts";
import type { Progress, WaitResult } from "./wait-for.ts";

export interface DialogStep {
  /** A pattern or a list of patterns (RE2, matched per line like wait_for). */
  expect: string | readonly string[];
  /** Typed with the line ending after the match; a list answers by the matched index. */
  send?: string | readonly string[];
  /** A send_control key pressed after the match. */
  key?: string;
  /** Type a secret the human enters (the secret flow), never text the agent passes. */
  secret?: boolean;
  /** Skipped when not seen within its timeout, or when the next step's pattern appears first. */
  optional?: boolean;
  timeoutMs?: number;
}

export interface DialogStepResult {
  index: number;
  matched: boolean;
  matched_index?: number;
  match_line?: string;
  skipped?: boolean;
  elapsed_ms: number;
}

export interface DialogResult {
  completed: boolean;
  failed_step?: number;
  steps: DialogStepResult[];
  output: string;
  cursor: number;
  cursor_start: number;
  state: SessionState;
  is_alive: boolean;
  /** Why the failed step failed, when it was not seen: its timeout (or the dialog's) ran out. */
  timed_out?: boolean;
  cancelled?: boolean;
  /** The last lines the program showed when the dialog failed. */
  tail?: string;
  /** Typing the failed step's answer failed (write, audit, secret). */
  error?: { code: string; message: string; retryable: boolean };
  warning?: string;
  is_truncated?: boolean;
  /** The middle left out of `output` over its budget (result-budget.ts). */
  elided?: Elided;
}

export interface DialogOptions {
  steps: readonly DialogStep[];
  timeoutMs: number;
  maxBytes?: number;
  signal?: AbortSignal;
  progress?: Progress;
  /** Types a secret from the human into the session (send_secret's flow). */
  typeSecret?: (session: Session, signal?: AbortSignal) => Promise<unknown>;
}

export const MAX_DIALOG_STEPS = 100;
const DEFAULT_STEP_TIMEOUT_MS = 30_000;
const TAIL_LINES = 10;
/** The first step looks back at most this far for the start of the line on screen. */
const LINE_LOOKBACK = 64 * 1024;

/**
 * Throws INVALID_ARGUMENT / REGEX_REJECTED for a dialog that must not start; nothing is typed before this passed.
 * Returns each step's compiled expect patterns (the waits use them: every pattern is compiled once).
 */
export function validateDialog(steps: readonly DialogStep[], lineEnding: string): { warning?: string; expects: CompiledPatterns[] } {
  if (steps.length === 0) throw new PtyError("INVALID_ARGUMENT", "steps is empty; give at least one {expect, send?} step.");
  if (steps.length > MAX_DIALOG_STEPS) throw new PtyError("INVALID_ARGUMENT", `${steps.length} steps; the limit is ${MAX_DIALOG_STEPS}. Split the dialog into several run_dialog calls.`);
  const warnings: string[] = [];
  const expects: CompiledPatterns[] = [];
  steps.forEach((step, index) => {
    const where = `steps[${index}]`;
    const answers = [step.send !== undefined, step.key !== undefined, step.secret === true].filter(Boolean).length;
    if (answers > 1) throw new PtyError("INVALID_ARGUMENT", `${where}: give one of send, key or secret: true, not several (use another step for a second answer).`);
    let compiled;
    try {
      compiled = compilePatterns(step.expect);
    } catch (err) {
      if (err instanceof PtyError) throw new PtyError(err.code, `${where}.expect: ${err.message}`, err.retryable, { cause: err });
      throw err;
    }
    expects.push(compiled);
    if (compiled.warning) warnings.push(`${where}: ${compiled.warning}`);
    if (Array.isArray(step.send)) {
      const expected = typeof step.expect === "string" ? 1 : step.expect.length;
      if (step.send.length !== expected) {
        throw new PtyError("INVALID_ARGUMENT", `${where}.send has ${step.send.length} answers for ${expected} expect pattern(s); a list of answers needs one per pattern (the answer for the pattern that matched is typed).`);
      }
    }
    const sends = step.send === undefined ? [] : typeof step.send === "string" ? [step.send] : step.send;
    sends.forEach((answer, i) => {
      const bytes = Buffer.byteLength(typedText(answer, lineEnding));
      if (bytes > MAX_INPUT_BYTES) {
        const at = typeof step.send === "string" ? `${where}.send` : `${where}.send[${i}]`;
        throw new PtyError("INVALID_ARGUMENT", `${at} is ${bytes} bytes; the limit is ${MAX_INPUT_BYTES} (1 MB). Nothing was typed. Copy large content as a file instead.`);
      }
    });
    if (step.key !== undefined) {
      try {
        resolveKey(step.key);
      } catch (err) {
        if (err instanceof PtyError) throw new PtyError(err.code, `${where}.key: ${err.message}`, err.retryable, { cause: err });
        throw err;
      }
    }
  });
  return warnings.length > 0 ? { warning: warnings.join(" "), expects } : { expects };
}

/** The text typed for an answer: newlines become the line ending, one line ending after it (as send_input). */
function typedText(answer: string, lineEnding: string): string {
  return answer.replace(/\r?\n$/, "").replace(/\r?\n/g, lineEnding) + lineEnding;
}

/**
 * Where the first step starts: the read mark (unread output counts, as for wait_for), moved
 * back to the start of the line on screen, so a prompt the program is waiting at counts even
 * when an earlier call already returned it.
 */
function firstStepStart(session: Session): number {
  const { buffer } = session;
  const from = Math.max(buffer.start, buffer.end - LINE_LOOKBACK);
  const bytes = buffer.slice(from);
  const nl = bytes.lastIndexOf(0x0a);
  const lineStart = nl < 0 ? from : from + nl + 1;
  return Math.min(session.readMark, lineStart);
}

export async function runDialog(session: Session, options: DialogOptions): Promise<DialogResult> {
  const { steps } = options;
  const { warning, expects } = validateDialog(steps, session.lineEnding);
  if (steps.some((s) => s.secret) && !options.typeSecret) throw new PtyError("INTERNAL_ERROR", "run_dialog: no secret flow given.");
  const started = performance.now();
  const deadline = started + options.timeoutMs;
  const dialogStart = firstStepStart(session);
  const results: DialogStepResult[] = [];
  const total = steps.length;
  let from = dialogStart;
  let echoOf: string[] = [];
  /** A match found while waiting for an optional step before it (its early skip). */
  let carried: { wait: WaitResult; index: number } | undefined;
  let failure: Partial<DialogResult> | undefined;

  for (let i = 0; i < total && !failure; i++) {
    const step = steps[i]!;
    const stepStarted = performance.now();
    const own = expects[i]!;
    // An optional step also waits for the next step's patterns (after its own): if they come first, it is skipped.
    const patterns = step.optional && i + 1 < total ? joinPatterns(own, expects[i + 1]!) : own;
    const message = `step ${i + 1}/${total}: waiting for ${JSON.stringify(step.expect)}`;
    options.progress?.({ progress: i, total, message });
    let wait: WaitResult;
    let matchedIndex: number;
    if (carried) {
      wait = carried.wait;
      matchedIndex = carried.index;
      carried = undefined;
    } else {
      const remaining = deadline - performance.now();
      const stepTimeout = step.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
      const timeoutMs = Math.max(0, Math.min(stepTimeout, remaining));
      wait = await session.waitFor({
        waitFor: patterns,
        from,
        timeoutMs,
        echoOf,
        tailLines: TAIL_LINES,
        signal: options.signal,
        // waitFor reports seconds of its timeout; as dialog progress that is a fraction of this step.
        progress: options.progress
          ? (u) => options.progress!({ progress: i + Math.min(0.99, u.progress / Math.max(1, u.total ?? 1)), total, message })
          : undefined,
      });
      const elapsed = Math.round(performance.now() - stepStarted);
      if (!wait.matched) {
        const dialogTimedOut = stepTimeout > remaining;
        if (wait.timed_out && step.optional && !dialogTimedOut) {
          results.push({ index: i, matched: false, skipped: true, elapsed_ms: elapsed });
          continue; // the next step scans the same output (from, echoOf unchanged)
        }
        results.push({ index: i, matched: false, elapsed_ms: elapsed });
        failure = { failed_step: i, tail: wait.tail };
        if (wait.timed_out) failure.timed_out = true;
        if (wait.cancelled) failure.cancelled = true;
        break;
      }
      matchedIndex = wait.matched_index ?? 0;
      if (matchedIndex >= own.patterns.length) {
        // The next step's prompt came first: this optional step is not coming.
        results.push({ index: i, matched: false, skipped: true, elapsed_ms: elapsed });
        carried = { wait, index: matchedIndex - own.patterns.length };
        continue;
      }
    }
    const result: DialogStepResult = { index: i, matched: true, match_line: wait.match_line ?? "", elapsed_ms: 0 };
    if (typeof step.expect !== "string") result.matched_index = matchedIndex;
    results.push(result);
    // Answer. Between steps is where cancellation stops the dialog.
    from = wait.cursor;
    echoOf = [];
    try {
      if (options.signal?.aborted) {
        failure = { failed_step: i, cancelled: true };
      } else if (step.send !== undefined) {
        const answer = typeof step.send === "string" ? step.send : step.send[matchedIndex]!;
        from = session.buffer.end;
        await session.write(typedText(answer, session.lineEnding), { kind: "input", data: answer });
        echoOf = answer.replace(/\r?\n$/, "").split(/\r?\n/);
      } else if (step.key !== undefined) {
        from = session.buffer.end;
        await session.sendKey(step.key);
      } else if (step.secret) {
        from = session.buffer.end;
        await options.typeSecret!(session, options.signal);
      }
    } catch (err) {
      if (!(err instanceof PtyError)) throw err;
      failure = { failed_step: i, error: { code: err.code, message: err.message, retryable: err.retryable } };
    }
    result.elapsed_ms = Math.round(performance.now() - stepStarted);
  }
  if (!failure) options.progress?.({ progress: total, total, message: `dialog completed (${total} steps)` });
  return finish(session, dialogStart, results, failure, warning, options.maxBytes ?? RESULT_BUDGET_BYTES);
}

function finish(session: Session, start: number, steps: DialogStepResult[], failure: Partial<DialogResult> | undefined, warning: string | undefined, maxBytes: number): DialogResult {
  const text = budgetedText(session, start, session.buffer.end, maxBytes);
  session.readMark = Math.max(session.readMark, text.to);
  session.lastUsed = new Date();
  const result: DialogResult = {
    completed: failure === undefined,
    ...(failure?.failed_step !== undefined ? { failed_step: failure.failed_step } : {}),
    steps,
    output: text.text,
    cursor: text.to,
    cursor_start: start,
    state: session.classify().state,
    is_alive: session.isAlive,
  };
  if (failure?.timed_out) result.timed_out = true;
  if (failure?.cancelled) result.cancelled = true;
  if (failure?.error) result.error = failure.error;
  if (failure) result.tail = failure.tail ?? tailOf(session);
  if (warning) result.warning = warning;
  if (text.truncated) result.is_truncated = true;
  if (text.elided) result.elided = text.elided;
  return result;
}

function tailOf(session: Session): string {
  const lines = trimTrailing(session.tailText(), "\n").split("\n");
  return lines.slice(-TAIL_LINES).join("\n");
}
