// The persistent-session daemon (SPEC §5): owns the PTYs of persistent sessions and serves
// them on a private Unix socket. Each session is the same core as an in-process one
// (`Session` over a `LocalTransport`: ring buffer, screen, classifier); clients attach,
// get output PUSHED as it happens, type, resize and detach. A running session is never
// reaped; an ended one is kept for the retention time, then dropped.
import { chmodSync, readFileSync, unlinkSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { errorMessage, PtyError } from "../errors.ts";
import { openLocalSession } from "../local/open-local.ts";
import { buildSinks } from "../record/sinks.ts";
import { heldSecrets } from "../secrets/held-secrets.ts";
import { redactingTransport } from "../secrets/redacting-transport.ts";
import { SessionRegistry } from "../session/registry.ts";
import { VERSION } from "../version.ts";
import { Connection, exitInfo, type DaemonHost, type Hosted } from "./connection.ts";
import { PROTOCOL_VERSIONS, type ExitInfo, type Request, type SessionInfo } from "./protocol.ts";
import { acquireInstanceLock, ensureSocketDirectory, removeStaleSocket, type InstanceLock } from "./socket-path.ts";

export const DEFAULT_RETENTION_MS = 24 * 60 * 60 * 1000;
/** Longest setTimeout delay (≈ 24.8 days); a longer retention is clamped to it. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Connections that have not said hello yet, at most. */
const MAX_CONNECTIONS_BEFORE_HELLO = 16;
/** All frame buffers of all connections together (20 partial 16 MB frames took RSS from 66 to 428 MB). */
const PARTIAL_FRAME_BUDGET_BYTES = 64 * 1024 * 1024;

/**
 * At most this many connections, and never more than a quarter of the fd limit: sessions need
 * fds too (with 256 fds, 300 idle connections made every create fail).
 */
function connectionCap(): number {
  let softLimit = 1024;
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    if (match) softLimit = Number(match[1]);
  } catch {
    // not Linux: assume the common default
  }
  return Math.max(8, Math.min(256, Math.floor(softLimit / 4)));
}

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

export class Daemon implements DaemonHost {
  readonly socketPath: string;
  readonly retentionMs: number;
  readonly sessions = new SessionRegistry();
  readonly #hosted = new Map<string, Hosted>();
  readonly #connections = new Set<Connection>();
  readonly #maxConnections = connectionCap();
  #refusedConnections = 0;
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

  /** What the daemon holds, for the memory report (cli/memory-report.ts). */
  counts(): Record<string, number> {
    return { sessions: this.sessions.list().length, hosted: this.#hosted.size, connections: this.#connections.size };
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
    // Too many waiting for their hello: the oldest goes (a real client says hello within
    // milliseconds, so a flood of silent connections cannot keep it out).
    const waiting = [...this.#connections].filter((c) => !c.saidHello);
    if (waiting.length >= MAX_CONNECTIONS_BEFORE_HELLO) waiting[0]?.destroy();
    if (this.#connections.size >= this.#maxConnections) {
      this.#refusedConnections++;
      // Once per burst in the log, not once per connection.
      if (this.#refusedConnections === 1 || this.#refusedConnections % 1000 === 0) {
        this.#log(`refused a connection: ${this.#connections.size} open (cap ${this.#maxConnections}); ${this.#refusedConnections} refused so far`);
      }
      socket.destroy();
      return;
    }
    const conn = new Connection(this, socket);
    this.#connections.add(conn);
    socket.once("close", () => {
      this.#connections.delete(conn);
      conn.dispose();
    });
  }

  /** Frame buffers of every connection, beyond their initial size. */
  get bufferedFrameBytes(): number {
    let total = 0;
    for (const conn of this.#connections) total += conn.bufferedBytes;
    return total;
  }

  get partialFrameBudget(): number {
    return PARTIAL_FRAME_BUDGET_BYTES;
  }

  log(line: string): void {
    this.#log(line);
  }

  /** Redacts `secret` from what the daemon keeps until the session is removed (closed or expired). */
  holdSecret(hosted: Hosted, secret: Uint8Array): void {
    hosted.disposables.push(heldSecrets.hold(secret));
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

  async create(request: Extract<Request, { type: "create" }>): Promise<Hosted> {
    const sinks = () =>
      buildSinks({
        log_file: request.log_file,
        log_max_size: request.log_max_size,
        log_max_files: request.log_max_files,
        record: request.record,
        cols: request.cols,
        rows: request.rows,
      });
    // The agent's mirror answers pagers (auto_pager); the daemon's copy only records the wish.
    const session = await openLocalSession(this.sessions, {
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
      // Secrets typed into it (hold_secret) are redacted before the buffer, screen, sinks and
      // every client see the output: a server that reattaches later never reads them in clear.
      wrapTransport: (transport) => redactingTransport(transport, heldSecrets),
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
    const pid = session.description.type === "local" ? session.description.pid : undefined;
    this.#log(`created ${session.id} (pid ${String(pid)}): ${session.target}`);
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
    const description = session.description.type === "local" ? session.description : undefined;
    if (description?.pid !== undefined) info.pid = description.pid;
    const prompt = c.prompt ?? session.lastPrompt;
    if (prompt) info.last_prompt = prompt;
    if (session.exit) info.exit = exitInfo(session.exit);
    if (hosted.exitedAt) info.exited_at = hosted.exitedAt.toISOString();
    if (hosted.expiresAt) info.expires_at = hosted.expiresAt.toISOString();
    if (hosted.logFile) info.log_file = hosted.logFile;
    // The protocol names the shells a mirror can hook the same way (fish is hooked by its own rc file only).
    if (description?.shell === "bash" || description?.shell === "zsh") info.shell = description.shell;
    return info;
  }

  list(): SessionInfo[] {
    return [...this.#hosted.values()].map((h) => this.info(h));
  }
}
