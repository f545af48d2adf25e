// The MCP server's side of persistent sessions: one shared connection to the local daemon
// (started on demand), and mirrors — ordinary Sessions over a DaemonTransport — that the
// tools use like any other session. Detaching a mirror leaves the daemon's session running.
import { resolve } from "node:path";
import { PtyError } from "../errors.ts";
import type { SessionRegistry } from "../session/registry.ts";
import { Session, type SessionType } from "../session/session.ts";
import { VERSION } from "../version.ts";
import { connectDaemon, isNotRunning, type DaemonClient } from "./client.ts";
import { DaemonTransport, type Reconnect } from "./daemon-transport.ts";
import type { SessionInfo } from "./protocol.ts";
import { defaultSocketPath } from "./socket-path.ts";

let shared: Promise<DaemonClient> | undefined;
/** Longest wait for a new mirror to receive the output the daemon holds (it streams at socket speed). */
const CATCH_UP_TIMEOUT_MS = 10_000;

/** The server's connection to the local daemon, connecting (and starting it) on first use. */
export async function daemonClient(options: { autostart?: boolean } = {}): Promise<DaemonClient> {
  const autostart = options.autostart ?? true;
  if (shared) {
    const client = await shared.catch(() => undefined);
    if (client && !client.isClosed) return client;
    shared = undefined;
  }
  const connecting = connectDaemon({ socketPath: defaultSocketPath(), autostart, client: `pty-mcp ${VERSION} serve (pid ${process.pid})` });
  shared = connecting;
  connecting.catch(() => {
    if (shared === connecting) shared = undefined;
  });
  return connecting;
}

export interface PersistentCreateOptions {
  command?: string;
  args?: string[];
  cwd?: string;
  env?: Record<string, string>;
  name?: string;
  cols: number;
  rows: number;
  autoPager?: boolean;
  shellIntegration?: boolean;
  logFile?: string;
  logMaxSize?: number;
  logMaxFiles?: number;
  record?: string;
}

/** Starts a session in the daemon and mirrors it here. */
export async function createPersistentLocal(registry: SessionRegistry, options: PersistentCreateOptions): Promise<{ session: Session; info: SessionInfo }> {
  registry.assertCapacity();
  const client = await daemonClient();
  const { session: info } = await client.request({
    type: "create",
    command: options.command,
    args: options.args,
    // The daemon runs elsewhere (cwd "/"): the session starts where an in-process one would.
    cwd: resolve(options.cwd ?? process.cwd()),
    env: options.env,
    name: options.name,
    cols: options.cols,
    rows: options.rows,
    auto_pager: options.autoPager,
    shell_integration: options.shellIntegration,
    log_file: options.logFile ? resolve(options.logFile) : undefined,
    log_max_size: options.logMaxSize,
    log_max_files: options.logMaxFiles,
    record: options.record ? resolve(options.record) : undefined,
  });
  try {
    return await mirrorDaemonSession(registry, client, info.id, { from: 0 });
  } catch (err) {
    // Mirroring failed: do not leave an orphan running in the daemon.
    await client.request({ type: "close", session: info.id }).catch(() => undefined);
    throw err;
  }
}

/** Reattaches to a daemon session by id (or returns the mirror this server already has). */
export async function reattachPersistent(registry: SessionRegistry, id: string): Promise<{ session: Session; info: SessionInfo; reattached: boolean }> {
  const existing = registry.get(id);
  if (existing) {
    if (!(existing.transport instanceof DaemonTransport)) {
      throw new PtyError("NOT_PERSISTENT", `Session ${id} is an in-process session of this server, not a persistent one; use it directly.`);
    }
    if (!existing.transport.isDetached && existing.transport.isConnected) {
      return { session: existing, info: existing.transport.attach.session, reattached: false };
    }
  } else {
    registry.assertCapacity();
  }
  const client = await daemonClient();
  // A mirror that lost its daemon stays readable until the new attachment replaces it.
  const mirrored = await mirrorDaemonSession(registry, client, id);
  if (existing) await existing.close().catch(() => undefined);
  return { ...mirrored, reattached: true };
}

/**
 * Attaches to session `id` of the daemon behind `client` and adds its mirror to `registry`
 * (replacing a stale mirror of the same id). Resolves once the mirror holds everything the
 * daemon held at attach time. `from` defaults to the oldest byte the daemon holds; `type` and
 * `target` let a remote daemon's session (issue 7) describe itself.
 */
export async function mirrorDaemonSession(
  registry: SessionRegistry,
  client: DaemonClient,
  id: string,
  options: { from?: number; type?: SessionType; target?: string; reconnect?: Reconnect; details?: Record<string, unknown> } = {},
): Promise<{ session: Session; info: SessionInfo }> {
  const transport = await DaemonTransport.attach(client, id, {
    ...(options.from === undefined ? {} : { from: options.from }),
    ...(options.reconnect ? { reconnect: options.reconnect } : {}),
  });
  const info = transport.attach.session;
  const session = new Session({
    id: info.id,
    type: options.type ?? "local",
    target: options.target ?? info.target,
    name: info.name,
    transport,
    size: { cols: info.cols, rows: info.rows },
    autoPager: info.auto_pager,
    persistent: true,
    outputOffset: transport.attach.from,
    // The daemon's facts win over the mirror's own (get_session_state merges details last).
    details: { ...options.details, ...(info.pid !== undefined ? { pid: info.pid } : {}), ...(info.shell ? { shell: info.shell } : {}), created_at: info.created_at },
  });
  if (options.reconnect) {
    // A mirror that reconnects on its own says whether it is connected now; asking starts a reconnect when it is not.
    Object.defineProperty(session.details, "connected", {
      enumerable: true,
      get: () => {
        transport.reconnectSoon();
        return transport.isConnected;
      },
    });
  }
  session.readMark = Math.min(info.end, Math.max(session.readMark, info.read_mark));
  transport.bind(session);
  registry.add(session);
  // Return once the mirror holds what the daemon held at attach time: the next tool call sees it all.
  const deadline = performance.now() + CATCH_UP_TIMEOUT_MS;
  while (session.buffer.end < info.end && session.isAlive && performance.now() < deadline) {
    await session.changed(deadline - performance.now());
  }
  return { session, info };
}

/** True for a session hosted by the daemon and mirrored here. */
export function isMirror(session: Session): boolean {
  return session.transport instanceof DaemonTransport;
}

/** Forgets the mirror; the daemon's session keeps running. */
export async function detachMirror(registry: SessionRegistry, id: string): Promise<void> {
  const session = registry.remove(id);
  if (session.transport instanceof DaemonTransport) await session.transport.detach();
  await session.close({ detached: true });
}

/** Server shutdown: detach every mirror (their work goes on), close everything else. */
export async function detachMirrorsAndCloseRest(registry: SessionRegistry): Promise<void> {
  await Promise.allSettled(registry.list().filter(isMirror).map((s) => detachMirror(registry, s.id)));
  await registry.closeAll();
  const client = await shared?.catch(() => undefined);
  client?.close();
}

/** The local daemon's sessions, without starting a daemon just to list them (none running → []). */
export async function listDaemonSessions(): Promise<{ sessions: SessionInfo[]; running: boolean }> {
  let client: DaemonClient;
  try {
    client = await daemonClient({ autostart: false });
  } catch (err) {
    if (isNotRunning(err)) return { sessions: [], running: false };
    throw err;
  }
  const { sessions } = await client.request({ type: "list" });
  return { sessions, running: true };
}
