// The persistent-session daemon (SPEC §5): owns the PTYs of persistent sessions and serves
// them on a private Unix socket. Each session is the same core as an in-process one
// (`Session` over a `LocalTransport`: ring buffer, screen, classifier); clients attach,
// get output PUSHED as it happens, type, resize and detach. A running session is never
// reaped; an ended one is kept for the retention time, then dropped.
import { chmodSync, unlinkSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { errorMessage, PtyError } from "../errors.ts";
import { openLocalSession } from "../local/open-local.ts";
import { buildSinks } from "../record/sinks.ts";
import { SessionRegistry } from "../session/registry.ts";
import type { Session } from "../session/session.ts";
import { VERSION } from "../version.ts";
import {
  clientHelloSchema,
  encodeFrame,
  FrameDecoder,
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
import { acquireInstanceLock, ensureSocketDirectory, removeStaleSocket, type InstanceLock } from "./socket-path.ts";

export const DEFAULT_RETENTION_MS = 24 * 60 * 60 * 1000;
/** Longest setTimeout delay (≈ 24.8 days); a longer retention is clamped to it. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A client whose socket holds this much unsent output is paused and caught up from the ring buffer on drain. */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;

export interface DaemonOptions {
  socketPath: string;
  /** How long an ended session stays listed and readable (default 24 h). */
  retentionMs?: number;
  /** One line per event worth knowing (the daemon's log file). */
  log?: (line: string) => void;
}

/** Another daemon holds the socket's instance lock. */
export class DaemonRunning extends Error {
  constructor(readonly socketPath: string) {
    super(`a pty-mcp daemon is already running on ${socketPath}`);
  }
}

/** What the daemon keeps beside each Session. */
interface Hosted {
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

export class Daemon {
  readonly socketPath: string;
  readonly retentionMs: number;
  readonly sessions = new SessionRegistry();
  readonly #hosted = new Map<string, Hosted>();
  readonly #connections = new Set<Connection>();
  readonly #log: (line: string) => void;
  #server: Server | undefined;
  #lock: InstanceLock | undefined;
  #stopped: Promise<void> | undefined;

  private constructor(options: DaemonOptions) {
    this.socketPath = options.socketPath;
    this.retentionMs = Math.min(MAX_TIMER_MS, Math.max(0, options.retentionMs ?? DEFAULT_RETENTION_MS));
    this.#log = options.log ?? (() => undefined);
  }

  /**
   * Checks the directory (created 0700 if absent), takes the instance lock (throws
   * DaemonRunning if another daemon has it), removes a stale socket a dead daemon left, and
   * listens (socket 0600).
   */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const daemon = new Daemon(options);
    ensureSocketDirectory(options.socketPath, { create: true });
    const lock = acquireInstanceLock(options.socketPath);
    if (!lock) throw new DaemonRunning(options.socketPath);
    daemon.#lock = lock;
    try {
      // Holding the lock proves no daemon serves a socket standing here: it is stale.
      if (removeStaleSocket(options.socketPath)) daemon.#log(`removed a stale socket at ${options.socketPath}`);
      const server = createServer((socket) => daemon.#accept(socket));
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.socketPath, () => {
          server.off("error", reject);
          resolve();
        });
      });
      server.on("error", (err) => daemon.#log(`server error: ${errorMessage(err)}`));
      chmodSync(options.socketPath, 0o600);
      daemon.#server = server;
    } catch (err) {
      lock.release();
      throw err;
    }
    daemon.#log(`pty-mcp ${VERSION} daemon listening on ${options.socketPath} (pid ${process.pid}, protocol ${PROTOCOL_VERSIONS.join(",")}, retention ${daemon.retentionMs} ms)`);
    return daemon;
  }

  /** Ends every session (SIGHUP, then SIGKILL), closes the socket and releases the lock. */
  stop(): Promise<void> {
    return (this.#stopped ??= (async () => {
      this.#log("stopping: ending all sessions");
      this.#server?.close();
      for (const conn of this.#connections) conn.destroy();
      for (const hosted of this.#hosted.values()) if (hosted.retention) clearTimeout(hosted.retention);
      await this.sessions.closeAll();
      try {
        unlinkSync(this.socketPath);
      } catch {
        // already gone
      }
      this.#lock?.release();
    })());
  }

  #accept(socket: Socket): void {
    const conn = new Connection(this, socket);
    this.#connections.add(conn);
    socket.once("close", () => {
      this.#connections.delete(conn);
      conn.dispose();
    });
  }

  log(line: string): void {
    this.#log(line);
  }

  hostedOrThrow(id: string): Hosted {
    const hosted = this.#hosted.get(id);
    if (!hosted) {
      throw new PtyError("SESSION_NOT_FOUND", `No persistent session "${id}" in the daemon: it was closed, expired after ending, or ended with an earlier daemon. list_remote_sessions shows the daemon's sessions.`);
    }
    return hosted;
  }

  /** Runs `task` after the session's earlier requests. */
  inOrder<T>(id: string, task: () => Promise<T>): Promise<T> {
    const hosted = this.#hosted.get(id);
    if (!hosted) return task();
    const run = hosted.queue.then(task, task);
    hosted.queue = run.catch(() => undefined);
    return run;
  }

  create(request: Extract<Request, { type: "create" }>): Hosted {
    const sinks = buildSinks({
      log_file: request.log_file,
      log_max_size: request.log_max_size,
      log_max_files: request.log_max_files,
      record: request.record,
      cols: request.cols,
      rows: request.rows,
    });
    // The agent's mirror answers pagers (auto_pager); the daemon's copy only records the wish.
    const session = openLocalSession(this.sessions, {
      command: request.command,
      args: request.args,
      cwd: request.cwd,
      env: request.env,
      name: request.name,
      cols: request.cols,
      rows: request.rows,
      sinks,
      // The markers flow to every attached mirror with the raw bytes: each knows completion exactly.
      shellIntegration: request.shell_integration,
      persistent: true,
    });
    const hosted: Hosted = { session, attachments: new Set(), readMark: 0, autoPager: request.auto_pager ?? false, queue: Promise.resolve(), disposables: [] };
    if (request.log_file) hosted.logFile = request.log_file;
    this.#hosted.set(session.id, hosted);
    hosted.disposables.push(
      session.onOutput(() => {
        for (const attachment of hosted.attachments) attachment.flush();
      }),
      // Registered after the Session's own listener: session.exit is set when this runs.
      session.transport.onExit((exit) => this.#ended(hosted, exit)),
    );
    this.#log(`created ${session.id} (pid ${String(session.details.pid)}): ${session.target}`);
    return hosted;
  }

  #ended(hosted: Hosted, exit: ExitInfo): void {
    for (const attachment of hosted.attachments) attachment.exited();
    if (this.#hosted.get(hosted.session.id) !== hosted) return; // ended by remove(): nothing to keep
    hosted.exitedAt = new Date();
    hosted.expiresAt = new Date(hosted.exitedAt.getTime() + this.retentionMs);
    hosted.retention = setTimeout(() => void this.remove(hosted.session.id, "expired after ending (retention time)"), this.retentionMs);
    this.#log(`${hosted.session.id} ended (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`}); kept until ${hosted.expiresAt.toISOString()}`);
  }

  /** Ends the session's program and forgets the session, telling attached clients. */
  async remove(id: string, reason: string): Promise<ExitInfo | undefined> {
    const hosted = this.#hosted.get(id);
    if (!hosted) return undefined;
    this.#hosted.delete(id);
    if (hosted.retention) clearTimeout(hosted.retention);
    if (this.sessions.get(id)) await this.sessions.close(id);
    for (const d of hosted.disposables) d[Symbol.dispose]();
    const exit = hosted.session.exit;
    for (const attachment of [...hosted.attachments]) {
      attachment.exited();
      attachment.conn.sendEvent({ type: "closed", session: id, reason });
      attachment.dispose();
    }
    this.#log(`removed ${id}: ${reason}`);
    return exit ? exitInfo(exit) : undefined;
  }

  info(hosted: Hosted): SessionInfo {
    const { session } = hosted;
    const c = session.classify();
    const info: SessionInfo = {
      id: session.id,
      type: "local",
      target: session.target,
      cols: session.size.cols,
      rows: session.size.rows,
      created_at: session.createdAt.toISOString(),
      last_used: session.lastUsed.toISOString(),
      is_alive: session.isAlive,
      start: session.buffer.start,
      end: session.buffer.end,
      read_mark: hosted.readMark,
      clients: hosted.attachments.size,
      state: c.state,
      auto_pager: hosted.autoPager,
    };
    if (session.name) info.name = session.name;
    if (typeof session.details.pid === "number") info.pid = session.details.pid;
    const prompt = c.prompt ?? session.lastPrompt;
    if (prompt) info.last_prompt = prompt;
    if (session.exit) info.exit = exitInfo(session.exit);
    if (hosted.exitedAt) info.exited_at = hosted.exitedAt.toISOString();
    if (hosted.expiresAt) info.expires_at = hosted.expiresAt.toISOString();
    if (hosted.logFile) info.log_file = hosted.logFile;
    if (session.details.shell === "bash" || session.details.shell === "zsh") info.shell = session.details.shell;
    return info;
  }

  list(): SessionInfo[] {
    return [...this.#hosted.values()].map((h) => this.info(h));
  }
}

function exitInfo(exit: { code: number | null; signal: string | null; reason?: string }): ExitInfo {
  const info: ExitInfo = { code: exit.code, signal: exit.signal };
  if (exit.reason) info.reason = exit.reason;
  return info;
}

/** One session's output flowing to one connection. */
class Attachment {
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
class Connection {
  readonly attachments = new Map<string, Attachment>();
  readonly #decoder = new FrameDecoder();
  #client = "";
  #version: number | undefined;
  #closed = false;

  constructor(
    readonly daemon: Daemon,
    readonly socket: Socket,
  ) {
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", (err) => daemon.log(`connection error (${this.#client || "before hello"}): ${errorMessage(err)}`));
    socket.on("drain", () => {
      for (const attachment of this.attachments.values()) attachment.flush();
    });
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
    for (const attachment of [...this.attachments.values()]) attachment.dispose();
    if (this.#client) this.daemon.log(`disconnected: ${this.#client}`);
  }

  #onData(chunk: Uint8Array): void {
    let frames;
    try {
      frames = this.#decoder.push(chunk);
    } catch (err) {
      this.daemon.log(`protocol error from ${this.#client || "a client"}: ${errorMessage(err)}; closing it`);
      this.socket.destroy();
      return;
    }
    for (const frame of frames) {
      if (this.#version === undefined) {
        if (!this.#hello(frame.header)) return;
        continue;
      }
      this.#request(frame.header, frame.body);
    }
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
        const hosted = daemon.create(request);
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
