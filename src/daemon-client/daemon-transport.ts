// A Transport over a daemon attachment: the MCP server mirrors a persistent session in an
// ordinary `Session`, so every tool works alike on persistent and in-process sessions. The
// mirror's cursors are the daemon's: its buffer starts at the attachment's cursor
// (SessionInit.outputOffset) and jumps with the daemon when output was lost (the gap event).
// Events flow up only: data, gap, resized, exit.
import { PtyError } from "../errors.ts";
import { Emitter, type LinkDown, type Transport, type TransportCapabilities, type TransportExit } from "../session/transport.ts";
import type { DaemonClient } from "./client.ts";
import type { AttachResult, Event } from "../daemon/protocol.ts";

/** Gives a fresh connection to the same daemon (a remote host's, over SSH) after the old one was lost. */
export type Reconnect = () => Promise<DaemonClient>;

/** Waits before each reconnect attempt of one round (about 16 s in all); a later write or state call starts another round. */
const RECONNECT_DELAYS_MS = [0, 250, 500, 1000, 2000, 4000, 8000];
/** Longest a write (or close) waits for a reconnect before failing with a retryable DAEMON_UNAVAILABLE; reconnecting goes on. */
const RECONNECT_WAIT_MS = 20_000;

type Queued = { kind: "data"; bytes: Uint8Array } | { kind: "gap"; cursor: number } | { kind: "exit"; exit: TransportExit } | { kind: "resized"; size: { cols: number; rows: number } };

export class DaemonTransport implements Transport {
  readonly sessionId: string;
  readonly attach: AttachResult;
  #client: DaemonClient;
  readonly #reconnectTo: Reconnect | undefined;
  #connected = true;
  #reconnecting: Promise<void> | undefined;
  #lossReason = "";
  /** While the link is down: since when, the failed attempts, the last one's error (get_session_state's `reconnect`). */
  #down: { since: Date; attempts: number; lastError?: LinkDown["last_error"] } | undefined;
  readonly #data = new Emitter<Uint8Array>();
  readonly #exit = new Emitter<TransportExit>();
  readonly #gap = new Emitter<number>();
  readonly #resized = new Emitter<{ cols: number; rows: number }>();
  readonly #disposables: Disposable[] = [];
  /** Events that arrived before resume(); delivered in order by resume(). */
  #queue: Queued[] | undefined = [];
  /**
   * The mirror's read mark, told to the daemon with each write and on detach (so another client
   * reattaching knows what the agent has seen). Set by whoever builds the mirror.
   */
  readMark: (() => number) | undefined;
  /** Cursor after the last byte received. */
  #cursor: number;
  #size: { cols: number; rows: number };
  #lflag: number | undefined;
  #exited: TransportExit | undefined;
  #detached = false;
  #closing: Promise<void> | undefined;
  readonly capabilities: TransportCapabilities;

