// reconnect_session (SPEC §9): a session whose link ended (the host rebooted) waits until the
// host accepts connections again, then continues on a new transport opened with the same
// parameters. The session keeps its id, buffer and cursor sequence (Session.resume); what
// "the same parameters" are, and how the new shell is hooked, is the transport's (a Reopener
// given to the session when it was opened: src/ssh, src/telnet).
import { PtyError } from "../errors.ts";
import type { Session } from "./session.ts";
import type { Progress } from "./wait-for.ts";
import type { Transport } from "./transport.ts";

/** How a transport opens itself again with the parameters it was first opened with. */
export interface Reopener {
  /**
   * One attempt. Throws PtyError: `retryable` (refused, unreachable, timed out, banner not yet
   * there) means the host is not back yet; anything else (a changed host key, auth refused) ends
   * the reconnect with that error.
   */
  open(options: { connectTimeoutMs: number; size: { cols: number; rows: number }; signal: AbortSignal }): Promise<Transport>;
  /** After the session took the new transport: hook the new shell (shell integration), log in again (telnet). */
  ready?(session: Session, transport: Transport, signal: AbortSignal): Promise<{ login?: { completed: boolean } } | void>;
}

export interface ReconnectResult {
  reconnected: boolean;
  /** From when the link ended until it came back (or until now, when it did not). */
  down_for_ms: number;
  attempts: number;
  cursor: number;
  timed_out?: boolean;
  cancelled?: boolean;
  /**
   * Why the host did not come back: the last attempt's error, unless the timeout cut that attempt
   * short (it had less than a whole connect timeout and used all of it): then the last error an
   * attempt got by itself (refused, host key, DNS, a jump host that could not reach the target).
   * A timeout only when every attempt timed out.
   */
  last_error?: { code: string; message: string };
  /** A console that logs in (create_telnet_session login: true): whether the login after reconnecting completed. */
  login?: { completed: boolean };
}

export const BACKOFF_FIRST_MS = 1000;
export const BACKOFF_MAX_MS = 10_000;
/** One attempt's connect timeout: a host still booting may drop packets rather than refuse. */
const ATTEMPT_TIMEOUT_MS = 10_000;

const reconnecting = new WeakSet<Session>();
const reopeners = new WeakMap<Session, Reopener>();

/** Called by the opener (open-session.ts) for a session whose transport can be reopened. */
export function setReopener(session: Session, reopener: Reopener): void {
  reopeners.set(session, reopener);
}

export function reopenerOf(session: Session): Reopener | undefined {
  return reopeners.get(session);
}

/**
 * Waits (backoff 1 s, 2 s, 4 s … 10 s) until `reopener.open` succeeds, then resumes the session
 * on the new transport with one line in its output saying when the link ended and came back.
 * Ends at `timeoutMs` with reconnected false, at once on abort (a late transport is closed).
 */
export async function reconnectSession(
  session: Session,
  options: { timeoutMs: number; signal: AbortSignal; progress?: Progress },
): Promise<ReconnectResult> {
  const reopener = reopeners.get(session);
  if (!reopener) {
    const why = session.persistent
      ? "a persistent session reconnects to its daemon by itself (create_*_session with its session_id reattaches)"
      : session.type === "ssh"
        ? "it runs a command, not a login shell, and running the command again could repeat what it did; create a new session"
        : `only SSH and telnet sessions can be reconnected, this one is ${session.type}`;
    throw new PtyError("INVALID_ARGUMENT", `Session ${session.id} cannot be reconnected: ${why}.`);
  }
  if (session.isClosed) throw new PtyError("SESSION_CLOSED", `Session ${session.id} is closed. Create a new session.`);
  if (session.isAlive) {
    throw new PtyError(
      "INVALID_ARGUMENT",
      `Session ${session.id} is still connected to ${session.target}; reconnect_session is for a session whose link ended (is_alive: false). ` +
        "A host that is rebooting drops the link within seconds (keepalive); read_output shows is_alive: false then, and reconnect_session waits for the host to come back.",
      true,
    );
  }
  if (reconnecting.has(session)) throw new PtyError("INVALID_ARGUMENT", `Session ${session.id} is already being reconnected by another call.`, true);
  reconnecting.add(session);
  try {
    return await attempt(session, reopener, options);
  } finally {
    reconnecting.delete(session);
  }
}

