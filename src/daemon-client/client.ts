// The client side of the daemon protocol: a request/reply and event layer over any byte
// stream (`ByteStream`: a Unix socket here, an SSH exec channel running `pty-mcp client` for
// remote hosts), plus connecting to the local socket and starting the daemon on demand.
import { daemonEnvironment } from "../child-env.ts";
import { closeSync, openSync, renameSync, statSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { errorMessage, isErrorCode, PtyError } from "../errors.ts";
import { VERSION } from "../version.ts";
import {
  clientHello,
  encodeFrame,
  daemonHelloSchema,
  eventSchema,
  replySchema,
  resultSchemas,
  FrameDecoder,
  PROTOCOL_NAME,
  ProtocolError,
  type DaemonHello,
  type Event,
  type ReplyResults,
  type RequestOf,
  type RequestType,
} from "../daemon/protocol.ts";
import { checkSocketFile, defaultSocketPath, ensureSocketDirectory, LOG_NAME } from "../daemon/socket-path.ts";

/** A duplex byte stream the protocol runs over. */
export interface ByteStream {
  /** Queues bytes; never throws (a dead stream reports through onClose). */
  write(bytes: Uint8Array): void;
  /** Ends the stream. */
  end(): void;
  onData(listener: (chunk: Uint8Array) => void): void;
  /** Called once, when the stream is gone (with the error, if any). */
  onClose(listener: (error?: Error) => void): void;
}

/** A node:net socket as a ByteStream. */
export function socketStream(socket: Socket): ByteStream {
  let error: Error | undefined;
  socket.on("error", (err) => (error = err));
  return {
    write: (bytes) => {
      if (!socket.destroyed) socket.write(bytes);
    },
    end: () => socket.end(),
    onData: (listener) => socket.on("data", (chunk: Buffer) => listener(chunk)),
    onClose: (listener) => socket.once("close", () => listener(error)),
  };
}

export type EventListener = (event: Event, body: Uint8Array) => void;

const HELLO_TIMEOUT_MS = 10_000;

/**
 * One connection to a daemon after the hello: `request()` sends a request and resolves with
 * its result (rejects with a PtyError carrying the daemon's code); events are delivered to
 * the listeners of their session. When the stream ends every pending request rejects with
 * DAEMON_UNAVAILABLE and `onClose` listeners run.
 */
export class DaemonClient {
  readonly hello: DaemonHello;
  readonly #stream: ByteStream;
  readonly #decoder: FrameDecoder;
  readonly #pending = new Map<number, { type: RequestType; resolve: (result: unknown) => void; reject: (err: Error) => void }>();
  readonly #listeners = new Map<string, Set<EventListener>>();
  readonly #closeListeners = new Set<(reason: string) => void>();
  #nextId = 1;
  #closed: string | undefined;

  private constructor(stream: ByteStream, decoder: FrameDecoder, hello: DaemonHello) {
    this.#stream = stream;
    this.#decoder = decoder;
    this.hello = hello;
  }

  /** Says hello over `stream` and resolves once the daemon agreed on a version. */
  static handshake(stream: ByteStream, options: { client?: string; timeoutMs?: number; describe?: string } = {}): Promise<DaemonClient> {
    const where = options.describe ?? "the daemon";
    return new Promise<DaemonClient>((resolve, reject) => {
      const decoder = new FrameDecoder();
      let client: DaemonClient | undefined;
      let settled = false;
      const fail = (message: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        stream.end();
        reject(new PtyError("DAEMON_UNAVAILABLE", message, true));
      };
      const timer = setTimeout(() => fail(`No hello from ${where} within ${(options.timeoutMs ?? HELLO_TIMEOUT_MS) / 1000} s. Is something else listening there?`), options.timeoutMs ?? HELLO_TIMEOUT_MS);
      stream.onData((chunk) => {
        if (client) return client.#onData(chunk);
        let frames;
        try {
          frames = decoder.push(chunk);
        } catch (err) {
          return fail(`${where} does not speak the pty-mcp protocol (${errorMessage(err)}).`);
        }
        const [first, ...rest] = frames;
        if (!first) return;
        const h = first.header;
        if (h.protocol !== PROTOCOL_NAME) return fail(`${where} does not speak the pty-mcp protocol.`);
        if (h.type === "hello_refused") return fail(`${where} refused us: ${String(h.message)}`);
        const hello = daemonHelloSchema.safeParse(h);
        if (!hello.success) return fail(`${where} sent no valid hello (${issues(hello.error)}).`);
        settled = true;
        clearTimeout(timer);
        client = new DaemonClient(stream, decoder, hello.data);
        for (const frame of rest) client.#frame(frame.header, frame.body);
        resolve(client);
      });
      stream.onClose((err) => {
        if (client) client.#onClose(err ? errorMessage(err) : "the connection closed");
        else fail(`${where} closed the connection during the hello${err ? ` (${errorMessage(err)})` : ""}.`);
      });
      stream.write(encodeFrame(clientHello(options.client ?? `pty-mcp ${VERSION}`)));
    });
  }

  get isClosed(): boolean {
    return this.#closed !== undefined;
  }

  /** Sends a request; resolves with the daemon's result or rejects with its error as a PtyError. */
  request<T extends RequestType>(request: RequestOf<T> & { type: T }, body?: Uint8Array): Promise<ReplyResults[T]> {
    if (this.#closed !== undefined) return Promise.reject(unavailable(this.#closed));
    const id = this.#nextId++;
    return new Promise<ReplyResults[T]>((resolve, reject) => {
      this.#pending.set(id, { type: request.type, resolve: resolve as (r: unknown) => void, reject });
      this.#stream.write(encodeFrame({ ...request, id }, body));
    });
  }

  /** Requests waiting for their reply, sessions with listeners, listeners: for the memory report (cli/memory-report.ts). */
  counts(): { pending: number; subscribed_sessions: number; subscribers: number; close_listeners: number } {
    let subscribers = 0;
    for (const set of this.#listeners.values()) subscribers += set.size;
    return { pending: this.#pending.size, subscribed_sessions: this.#listeners.size, subscribers, close_listeners: this.#closeListeners.size };
  }

  /** Events of one session (output, exit, resized, closed). */
  subscribe(session: string, listener: EventListener): Disposable {
    let set = this.#listeners.get(session);
    if (!set) this.#listeners.set(session, (set = new Set()));
    set.add(listener);
    return {
      [Symbol.dispose]: () => {
        set.delete(listener);
        if (set.size === 0 && this.#listeners.get(session) === set) this.#listeners.delete(session);
      },
    };
  }

  /** Runs once when the connection is gone, with a reason for messages. */
  onClose(listener: (reason: string) => void): Disposable {
    if (this.#closed !== undefined) {
      listener(this.#closed);
      return { [Symbol.dispose]: () => undefined };
    }
    this.#closeListeners.add(listener);
    return { [Symbol.dispose]: () => void this.#closeListeners.delete(listener) };
  }

  close(): void {
    this.#stream.end();
  }

  #onData(chunk: Uint8Array): void {
    let frames;
    try {
      frames = this.#decoder.push(chunk);
    } catch (err) {
      this.#protocolError(errorMessage(err));
      return;
    }
    for (const frame of frames) this.#frame(frame.header, frame.body);
  }

  /**
   * Every frame is checked against its schema before anything reads it (a peer is outside
   * input): a frame that does not fit ends the connection, as a malformed one does, and nothing
   * a frame carries can throw out of here.
   */
  #frame(header: Record<string, unknown>, body: Uint8Array): void {
    try {
      this.#dispatch(header, body);
    } catch (err) {
      this.#protocolError(err instanceof ProtocolError ? err.message : `a ${String(header.type).slice(0, 20)} frame could not be handled: ${errorMessage(err)}`);
    }
  }

  #dispatch(header: Record<string, unknown>, body: Uint8Array): void {
    if (this.#closed !== undefined) return;
    if (header.type === "reply") {
      const reply = replySchema.safeParse(header);
      if (!reply.success) throw new ProtocolError(`bad reply (${issues(reply.error)})`);
      const pending = this.#pending.get(reply.data.id);
      if (!pending) return;
      this.#pending.delete(reply.data.id);
      if (reply.data.ok) {
        const result = resultSchemas[pending.type].safeParse(reply.data.result ?? {});
        if (!result.success) {
          pending.reject(new PtyError("PROTOCOL_ERROR", `The daemon's ${pending.type} reply is malformed (${issues(result.error)}).`));
          throw new ProtocolError(`bad ${pending.type} result (${issues(result.error)})`);
        }
        pending.resolve(result.data);
      } else {
        const { code, message, retryable } = reply.data.error;
        pending.reject(new PtyError(isErrorCode(code) ? code : "INTERNAL_ERROR", message, retryable));
      }
      return;
    }
    const event = eventSchema.safeParse(header);
    if (!event.success) {
      // A type this build does not know is a newer daemon's: ignored. A known one must fit.
      if (typeof header.type === "string" && !KNOWN_EVENTS.has(header.type)) return;
      throw new ProtocolError(`bad ${String(header.type).slice(0, 20)} event (${issues(event.error)})`);
    }
    const listeners = this.#listeners.get(event.data.session);
    if (!listeners) return;
    for (const listener of [...listeners]) listener(event.data, body);
  }

  #protocolError(reason: string): void {
    this.#onClose(`protocol error: ${reason}`);
    this.#stream.end();
  }

  #onClose(reason: string): void {
    if (this.#closed !== undefined) return;
    this.#closed = reason;
    for (const pending of this.#pending.values()) pending.reject(unavailable(reason));
    this.#pending.clear();
    for (const listener of [...this.#closeListeners]) listener(reason);
    this.#closeListeners.clear();
  }
}

const KNOWN_EVENTS: ReadonlySet<string> = new Set(["output", "exit", "resized", "closed"]);

function issues(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join(".") || "frame"}: ${i.message}`)
    .join("; ")
    .slice(0, 300);
}

function unavailable(reason: string): PtyError {
  return new PtyError("DAEMON_UNAVAILABLE", `Lost the connection to the pty-mcp daemon (${reason}). Persistent sessions keep running if the daemon does; reattach with create_local_session {session_id}.`, true);
}

// ---- the local socket ----------------------------------------------------------------------

export interface ConnectOptions {
  /** Default: defaultSocketPath(). */
  socketPath?: string;
  /** Start the daemon when none is listening (MCP server, `pty-mcp client`). */
  autostart?: boolean;
  /** Says who we are in the daemon's log. */
  client?: string;
}

/** Opens the Unix socket; rejects with the errno code (ENOENT, ECONNREFUSED …). */
export function openSocket(socketPath: string): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const socket = createConnection({ path: socketPath });
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/**
 * Connects to the local daemon and says hello. With `autostart`, a daemon is started when
 * none listens (detached, logging to `daemon.log` beside the socket). Failures are
 * DAEMON_UNAVAILABLE with what to do.
 */
export async function connectDaemon(options: ConnectOptions = {}): Promise<DaemonClient> {
  const socketPath = options.socketPath ?? defaultSocketPath();
  const socket = await openDaemonSocket({ ...options, socketPath });
  return DaemonClient.handshake(socketStream(socket), { client: options.client, describe: `the daemon at ${socketPath}` });
}

/**
 * The connected socket, before any hello (`pty-mcp client` bridges it as it is). Checks the
 * directory rules of socket-path.ts first; starts a daemon when none listens and `autostart`.
 */
export async function openDaemonSocket(options: ConnectOptions = {}): Promise<Socket> {
  const socketPath = options.socketPath ?? defaultSocketPath();
  const autostart = options.autostart ?? false;
  try {
    ensureSocketDirectory(socketPath, { create: autostart });
  } catch (err) {
    if (!autostart && err instanceof PtyError && err.retryable) throw notRunning(`No pty-mcp daemon is running (no ${dirname(socketPath)}).`, err);
    throw err;
  }
  try {
    checkSocketFile(socketPath);
    return await openSocket(socketPath);
  } catch (err) {
    if (err instanceof PtyError) throw err;
    const code = (err as { code?: string }).code;
    if (code !== "ENOENT" && code !== "ECONNREFUSED") throw new PtyError("DAEMON_UNAVAILABLE", `Cannot connect to the daemon at ${socketPath}: ${errorMessage(err)}.`, true, { cause: err });
    if (!autostart) throw notRunning(`No pty-mcp daemon is running on ${socketPath}.`, err);
    return startDaemon(socketPath);
  }
}

/** DAEMON_UNAVAILABLE because no daemon runs (details.daemon_running false), as opposed to one that failed. */
function notRunning(message: string, cause: unknown): PtyError {
  return new PtyError("DAEMON_UNAVAILABLE", message, true, { cause, details: { daemon_running: false } });
}

/** True for the error connectDaemon() throws when no daemon runs (and autostart was off). */
export function isNotRunning(err: unknown): boolean {
  return err instanceof PtyError && err.details?.daemon_running === false;
}

/** argv that runs this same program (the compiled binary, or bun with the entry script). */
export function selfArgv(): string[] {
  const main = Bun.main;
  if (main.startsWith("/$bunfs/") || main.startsWith("B:/~BUN/")) return [process.execPath];
  return [process.execPath, main];
}

const START_TIMEOUT_MS = 10_000;
/** Rotate daemon.log past this size when a daemon starts. */
const LOG_ROTATE_BYTES = 10 * 1024 * 1024;

/**
 * Starts `pty-mcp daemon --foreground` detached (own session, stdin closed, stderr to
 * daemon.log), waits for its "listening" line on stdout, and connects. If another daemon won
 * the race for the lock, connects to that one.
 */
export async function startDaemon(socketPath: string): Promise<Socket> {
  const log = join(dirname(socketPath), LOG_NAME);
  try {
    if (statSync(log).size > LOG_ROTATE_BYTES) renameSync(log, `${log}.1`);
  } catch {
    // no log yet
  }
  const logFd = openSync(log, "a", 0o600);
  let proc: Bun.Subprocess<"ignore", "pipe", number>;
  try {
    proc = Bun.spawn([...selfArgv(), "daemon", "--foreground", "--socket", socketPath], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: logFd,
      detached: true,
      cwd: "/",
      env: daemonEnvironment(),
    });
  } catch (err) {
    throw new PtyError("DAEMON_UNAVAILABLE", `Could not start the pty-mcp daemon: ${errorMessage(err)}.`, true, { cause: err });
  } finally {
    closeSync(logFd);
  }
  const ready = await readFirstLine(proc.stdout, START_TIMEOUT_MS);
  proc.unref();
  if (ready === undefined) {
    // No "listening" line: it failed, or another daemon holds the lock (exit code 3) and will listen.
    const code = await Promise.race([proc.exited, new Promise<undefined>((resolve) => setTimeout(resolve, 1000, undefined))]);
    if (code !== 3) {
      throw new PtyError("DAEMON_UNAVAILABLE", `The pty-mcp daemon did not start (${code === undefined ? "no answer within 10 s" : `exit code ${code}`}). Its log: ${log}.`, true);
    }
  }
  // The socket accepts connections once the daemon printed its line; after a lost race the winner may still be binding.
  let lastError: unknown;
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      return await openSocket(socketPath);
    } catch (err) {
      lastError = err;
      await Bun.sleep(Math.min(200, 10 * 2 ** attempt));
    }
  }
  throw new PtyError("DAEMON_UNAVAILABLE", `Started the pty-mcp daemon but cannot connect to ${socketPath}: ${errorMessage(lastError)}. Its log: ${log}.`, true, { cause: lastError });
}

/** The first line of a stream (undefined at EOF or timeout); stops reading afterwards. */
async function readFirstLine(stream: ReadableStream<Uint8Array>, timeoutMs: number): Promise<string | undefined> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let timer: Timer | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), timeout]);
      if (next === "timeout" || next.done) return undefined;
      text += decoder.decode(next.value, { stream: true });
      const nl = text.indexOf("\n");
      if (nl >= 0) return text.slice(0, nl);
    }
  } finally {
    clearTimeout(timer);
    void reader.cancel().catch(() => undefined);
  }
}
