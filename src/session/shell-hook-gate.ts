// The shell-hook gate: hooks a shell we can only type into (an SSH login shell known to be bash,
// zsh or fish) for shell integration, and holds the output back meanwhile so that nothing of the typed
// hook line shows anywhere (buffer, screen, logs, results, the shell's history).
import type { Classification } from "./classifier.ts";
import { typedHook, type HookedShell } from "./shell-hooks.ts";
import { ShellMarkerParser, type ShellState } from "./shell-markers.ts";

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

/** What the gate needs of its session (Session implements it). */
export interface HookHost {
  readonly isAlive: boolean;
  readonly shell: ShellState;
  readonly transport: { write(bytes: Uint8Array): Promise<void> };
  quietMs(): number;
  classify(): Classification;
  tailText(bytes?: number): string;
  changed(timeoutMs: number, signal?: AbortSignal): Promise<void>;
}

export interface HookOptions {
  signal?: AbortSignal;
  promptTimeoutMs?: number;
  timeoutMs?: number;
}

export class ShellHookGate {
  /** Where output goes when it is not held (the session's own data path). */
  readonly #deliver: (bytes: Uint8Array) => void;
  #held: { chunks: Uint8Array[]; length: number; parser: ShellMarkerParser; done: (hooked: boolean) => void } | undefined;

  constructor(deliver: (bytes: Uint8Array) => void) {
    this.#deliver = deliver;
  }

  /** True while output is held back (the caller passes it to push()). */
  get holding(): boolean {
    return this.#held !== undefined;
  }

  /**
   * Waits for the shell's first prompt, types the hook line (shell-hooks.ts) and holds the
   * output back until the hooked prompt arrives. Then the held bytes — the line's echo, the second
   * prompt — are dropped and the stream resumes at that prompt's B marker. True once the session
   * is hooked; false (nothing typed, or the held output let through unchanged) when no prompt
   * came, the program asks for something (a password, a menu), the hook did not answer within
   * HOOK_TIMEOUT_MS, or the session ended. Typed straight to the transport: it is not the agent's
   * input (no input hooks, no audit entry).
   */
  async install(host: HookHost, shell: HookedShell, options: HookOptions = {}): Promise<boolean> {
    if (host.shell.active) return true;
    if (this.#held || !host.isAlive) return false;
    const promptTimeoutMs = options.promptTimeoutMs ?? HOOK_PROMPT_TIMEOUT_MS;
    const first = await awaitFirstPrompt(host, shell, promptTimeoutMs, options.signal);
    if (first !== "prompt") {
      host.shell.off = {
        question: "off: the login asked something before its first prompt (a password, a question, a pager, a menu); nothing was typed",
        timeout: `off: no first prompt within ${promptTimeoutMs / 1000} s; nothing was typed`,
        ended: "off: the session ended before its first prompt",
      }[first];
      return false;
    }
    const timeoutMs = options.timeoutMs ?? HOOK_TIMEOUT_MS;
    // Replaced by what the shell says (an "off" mark in the held output), gone once hooked.
    host.shell.off = `off: the typed hook drew no hooked prompt within ${timeoutMs / 1000} s`;
    const hooked = new Promise<boolean>((resolve) => {
      this.#held = { chunks: [], length: 0, parser: new ShellMarkerParser(), done: resolve };
    });
    const timer = setTimeout(() => this.open(false), timeoutMs);
    const abort = () => this.open(false);
    options.signal?.addEventListener("abort", abort, { once: true });
    try {
      await host.transport.write(encoder.encode(`${typedHook(shell)}\r`));
    } catch {
      this.open(false);
    }
    try {
      return await hooked;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", abort);
    }
  }

  /** Output while holding: kept until the hooked prompt's B marker, or let through past HOOK_MAX_HELD. */
  push(bytes: Uint8Array): void {
    const gate = this.#held!;
    gate.chunks.push(bytes);
    gate.length += bytes.length;
    const b = gate.parser.push(bytes, gate.length).find((m) => m.kind === "B");
    if (!b) {
      if (gate.length > HOOK_MAX_HELD) this.open(false);
      return;
    }
    const held = concatBytes(gate.chunks);
    const text = new TextDecoder("latin1").decode(held.subarray(0, b.cursor));
    const from = text.lastIndexOf(B_MARKER);
    this.#held = undefined;
    this.#deliver(held.subarray(Math.max(0, from)));
    gate.done(true);
  }

  /** Ends a gate without a hooked prompt: everything held goes through as it came. */
  open(hooked: boolean): void {
    const gate = this.#held;
    if (!gate) return;
    this.#held = undefined;
    if (gate.length > 0) this.#deliver(concatBytes(gate.chunks));
    gate.done(hooked);
  }
}

/** Output, then quiet at something that is a shell's prompt (or at least no question). */
async function awaitFirstPrompt(host: HookHost, shell: HookedShell, timeoutMs: number, signal?: AbortSignal): Promise<"prompt" | "question" | "timeout" | "ended"> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (!host.isAlive || signal?.aborted) return "ended";
    const quiet = host.quietMs();
    const hasOutput = Number.isFinite(quiet);
    const now = performance.now();
    if (hasOutput && quiet >= HOOK_PROMPT_QUIET_MS) {
      const state = host.classify().state;
      // A question (password, yes/no, a pager, zsh's new-user menu) must not get the hook as its answer.
      if (state === "password_prompt" || state === "confirmation" || state === "pager") return "question";
      if (shell === "zsh" && /zsh-newuser-install/.test(host.tailText())) return "question";
      if (state === "at_prompt" || quiet >= HOOK_IDLE_QUIET_MS) return "prompt";
    }
    if (now >= deadline) return "timeout";
    const wake = hasOutput ? (quiet < HOOK_PROMPT_QUIET_MS ? HOOK_PROMPT_QUIET_MS : HOOK_IDLE_QUIET_MS) - quiet : deadline - now;
    await host.changed(Math.max(1, Math.min(deadline - now, wake)), signal);
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
