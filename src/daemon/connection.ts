// The daemon's side of one client stream (Connection) and one session's output flowing to one
// connection (Attachment): hello, requests in order per session, pushed output with backpressure.
import type { Socket } from "node:net";
import { errorMessage, PtyError } from "../errors.ts";
import type { Session } from "../session/session.ts";
import { VERSION } from "../version.ts";
import {
  clientHelloSchema,
  encodeFrame,
  FrameDecoder,
  MAX_FRAME_BYTES,
  MAX_OUTPUT_CHUNK,
  negotiateVersion,
  PROTOCOL_NAME,
  PROTOCOL_VERSIONS,
  requestSchema,
  type DaemonHello,
  type Event,
  type ExitInfo,
  type HelloRefused,
  type Reply,
  type ReplyResults,
  type Request,
  type RequestType,
  type SessionInfo,
} from "./protocol.ts";

/** A client whose socket holds this much unsent output is paused and caught up from the ring buffer on drain. */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** A connection that has not said hello by then is closed (an idle one held an fd forever). */
const HELLO_DEADLINE_MS = 5_000;
/** A hello is small: before it, no frame may be larger. */
const MAX_HELLO_FRAME_BYTES = 64 * 1024;

/** What the daemon keeps beside each Session. */
export interface Hosted {
  session: Session;
  attachments: Set<Attachment>;
  /** Read mark last reported by an agent. */
  readMark: number;
  autoPager: boolean;
  logFile?: string;
  exitedAt?: Date;
  expiresAt?: Date;
  retention?: Timer;
  /** Requests on one session run in order (write after write, resize before attach). */
  queue: Promise<unknown>;
  disposables: Disposable[];
}

/** What a connection asks of the daemon (Daemon implements it). */
export interface DaemonHost {
  log(line: string): void;
  hostedOrThrow(id: string): Hosted;
  inOrder<T>(id: string, task: () => Promise<T>): Promise<T>;
  create(request: Extract<Request, { type: "create" }>): Promise<Hosted>;
  remove(id: string, reason: string): Promise<ExitInfo | undefined>;
  info(hosted: Hosted): SessionInfo;
  list(): SessionInfo[];
  holdSecret(hosted: Hosted, secret: Uint8Array): void;
  /** Frame buffers of every connection, beyond their initial size; and the budget they share. */
  readonly bufferedFrameBytes: number;
  readonly partialFrameBudget: number;
}

export function exitInfo(exit: { code: number | null; signal: string | null; reason?: string }): ExitInfo {
  const info: ExitInfo = { code: exit.code, signal: exit.signal };
  if (exit.reason) info.reason = exit.reason;
  return info;
}

/** One session's output flowing to one connection. */
export class Attachment {
  /** Next output cursor to send. */
  #next: number;
  #exitPending = false;
  #exitSent = false;
  #disposed = false;

  constructor(
    readonly hosted: Hosted,
    readonly conn: Connection,
    from: number,
  ) {
    this.#next = from;
  }

  /** Sends what the client does not have yet, unless its socket is congested (then `drain` calls again). */
  flush(): void {
    if (this.#disposed) return;
    const { session } = this.hosted;
    const buffer = session.buffer;
    while (this.#next < buffer.end) {
      if (this.conn.congested) return;
      // Output lost while the client lagged: the event's cursor jumps and the client sees the gap.
      const from = Math.max(this.#next, buffer.start);
      const to = Math.min(buffer.end, from + MAX_OUTPUT_CHUNK);
      const event: Event = { type: "output", session: session.id, cursor: from };
      const lflag = session.isAlive ? session.transport.capabilities?.localFlags?.() : undefined;
      if (lflag !== undefined) event.lflag = lflag;
      this.conn.sendEvent(event, buffer.slice(from, to));
      this.#next = to;
    }
    if (this.#exitPending && !this.#exitSent) {
      const exit = session.exit;
      if (!exit) return;
      this.#exitSent = true;
      this.conn.sendEvent({ type: "exit", session: session.id, ...exitInfo(exit) });
    }
  }

  exited(): void {
    this.#exitPending = true;
    this.flush();
  }

  dispose(): void {
    this.#disposed = true;
    this.hosted.attachments.delete(this);
    this.conn.attachments.delete(this.hosted.session.id);
  }
}

/** The daemon's side of one client stream. */
export class Connection {
  readonly attachments = new Map<string, Attachment>();
  readonly #decoder = new FrameDecoder({ maxFrameBytes: MAX_HELLO_FRAME_BYTES });
  #client = "";
  #version: number | undefined;
  #closed = false;
  readonly #helloDeadline: Timer;

  constructor(
    readonly daemon: DaemonHost,
    readonly socket: Socket,
  ) {
    this.#helloDeadline = setTimeout(() => {
      daemon.log(`closed a connection that sent no hello within ${HELLO_DEADLINE_MS / 1000} s`);
      socket.destroy();
    }, HELLO_DEADLINE_MS);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", (err) => daemon.log(`connection error (${this.#client || "before hello"}): ${errorMessage(err)}`));
    socket.on("drain", () => {
      for (const attachment of this.attachments.values()) attachment.flush();
    });
  }

