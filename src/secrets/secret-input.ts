/**
 * Typing a secret into a session (send_secret now, prepare_secret when the
 * password prompt appears). The rules:
 *  - Only into a session that is waiting for a secret (notWaitingForSecret): where
 *    the PTY is ours (local, daemon) only with echo off; elsewhere at a password
 *    prompt or into a busy program; never at our own shell's prompt. So a secret
 *    never lands where it is echoed and kept in history.
 *  - The human is asked only after that check, and the check is repeated
 *    after they answered (the prompt may have timed out meanwhile).
 *  - The secret is held by `heldSecrets` (redacting results, logs, recordings
 *    and audit entries) from the moment it exists until the session is closed; our
 *    own buffers are zeroed once it is typed. The input event carries no data.
 */
import { PtyError } from "../errors.ts";
import type { Session } from "../session/session.ts";
import { askSecret } from "./ask-secret.ts";
import { heldSecrets } from "./held-secrets.ts";

/** Output must stay quiet this long at a password prompt before a secret is typed (consoles turn echo off late). */
export const SECRET_SETTLE_MS = 300;
/** send_secret waits this long for a password prompt that is about to appear. */
export const SECRET_PROMPT_WAIT_MS = 2000;

const LINE_ENDINGS: Record<string, string> = { cr: "\r", lf: "\n", crlf: "\r\n", none: "", "\r": "\r", "\n": "\n", "\r\n": "\r\n", "": "" };

/** `line_ending` as given (a name or the characters), or the session's. */
export function resolveLineEnding(session: Session, value: string | undefined): string {
  if (value === undefined) return session.lineEnding;
  const ending = LINE_ENDINGS[value.toLowerCase()];
  if (ending === undefined) throw new PtyError("INVALID_ARGUMENT", `line_ending must be cr, lf, crlf or none (or "\\r", "\\n", "\\r\\n", ""), got ${JSON.stringify(value)}.`);
  return ending;
}

/**
 * Why the session is not waiting for a secret, or undefined when it is:
 *  - our own shell at its prompt (shell integration says so) never is, whatever its PS1 says
 *    (a PS1 of `Password: ` ran the secret as a command and kept it in history);
 *  - where the terminal's flags are known (a local PTY, a daemon session) they decide: echo off;
 *  - elsewhere (SSH, serial, telnet) the text: a password prompt, or a busy program without a
 *    recognizable prompt.
 */
export function notWaitingForSecret(session: Session): string | undefined {
  if (!session.isAlive) return `session ${session.id} has ended`;
  const c = session.classify();
  const shown = c.prompt ? ` "${c.prompt.slice(-60)}"` : "";
  if (session.shell.atPrompt) return `session ${session.id} is at its shell prompt${shown}`;
  if (c.echoOff !== undefined) return c.echoOff ? undefined : `session ${session.id} is not at a password prompt (${c.state}${shown}, terminal echo on)`;
  if (c.state === "password_prompt" || c.state === "running" || c.state === "unknown") return undefined;
  return `session ${session.id} is not at a password prompt (${c.state}${shown})`;
}

/** Whether a prepared secret may be typed now: a password prompt by the same rules (a busy program is not one). */
export function atSecretPrompt(session: Session): boolean {
  return notWaitingForSecret(session) === undefined && session.classify().state === "password_prompt";
}

/** Waits up to `timeoutMs` for the session to wait for a secret; the reason it does not, or undefined. */
export async function awaitSecretPrompt(session: Session, timeoutMs: number, signal?: AbortSignal): Promise<string | undefined> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const why = notWaitingForSecret(session);
    const remaining = deadline - performance.now();
    if (why === undefined || !session.isAlive || remaining <= 0 || signal?.aborted) return why;
    // Echo may be switched off without any output: look again at least every 250 ms.
    await session.changed(Math.min(remaining, 250), signal);
  }
}

function refusal(why: string): PtyError {
  return new PtyError(
    "INVALID_ARGUMENT",
    `Refusing to type a secret: ${why}. A secret typed there would be shown and could be kept in history. ` +
      "Run the command that asks for it first (e.g. sudo true, ssh, enable) and call send_secret when get_session_state says password_prompt, or use prepare_secret before that command.",
  );
}

/** What the human is shown: which session it is for, then the prompt. Control characters are removed by askSecret. */
export function humanPrompt(session: Session, prompt: string | undefined): string {
  const asked = prompt?.trim() || session.classify().prompt || "Password:";
  const target = session.target.length > 60 ? `${session.target.slice(0, 59)}…` : session.target;
  return `pty-mcp ${session.name ?? session.id} (${target}): ${asked}`;
}