  private constructor(client: DaemonClient, sessionId: string, attach: AttachResult, reconnect: Reconnect | undefined) {
    this.#client = client;
    this.#reconnectTo = reconnect;
    this.sessionId = sessionId;
    this.attach = attach;
    this.#cursor = attach.from;
    this.#size = { cols: attach.session.cols, rows: attach.session.rows };
    this.capabilities = {
      holdSecret: (secret) => this.#holdSecret(secret),
      localFlags: () => (this.#exited ? undefined : this.#lflag),
      signal: (name) => {
        if (!this.#exited) void this.#client.request({ type: "signal", session: this.sessionId, signal: name }).catch(() => undefined);
      },
      // The daemon's own session is the program's terminal and answers its queries.
      queriesAnsweredElsewhere: true,
      // A mirror that reconnects on its own says whether it is connected now; asking starts a reconnect when it is not.
      ...(reconnect
        ? {
            connected: () => {
              this.reconnectSoon();
              return this.isConnected;
            },
            linkDown: () => this.#linkDown(),
          }
        : {}),
    };
  }

  /**
   * Attaches to `sessionId` from `from` (default: the oldest byte the daemon holds). Events
   * are held until `resume()` (the mirror Session calls it once it listens). With `reconnect`, a lost
   * connection does not end the mirror: it reattaches from the last cursor it has (in the
   * background with bounded backoff, and again on the next write or state call).
   */
  static async attach(client: DaemonClient, sessionId: string, options: { from?: number; reconnect?: Reconnect } = {}): Promise<DaemonTransport> {
    const early: Array<[Event, Uint8Array]> = [];
    let transport: DaemonTransport | undefined;
    // Subscribe before asking: output follows the reply at once.
    const subscription = client.subscribe(sessionId, (event, body) => {
      if (transport) transport.#onEvent(event, body);
      else early.push([event, body]);
    });
    const lost = client.onClose((reason) => {
      if (transport && transport.#client === client) transport.#lost(reason);
    });
    let attach: AttachResult;
    try {
      attach = await client.request({ type: "attach", session: sessionId, ...(options.from !== undefined ? { from: options.from } : {}) });
    } catch (err) {
      subscription[Symbol.dispose]();
      lost[Symbol.dispose]();
      throw err;
    }
    transport = new DaemonTransport(client, sessionId, attach, options.reconnect);
    transport.#disposables.push(subscription, lost);
    for (const [event, body] of early) transport.#onEvent(event, body);
    if (client.isClosed) transport.#lost("the connection closed");
    return transport;
  }

  /** The listeners are in place: queued output, gaps, resizes and the exit reach them now. */
  resume(): void {
    const queue = this.#queue ?? [];
    this.#queue = undefined;
    for (const item of queue) this.#deliver(item);
  }

  get size(): { cols: number; rows: number } {
    return { ...this.#size };
  }

  #push(item: Queued): void {
    if (this.#queue) this.#queue.push(item);
    else this.#deliver(item);
  }

  #deliver(item: Queued): void {
    switch (item.kind) {
      case "data":
        this.#data.emit(item.bytes);
        break;
      case "gap":
        this.#gap.emit(item.cursor);
        break;
      case "resized":
        this.#resized.emit(item.size);
        break;
      case "exit":
        this.#exit.emit(item.exit);
        break;
    }
  }

  #onEvent(event: Event, body: Uint8Array): void {
    if (this.#exited && event.type !== "closed") return;
    switch (event.type) {
      case "output": {
        if (event.lflag !== undefined) this.#lflag = event.lflag;
        let bytes = body;
        if (event.cursor > this.#cursor) this.#push({ kind: "gap", cursor: event.cursor });
        else if (event.cursor < this.#cursor) bytes = body.subarray(this.#cursor - event.cursor); // already have these
        this.#cursor = event.cursor + body.length;
        if (bytes.length > 0) this.#push({ kind: "data", bytes });
        break;
      }
      case "exit": {
        const exit: TransportExit = { code: event.code, signal: event.signal };
        if (event.reason) exit.reason = event.reason;
        this.#end(exit);
        break;
      }
      case "resized":
        this.#size = { cols: event.cols, rows: event.rows };
        this.#push({ kind: "resized", size: { ...this.#size } });
        break;
      case "closed":
        this.#end({ code: null, signal: null, reason: `the session was ${event.reason}` });
        break;
    }
  }

  /**
   * When the attach reply said the session had ended, ends the mirror with that exit now (call it
   * once the output the reply announced is in); the exit event that follows is then ignored.
   */
  endAsAttached(): void {
    const info = this.attach.session;
    if (info.is_alive || this.#exited) return;
    const exit: TransportExit = { code: info.exit?.code ?? null, signal: info.exit?.signal ?? null };
    if (info.exit?.reason) exit.reason = info.exit.reason;
    this.#end(exit);
  }

  #end(exit: TransportExit): void {
    if (this.#exited) return;
    this.#exited = exit;
    this.#push({ kind: "exit", exit });
  }

  #lost(reason: string): void {
    if (this.#detached) return;
    if (this.#reconnectTo) {
      // The remote session goes on; the mirror waits for the link with what it has (an ended one has it all).
      this.#connected = false;
      this.#lossReason = reason;
      this.#down ??= { since: new Date(), attempts: 0 };
      if (!this.#exited) void this.#ensureConnected().catch(() => undefined);
      return;
    }
    this.#end({
      code: null,
      signal: null,
      reason: `lost the connection to the pty-mcp daemon (${reason}); if the daemon still runs, reattach with create_local_session {session_id: "${this.sessionId}"}`,
      errorCode: "DAEMON_UNAVAILABLE",
    });
  }

  /** Starts a reconnect round if the link is down and none runs (state calls use it: the next tool call reconnects). */
  reconnectSoon(): void {
    if (!this.#connected && !this.#detached && !this.#exited) void this.#ensureConnected().catch(() => undefined);
  }

  /**
   * Resolves once attached again (at once when connected); rejects with DAEMON_UNAVAILABLE after a round of failed
   * attempts, or at the first refusal that is not retryable (SSH_HOST_KEY_MISMATCH on any hop, SSH_AUTH_FAILED) with its code.
   */
  #ensureConnected(): Promise<void> {
    if (this.#connected || !this.#reconnectTo) return Promise.resolve();
    const reconnect = this.#reconnectTo;
    return (this.#reconnecting ??= (async () => {
      let last: unknown;
      try {
        for (const delay of RECONNECT_DELAYS_MS) {
          if (this.#detached || this.#exited) return;
          if (delay > 0) await Bun.sleep(delay);
          try {
            await this.#reattach(await reconnect());
            return;
          } catch (err) {
            last = err;
            this.#failedAttempt(err);
            if (err instanceof PtyError && err.code === "SESSION_NOT_FOUND") {
              this.#end({ code: null, signal: null, reason: `the session is gone from its daemon (${err.message})` });
              return;
            }
            // A refusal that trying again cannot change (a changed host key on any hop, auth refused):
            // no more attempts in this round, and the call waiting for the link gets it as it is.
            if (err instanceof PtyError && !err.retryable) {
              throw new PtyError(err.code, `Lost the link to the daemon holding ${this.sessionId} (${this.#lossReason}); reconnecting was refused: ${err.message}`, false, {
                cause: err,
                ...(err.details ? { details: err.details } : {}),
              });
            }
          }
        }
        throw new PtyError(
          "DAEMON_UNAVAILABLE",
          `Lost the link to the daemon holding ${this.sessionId} (${this.#lossReason}) and ${RECONNECT_DELAYS_MS.length} attempts to reconnect failed (last: ${last instanceof Error ? last.message : String(last)}). ` +
            "The session keeps running there if the host is up; the next call tries again.",
          true,
          { cause: last },
        );
      } finally {
        this.#reconnecting = undefined;
      }
    })());
  }

  /** Counts a failed reconnect attempt and keeps its error as an error result has it (its details, e.g. a fingerprint, merged). */
  #failedAttempt(err: unknown): void {
    if (!this.#down) return;
    this.#down.attempts++;
    this.#down.lastError =
      err instanceof PtyError
        ? { ...(err.details ?? {}), code: err.code, message: err.message, retryable: err.retryable }
        : { code: "DAEMON_UNAVAILABLE", message: `Reconnecting to the daemon failed: ${err instanceof Error ? err.message : String(err)}`, retryable: true };
  }

  /** The link is down and the mirror brings it back (not detached, the session not ended): since when, attempts, the last error. */
  #linkDown(): LinkDown | undefined {
    const down = this.#down;
    if (!down || this.isConnected || this.#detached || this.#exited) return undefined;
    return { since: down.since.toISOString(), attempts: down.attempts, ...(down.lastError ? { last_error: { ...down.lastError } } : {}) };
  }

  /** ensureConnected(), but waiting at most RECONNECT_WAIT_MS (a connect to a dead host may hang until its timeout). */
  async #waitConnected(): Promise<void> {
    let timer: Timer | undefined;
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(resolve, RECONNECT_WAIT_MS, "timeout")));
    try {
      const outcome = await Promise.race([this.#ensureConnected(), timeout]);
      if (outcome === "timeout") {
        throw new PtyError(
          "DAEMON_UNAVAILABLE",
          `The link to the daemon holding ${this.sessionId} is down (${this.#lossReason}); still reconnecting after ${RECONNECT_WAIT_MS / 1000} s. Retry shortly (get_session_state shows connected).`,
          true,
        );
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** A live connection to the daemon (the current one, or a new one), waiting at most RECONNECT_WAIT_MS. */
  async #anyClient(reconnect: Reconnect): Promise<DaemonClient> {
    let timer: Timer | undefined;
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(resolve, RECONNECT_WAIT_MS, "timeout")));
    try {
      const outcome = await Promise.race([reconnect(), timeout]);
      if (outcome === "timeout") throw new PtyError("DAEMON_UNAVAILABLE", `Could not reach the daemon holding ${this.sessionId} within ${RECONNECT_WAIT_MS / 1000} s to close it (${this.#lossReason}).`, true);
      return outcome;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Attaches over `client` from the cursor after the last byte we have; events dedupe by cursor. */
  async #reattach(client: DaemonClient): Promise<void> {
    const subscription = client.subscribe(this.sessionId, (event, body) => {
      if (this.#client === client) this.#onEvent(event, body);
    });
    const lost = client.onClose((reason) => {
      if (this.#client === client) this.#lost(reason);
    });
    const previous = this.#client;
    // Events of the new attachment may arrive in the same chunk as its reply: route them here first.
    this.#client = client;
    try {
      await client.request({ type: "attach", session: this.sessionId, from: this.#cursor });
    } catch (err) {
      this.#client = previous;
      subscription[Symbol.dispose]();
      lost[Symbol.dispose]();
      throw err;
    }
    this.#release();
    this.#disposables.push(subscription, lost);
    this.#connected = true;
    this.#down = undefined;
    if (client.isClosed) this.#lost("the connection closed");
  }

  #readMark(): number | undefined {
    const mark = this.readMark?.();
    return mark !== undefined && mark >= 0 ? mark : undefined;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (!this.#connected) await this.#waitConnected();
    if (this.#exited) throw new PtyError(this.#exited.errorCode ?? "SESSION_CLOSED", `Session ${this.sessionId} has ended (${this.#exited.reason ?? "the program exited"}).`);
    const mark = this.#readMark();
    await this.#client.request({ type: "write", session: this.sessionId, ...(mark !== undefined ? { read_mark: mark } : {}) }, bytes);
  }

  async #holdSecret(secret: Uint8Array): Promise<void> {
    if (!this.#connected) await this.#waitConnected();
    try {
      await this.#client.request({ type: "hold_secret", session: this.sessionId }, secret);
    } catch (err) {
      // An older daemon does not know the request: it would keep the secret in clear.
      if (err instanceof PtyError && err.code === "INVALID_ARGUMENT") {
        throw new PtyError("INVALID_ARGUMENT", `The daemon hosting ${this.sessionId} cannot keep a secret out of its buffer, log and recording (it is older than this server). Nothing was typed. Close the session and create it again to use the current daemon.`, false, { cause: err });
      }
      throw err;
    }
  }

  resize(size: { cols: number; rows: number }): void {
    if (this.#exited || (size.cols === this.#size.cols && size.rows === this.#size.rows)) return;
    this.#size = { ...size };
    void this.#client.request({ type: "resize", session: this.sessionId, ...size }).catch(() => undefined);
  }

  /** Ends the daemon's session (its PTY too). After detach() it only lets go. Resolves after onExit listeners ran. */
  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      try {
        if (this.#detached || this.#exited?.errorCode === "DAEMON_UNAVAILABLE") return;
        try {
          // Closing needs a connection to the daemon, not an attachment: an ended session whose link dropped is closed there too.
          const client = this.#reconnectTo && (!this.#connected || this.#client.isClosed) ? await this.#anyClient(this.#reconnectTo) : this.#client;
          const reply = await client.request({ type: "close", session: this.sessionId });
          this.#end(reply.exit ? { ...reply.exit } : { code: null, signal: null, reason: "closed" });
        } catch (err) {
          // Already gone in the daemon, or the daemon with it: either way the session is over.
          if (!(err instanceof PtyError)) throw err;
          this.#end({ code: null, signal: null, reason: err.message, errorCode: err.code === "DAEMON_UNAVAILABLE" ? "DAEMON_UNAVAILABLE" : undefined });
        }
      } finally {
        this.#release();
      }
    })());
  }

  /** Stops following the session; the daemon keeps it running. Tells the daemon our read mark. */
  async detach(): Promise<void> {
    if (this.#detached) return;
    this.#detached = true;
    const mark = this.#readMark();
    try {
      if (!this.#exited || this.#exited.errorCode !== "DAEMON_UNAVAILABLE") {
        await this.#client.request({ type: "detach", session: this.sessionId, ...(mark !== undefined ? { read_mark: mark } : {}) });
      }
    } catch {
      // The daemon or the session is gone: nothing is attached any more.
    } finally {
      this.#release();
    }
  }

  get isDetached(): boolean {
    return this.#detached;
  }

  /** False once the daemon connection is gone (the mirror only has what it received). */
  get isConnected(): boolean {
    return !this.#detached && this.#connected && this.#exited?.errorCode !== "DAEMON_UNAVAILABLE" && !this.#client.isClosed;
  }

  #release(): void {
    for (const d of this.#disposables.splice(0)) d[Symbol.dispose]();
  }

  onData(listener: (bytes: Uint8Array) => void): Disposable {
    return this.#data.on(listener);
  }

  onExit(listener: (exit: TransportExit) => void): Disposable {
    return this.#exit.on(listener);
  }

  onGap(listener: (cursor: number) => void): Disposable {
    return this.#gap.on(listener);
  }

  onResized(listener: (size: { cols: number; rows: number }) => void): Disposable {
    return this.#resized.on(listener);
  }
}