  get saidHello(): boolean {
    return this.#version !== undefined;
  }

  /** What this connection's partial frames cost beyond an idle decoder. */
  get bufferedBytes(): number {
    return Math.max(0, this.#decoder.capacity - 64 * 1024);
  }

  get congested(): boolean {
    return this.socket.writableLength > HIGH_WATER_BYTES;
  }

  send(header: object, body?: Uint8Array): void {
    if (this.#closed || this.socket.destroyed) return;
    this.socket.write(encodeFrame(header, body));
  }

  sendEvent(event: Event, body?: Uint8Array): void {
    this.send(event, body);
  }

  destroy(): void {
    this.socket.destroy();
  }

  dispose(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#helloDeadline);
    for (const attachment of [...this.attachments.values()]) attachment.dispose();
    if (this.#client) this.daemon.log(`disconnected: ${this.#client}`);
  }

  #onData(chunk: Uint8Array): void {
    // Checked before the bytes are taken: a connection over the budget never grows its buffer.
    const growth = this.#decoder.capacityAfter(chunk.length) - this.#decoder.capacity;
    if (growth > 0 && this.daemon.bufferedFrameBytes + growth > this.daemon.partialFrameBudget) {
      this.daemon.log(`closed ${this.#client || "a client"}: partial frames of all connections would exceed ${this.daemon.partialFrameBudget} bytes`);
      this.socket.destroy();
      return;
    }
    let frames;
    try {
      // Before the hello only the hello is decoded (under the hello's size limit); the frames
      // after it, in the same chunk, are decoded once the limit is the protocol's.
      if (this.#version === undefined) {
        const [hello] = this.#decoder.push(chunk, 1);
        if (!hello) return;
        if (!this.#hello(hello.header)) return;
        chunk = new Uint8Array(0);
      }
      frames = this.#decoder.push(chunk);
    } catch (err) {
      this.daemon.log(`protocol error from ${this.#client || "a client"}: ${errorMessage(err)}; closing it`);
      this.socket.destroy();
      return;
    }
    for (const frame of frames) this.#request(frame.header, frame.body);
  }

  #hello(header: Record<string, unknown>): boolean {
    const hello = clientHelloSchema.safeParse(header);
    const version = hello.success ? negotiateVersion(hello.data.versions) : undefined;
    if (!hello.success || version === undefined) {
      const refused: HelloRefused = {
        type: "hello_refused",
        protocol: PROTOCOL_NAME,
        versions: [...PROTOCOL_VERSIONS],
        message: hello.success
          ? `This daemon (pty-mcp ${VERSION}) speaks protocol versions ${PROTOCOL_VERSIONS.join(", ")}; the client offered ${hello.data.versions.join(", ")}. Use the same pty-mcp version on both sides.`
          : "The first frame must be a pty-mcp hello.",
      };
      this.send(refused);
      this.socket.end();
      this.daemon.log(`refused a client: ${refused.message}`);
      return false;
    }
    this.#version = version;
    this.#client = hello.data.client;
    clearTimeout(this.#helloDeadline);
    this.#decoder.maxFrameBytes = MAX_FRAME_BYTES;
    const reply: DaemonHello = { type: "hello", protocol: PROTOCOL_NAME, version, daemon: `pty-mcp ${VERSION}`, pid: process.pid };
    this.send(reply);
    this.daemon.log(`connected: ${this.#client} (protocol ${version})`);
    return true;
  }

  #request(header: Record<string, unknown>, body: Uint8Array): void {
    const parsed = requestSchema.safeParse(header);
    if (!parsed.success) {
      const id = typeof header.id === "number" ? header.id : -1;
      const fields = parsed.error.issues.map((i) => `${i.path.join(".") || "request"}: ${i.message}`).join("; ");
      this.#reply(id, new PtyError("INVALID_ARGUMENT", `Bad daemon request: ${fields}.`));
      return;
    }
    const request = parsed.data;
    const session = "session" in request ? request.session : undefined;
    const task = async () => this.#handle(request, body);
    const run = session ? this.daemon.inOrder(session, task) : task();
    run.then(
      ({ result, after }) => {
        this.#reply(request.id, undefined, result);
        after?.();
      },
      (err: unknown) => this.#reply(request.id, err),
    );
  }

  #reply(id: number, err: unknown, result?: unknown): void {
    let reply: Reply;
    if (err === undefined) reply = { type: "reply", id, ok: true, result: result ?? {} };
    else if (err instanceof PtyError) reply = { type: "reply", id, ok: false, error: { code: err.code, message: err.message, retryable: err.retryable } };
    else {
      this.daemon.log(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      reply = { type: "reply", id, ok: false, error: { code: "INTERNAL_ERROR", message: `Internal error in the daemon: ${errorMessage(err)}.`, retryable: false } };
    }
    this.send(reply);
  }

  /** A request's result, and what to do right after the reply went out (start pushing output). */
  async #handle(request: Request, body: Uint8Array): Promise<{ result: ReplyResults[RequestType]; after?: () => void }> {
    const daemon = this.daemon;
    switch (request.type) {
      case "create": {
        const hosted = await daemon.create(request);
        return { result: { session: daemon.info(hosted) } };
      }
      case "attach": {
        const hosted = daemon.hostedOrThrow(request.session);
        const { session } = hosted;
        this.attachments.get(request.session)?.dispose();
        let from: number;
        let screen: string | undefined;
        if (request.screen) {
          const s = await session.screen.serialize();
          screen = s.ansi;
          from = s.cursor;
        } else {
          from = request.from ?? session.buffer.start;
          if (from > session.buffer.end) {
            throw new PtyError("INVALID_ARGUMENT", `Cursor ${from} is beyond the end of ${session.id}'s output (${session.buffer.end}).`);
          }
        }
        if (daemon.hostedOrThrow(session.id) !== hosted) throw new PtyError("SESSION_NOT_FOUND", `Session ${session.id} was closed while attaching.`);
        const truncated = from < session.buffer.start;
        const start = Math.max(from, session.buffer.start);
        const attachment = new Attachment(hosted, this, start);
        this.attachments.set(session.id, attachment);
        hosted.attachments.add(attachment);
        const result: ReplyResults["attach"] = { session: daemon.info(hosted), from: start, is_truncated: truncated };
        if (screen !== undefined) result.screen = screen;
        daemon.log(`${this.#client} attached to ${session.id} from ${start}${truncated ? " (truncated)" : ""}`);
        return {
          result,
          after: () => {
            if (session.exit) attachment.exited();
            else attachment.flush();
          },
        };
      }
      case "detach": {
        const hosted = daemon.hostedOrThrow(request.session);
        if (request.read_mark !== undefined) hosted.readMark = Math.max(hosted.readMark, request.read_mark);
        this.attachments.get(request.session)?.dispose();
        return { result: {} };
      }
      case "write": {
        const hosted = daemon.hostedOrThrow(request.session);
        if (request.read_mark !== undefined) hosted.readMark = Math.max(hosted.readMark, request.read_mark);
        await hosted.session.write(body, { kind: "raw" });
        return { result: {} };
      }
      case "hold_secret": {
        const hosted = daemon.hostedOrThrow(request.session);
        daemon.holdSecret(hosted, body);
        body.fill(0);
        return { result: {} };
      }
      case "resize": {
        const hosted = daemon.hostedOrThrow(request.session);
        const size = { cols: request.cols, rows: request.rows };
        const before = hosted.session.size;
        await hosted.session.resize(size);
        if (before.cols !== size.cols || before.rows !== size.rows) {
          for (const attachment of hosted.attachments) {
            if (attachment.conn !== this) attachment.conn.sendEvent({ type: "resized", session: request.session, ...size });
          }
        }
        return { result: {} };
      }
      case "signal": {
        const hosted = daemon.hostedOrThrow(request.session);
        const signal = hosted.session.transport.capabilities?.signal;
        if (!hosted.session.isAlive || !signal) throw new PtyError("SESSION_CLOSED", `Session ${request.session} has ended.`);
        signal(request.signal);
        return { result: {} };
      }
      case "close": {
        daemon.hostedOrThrow(request.session);
        const exit = await daemon.remove(request.session, "closed by a client");
        return { result: exit ? { exit } : {} };
      }
      case "list":
        return { result: { sessions: daemon.list() } };
      case "state":
        return { result: { session: daemon.info(daemon.hostedOrThrow(request.session)) } };
    }
  }
}