/** Characters in UTF-8 bytes (lead bytes counted), without making a string of the secret. */
export function charCount(bytes: Uint8Array): number {
  let n = 0;
  for (const b of bytes) if ((b & 0xc0) !== 0x80) n++;
  return n;
}

const holds = new WeakMap<Session, Disposable[]>();

/**
 * Redacts `secret` from everything until the session is closed (close_session, detach_session):
 * its output stays readable after the program ended, so the secret stays redacted as long.
 */
function holdForSession(session: Session, secret: Uint8Array): void {
  const hold = heldSecrets.hold(secret);
  let list = holds.get(session);
  if (!list) {
    const created: Disposable[] = [];
    list = created;
    holds.set(session, created);
    session.onClose(() => {
      for (const h of created.splice(0)) h[Symbol.dispose]();
    });
  }
  if (session.isClosed) {
    hold[Symbol.dispose]();
    return;
  }
  list.push(hold);
}

/** Types `secret` plus `lineEnding` as one write, then zeroes our copies. */
async function typeSecret(session: Session, secret: Uint8Array, lineEnding: string): Promise<void> {
  const ending = new TextEncoder().encode(lineEnding);
  const bytes = new Uint8Array(secret.length + ending.length);
  bytes.set(secret);
  bytes.set(ending, secret.length);
  try {
    // The daemon keeps the output of a persistent session: it must know the secret before the echo.
    await session.transport.capabilities?.holdSecret?.(secret);
    await session.write(bytes, { kind: "secret" });
  } finally {
    bytes.fill(0);
  }
}

export interface SecretRequest {
  prompt?: string;
  lineEnding: string;
  signal?: AbortSignal;
}

/** send_secret: check, ask the human, check again, type. Resolves to the secret's length in characters. */
export async function sendSecret(session: Session, request: SecretRequest): Promise<number> {
  const before = await awaitSecretPrompt(session, SECRET_PROMPT_WAIT_MS, request.signal);
  if (before !== undefined) throw refusal(before);
  const secret = await askSecret({ prompt: humanPrompt(session, request.prompt), signal: request.signal });
  try {
    holdForSession(session, secret);
    const after = notWaitingForSecret(session);
    if (after !== undefined) throw refusal(`${after} any more (it changed while the secret was being entered)`);
    await typeSecret(session, secret, request.lineEnding);
    return charCount(secret);
  } finally {
    secret.fill(0);
  }
}

interface Prepared {
  cancel(): void;
}
const prepared = new WeakMap<Session, Prepared>();

/**
 * prepare_secret: asks the human now; the secret waits in memory (never on disk) and is
 * typed once, by itself, when the session shows a password prompt and its output has
 * settled. Resolves to the length once the secret is held; gives up after `timeoutMs`.
 */
export async function prepareSecret(session: Session, request: SecretRequest & { timeoutMs: number }): Promise<number> {
  if (!session.isAlive) throw refusal(`session ${session.id} has ended`);
  const secret = await askSecret({ prompt: humanPrompt(session, request.prompt), signal: request.signal });
  const length = charCount(secret);
  holdForSession(session, secret);
  prepared.get(session)?.cancel();
  const stop = new AbortController();
  const entry: Prepared = { cancel: () => stop.abort() };
  prepared.set(session, entry);
  session.awaitingSecret = true;
  void (async () => {
    const deadline = performance.now() + request.timeoutMs;
    try {
      while (session.isAlive && !stop.signal.aborted) {
        const remaining = deadline - performance.now();
        if (remaining <= 0) {
          console.error(`pty-mcp: prepared secret for session ${session.id} expired unused after ${Math.round(request.timeoutMs / 1000)} s`);
          return;
        }
        const quiet = session.quietMs();
        if (atSecretPrompt(session) && quiet >= SECRET_SETTLE_MS) {
          await typeSecret(session, secret, request.lineEnding);
          return;
        }
        await session.changed(Math.min(remaining, Math.max(10, SECRET_SETTLE_MS - (Number.isFinite(quiet) ? quiet : 0)), 250), stop.signal);
      }
    } catch (err) {
      console.error(`pty-mcp: prepared secret for session ${session.id} not sent: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      secret.fill(0);
      // A newer prepare_secret replaced this one: the flag is its now.
      if (prepared.get(session) === entry) {
        prepared.delete(session);
        session.awaitingSecret = false;
      }
    }
  })();
  return length;
}
