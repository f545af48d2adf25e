// The transport contract (STYLE.md §3). Data flows one way: a transport emits events (data, gap,
// resized, exit) and the session listens; nothing below writes into a session.
import { PtyError, type ErrorCode } from "../errors.ts";

/**
 * The one contract every session type implements: bytes in, bytes out,
 * resize, close. The session core (buffer, screen, matcher, classifier) sits
 * on top and never knows whether the bytes come from a PTY, SSH, a serial
 * port or the daemon.
 */
export interface Transport {
  /** Settles once the OS or peer has the bytes; rejects (e.g. with PtyError SESSION_CLOSED / WRITE_FAILED) when it cannot. */
  write(bytes: Uint8Array): Promise<void>;
  resize(size: { cols: number; rows: number }): void;
  /** Safe to call twice; resolves after onExit listeners ran. */
  close(): Promise<void>;
  onData(listener: (bytes: Uint8Array) => void): Disposable;
  /** Fires exactly once, when the program, connection or device is gone. */
  onExit(listener: (exit: TransportExit) => void): Disposable;
  /**
   * Output was lost before `cursor` (a mirror whose daemon dropped bytes it never sent): the
   * session's cursors jump there. Only transports whose cursors are someone else's emit it.
   */
  onGap?(listener: (cursor: number) => void): Disposable;
  /** The terminal was resized from elsewhere (a human attached to the daemon's session). */
  onResized?(listener: (size: { cols: number; rows: number }) => void): Disposable;
  /**
   * Called once by the session after it subscribed: a transport that held events back until
   * someone listens (the daemon's attach reply races its first output) delivers them now.
   */
  resume?(): void;
  /** Optional extras: a transport implements what its medium has. */
  readonly capabilities?: TransportCapabilities;
}

export interface TransportExit {
  code: number | null;
  signal: string | null;
  /** Why it ended when it is not a normal program exit (link lost, device vanished). */
  reason?: string;
  /** The code input gets after this exit (default SESSION_CLOSED): DAEMON_UNAVAILABLE when the daemon link is gone. */
  errorCode?: ErrorCode;
}

export interface TransportCapabilities {
  /** termios c_lflag of the PTY when it is ours (local, daemon): lets the core see echo-off password prompts. */
  localFlags?(): number | undefined;
  /** A real serial BREAK (tcsendbreak). */
  sendBreak?(durationMs?: number): Promise<void>;
  /** Modem control lines (serial). */
  setModemLines?(lines: { dtr?: boolean; rts?: boolean }): Promise<void>;
  /** Deliver a signal to the foreground program (local). */
  signal?(name: string): void;
  /** The program's terminal queries (cursor position …) are answered at the other end (a daemon's mirror). */
  queriesAnsweredElsewhere?: boolean;
  /**
   * A link that can drop and come back on its own (a remote daemon over SSH): whether it is up
   * now. Asking may start a reconnect when it is down.
   */
  connected?(): boolean;
  /**
   * While such a link is down: since when, how many attempts to bring it back failed, and the last
   * one's error (SPEC §4 shape, our own message: never a secret). Undefined while it is up.
   */
  linkDown?(): LinkDown | undefined;
  /** Line settings as the far end reports them now (RFC 2217: the server's answers, SPEC §2 names); get_session_state shows them as `settings`. */
  lineSettings?(): Record<string, unknown>;
  /**
   * The far side keeps output (the daemon: its buffer, log file and recording, every mirror,
   * a server that reattaches later): `secret` is redacted from it for the session's life. Called
   * before the secret is typed; a transport that keeps nothing of its own has no such method.
   */
  holdSecret?(secret: Uint8Array): Promise<void>;
}

/** A link that is down and being brought back (get_session_state's `reconnect`). */
export interface LinkDown {
  /** When the link was lost (ISO 8601). */
  since: string;
  /** Attempts to reconnect since then that failed. */
  attempts: number;
  /** The last failed attempt's error, as a tool error result has it. */
  last_error?: { code: string; message: string; retryable: boolean } & Record<string, unknown>;
}

/** How a transport ended, in words for messages. */
export function describeExit(exit: TransportExit): string {
  if (exit.reason) return exit.reason;
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exit code ${exit.code}`;
}

/** The error input gets after `exit`: SESSION_CLOSED, or the transport's own code (DAEMON_UNAVAILABLE). */
export function endedError(sessionId: string, exit: TransportExit): PtyError {
  return new PtyError(
    exit.errorCode ?? "SESSION_CLOSED",
    `Session ${sessionId} has ended (${describeExit(exit)}); its output stays readable with read_output. Create a new session to continue.`,
  );
}

/** A tiny listener set used by transports to implement onData/onExit. */
export class Emitter<T> {
  #listeners = new Set<(value: T) => void>();
  on(listener: (value: T) => void): Disposable {
    this.#listeners.add(listener);
    return { [Symbol.dispose]: () => void this.#listeners.delete(listener) };
  }
  emit(value: T): void {
    for (const listener of this.#listeners) listener(value);
  }
  get size(): number {
    return this.#listeners.size;
  }
}

/**
 * A transport's data for listeners that may subscribe late: what is emitted while nobody listens
 * (between connect and the session core subscribing) is held, newest `holdBytes` at most, and
 * handed to the first listener when it subscribes.
 */
export class HeldData {
  readonly #emitter = new Emitter<Uint8Array>();
  readonly #holdBytes: number;
  #held: Uint8Array[] = [];
  #heldBytes = 0;

  constructor(holdBytes = 32 * 1024 * 1024) {
    this.#holdBytes = holdBytes;
  }

  on(listener: (bytes: Uint8Array) => void): Disposable {
    const disposable = this.#emitter.on(listener);
    const held = this.#held;
    this.#held = [];
    this.#heldBytes = 0;
    for (const chunk of held) listener(chunk);
    return disposable;
  }

  emit(bytes: Uint8Array): void {
    if (this.#emitter.size > 0) return this.#emitter.emit(bytes);
    this.#held.push(bytes);
    this.#heldBytes += bytes.length;
    while (this.#heldBytes > this.#holdBytes && this.#held.length > 1) this.#heldBytes -= this.#held.shift()!.length;
  }
}

/**
 * A transport's one exit: `fire` records it and tells the listeners once; a listener added
 * afterwards still hears it (on a microtask), as Transport.onExit promises.
 */
export class ExitOnce {
  readonly #listeners = new Emitter<TransportExit>();
  #exit: TransportExit | undefined;

  /** The exit, once fired. */
  get exit(): TransportExit | undefined {
    return this.#exit;
  }

  on(listener: (exit: TransportExit) => void): Disposable {
    const exit = this.#exit;
    if (exit) {
      queueMicrotask(() => listener(exit));
      return { [Symbol.dispose]: () => {} };
    }
    return this.#listeners.on(listener);
  }

  /** Records and announces the exit; false (and nothing told) when it already happened. */
  fire(exit: TransportExit): boolean {
    if (this.#exit) return false;
    this.#exit = exit;
    this.#listeners.emit(exit);
    return true;
  }
}