async function attempt(session: Session, reopener: Reopener, options: { timeoutMs: number; signal: AbortSignal; progress?: Progress }): Promise<ReconnectResult> {
  const { signal } = options;
  const started = performance.now();
  const deadline = started + options.timeoutMs;
  const endedAt = session.endedAt ?? new Date();
  let attempts = 0;
  let delay = BACKOFF_FIRST_MS;
  let lastError: PtyError | undefined;
  /** The last error of an attempt that had its whole connect timeout, or failed before its time was up. */
  let lastOwnError: PtyError | undefined;
  let lastProgress = -1;
  const report = (message: string) => {
    // MCP progress must increase with every notification.
    const value = Math.max(lastProgress + 0.001, Math.round((performance.now() - started) / 100) / 10);
    lastProgress = value;
    options.progress?.({ progress: value, total: options.timeoutMs / 1000, message });
  };
  const result = (extra: Partial<ReconnectResult>): ReconnectResult => {
    const out: ReconnectResult = { reconnected: false, down_for_ms: Date.now() - endedAt.getTime(), attempts, cursor: session.buffer.end, ...extra };
    const why = lastOwnError ?? lastError;
    if (!out.reconnected && why) out.last_error = { code: why.code, message: why.message };
    return out;
  };

  for (;;) {
    if (signal.aborted) return result({ cancelled: true });
    const remaining = deadline - performance.now();
    if (remaining <= 0) return result({ timed_out: true });
    attempts++;
    report(`attempt ${attempts}: connecting to ${session.target}`);
    let transport: Transport | undefined;
    const budget = Math.min(ATTEMPT_TIMEOUT_MS, remaining);
    const attemptStarted = performance.now();
    try {
      transport = await untilAborted(reopener.open({ connectTimeoutMs: budget, size: session.size, signal }), signal);
    } catch (err) {
      if (!(err instanceof PtyError) || !err.retryable) throw err;
      lastError = err;
      // Cut short: the overall timeout left it less than a whole connect timeout and it used all of
      // that (its "timed out after 0.4 s" says nothing about the host). Any other failure is its own.
      if (!isCutShort(budget, performance.now() - attemptStarted)) lastOwnError = err;
    }
    if (transport) {
      if (signal.aborted) {
        await transport.close().catch(() => undefined);
        return result({ cancelled: true });
      }
      const back = new Date();
      session.resume(transport, gapLine(session.target, endedAt, back, attempts));
      const ready = await reopener.ready?.(session, transport, signal);
      report(`reconnected to ${session.target} after ${attempts} attempt(s)`);
      return result({ reconnected: true, down_for_ms: back.getTime() - endedAt.getTime(), ...(ready ?? {}), cursor: session.buffer.end });
    }
    const left = deadline - performance.now();
    if (delay >= left) {
      // The next attempt would be due after the timeout: wait it out (a cancel still ends it at once).
      report(`attempt ${attempts}: ${lastError?.message ?? "failed"}; no time for another before the timeout`);
      await sleep(Math.max(0, left), signal);
      return result(signal.aborted ? { cancelled: true } : { timed_out: true });
    }
    report(`attempt ${attempts}: ${lastError?.message ?? "failed"}; next in ${delay / 1000} s`);
    await sleep(delay, signal);
    delay = Math.min(delay * 2, BACKOFF_MAX_MS);
  }
}

/** An attempt the overall timeout cut short: given less than a whole connect timeout, and it ran out of it. */
export function isCutShort(budgetMs: number, tookMs: number): boolean {
  // A timer may fire a millisecond early (rounding): 10 ms of slack.
  return budgetMs < ATTEMPT_TIMEOUT_MS && tookMs >= budgetMs - 10;
}

/** The one line the output stream gets for the gap. */
export function gapLine(target: string, endedAt: Date, backAt: Date, attempts: number): string {
  const seconds = ((backAt.getTime() - endedAt.getTime()) / 1000).toFixed(1);
  return `[pty-mcp: link to ${target} ended ${endedAt.toISOString()}, reconnected ${backAt.toISOString()} (down ${seconds} s, ${attempts} attempt${attempts === 1 ? "" : "s"}); a new shell follows]`;
}

/** `promise`, or undefined as soon as `signal` aborts (a transport that arrives later is closed). */
function untilAborted(promise: Promise<Transport>, signal: AbortSignal): Promise<Transport | undefined> {
  if (signal.aborted) {
    void promise.then((t) => t.close(), () => undefined);
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      void promise.then((t) => t.close(), () => undefined);
      resolve(undefined);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (t) => {
        signal.removeEventListener("abort", onAbort);
        resolve(t); // after an abort this is a no-op: onAbort resolved already and closes t
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
