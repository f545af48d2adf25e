// The local daemon as a DaemonLink: one shared connection of this MCP server to the daemon on
// this machine (started on demand), and the persistent create_local_session on top of it.
import { resolve } from "node:path";
import { connectDaemon, isNotRunning, type DaemonClient } from "../daemon-client/client.ts";
import type { SessionInfo } from "../daemon/protocol.ts";
import type { OpenLocalOptions } from "../local/open-local.ts";
import { defaultSocketPath } from "../daemon/socket-path.ts";
import type { LocalDescription } from "../session/description.ts";
import type { SessionRegistry } from "../session/registry.ts";
import type { Session } from "../session/session.ts";
import { VERSION } from "../version.ts";
import type { DaemonLink } from "./link.ts";
import { createMirrored, detachMirror, isMirror, reattach } from "./mirror.ts";

class LocalDaemonLink implements DaemonLink {
  readonly reconnects = false;
  readonly ready = true;
  #shared: Promise<DaemonClient> | undefined;

  /** The server's connection to the local daemon, connecting (and starting it) on first use. */
  async client(_signal?: AbortSignal, options: { autostart?: boolean } = {}): Promise<DaemonClient> {
    const autostart = options.autostart ?? true;
    if (this.#shared) {
      const client = await this.#shared.catch(() => undefined);
      if (client && !client.isClosed) return client;
      this.#shared = undefined;
    }
    const connecting = connectDaemon({ socketPath: defaultSocketPath(), autostart, client: `pty-mcp ${VERSION} serve (pid ${process.pid})` });
    this.#shared = connecting;
    connecting.catch(() => {
      if (this.#shared === connecting) this.#shared = undefined;
    });
    return connecting;
  }

  describe(info: SessionInfo): LocalDescription {
    const description: LocalDescription = { type: "local", target: info.target };
    if (info.pid !== undefined) description.pid = info.pid;
    if (info.shell) description.shell = info.shell;
    return description;
  }

  /** The shared connection's counts (DaemonClient.counts), empty when there is none: for the memory report. */
  async counts(): Promise<Record<string, number>> {
    const client = await this.#shared?.catch(() => undefined);
    return client && !client.isClosed ? client.counts() : {};
  }

  /** Server shutdown: drop the connection (mirrors were detached before). */
  async close(): Promise<void> {
    const client = await this.#shared?.catch(() => undefined);
    client?.close();
  }
}

export const localLink = new LocalDaemonLink();

/** create_local_session's options, with the log and recording the daemon writes (it holds the output). */
export interface PersistentCreateOptions extends Omit<OpenLocalOptions, "sinks" | "persistent"> {
  logFile?: string;
  logMaxSize?: number;
  logMaxFiles?: number;
  record?: string;
}

/** Starts a session in the local daemon and mirrors it here. */
export async function createPersistentLocal(registry: SessionRegistry, options: PersistentCreateOptions): Promise<Session> {
  const session = await createMirrored(registry, localLink, () => ({
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
  }));
  // The daemon knows why its shell is not hooked; the mirror only sees whether hooked prompts come (and the shell's own "off" mark).
  if (options.shellIntegration !== false) session.shell.off ??= "off: no hooked prompt from the daemon's session yet (a program other than an interactive bash, zsh or fish, or rc files that replace the hook)";
  return session;
}

/** Reattaches to a local daemon session by id (or returns the mirror this server already has). */
export function reattachPersistent(registry: SessionRegistry, id: string): Promise<{ session: Session; reattached: boolean }> {
  return reattach(registry, localLink, id);
}

/** The local daemon's sessions, without starting a daemon just to list them (none running → []). */
export async function listDaemonSessions(): Promise<{ sessions: SessionInfo[]; running: boolean }> {
  let client: DaemonClient;
  try {
    client = await localLink.client(undefined, { autostart: false });
  } catch (err) {
    if (isNotRunning(err)) return { sessions: [], running: false };
    throw err;
  }
  const { sessions } = await client.request({ type: "list" });
  return { sessions, running: true };
}

/** Server shutdown: detach every mirror (their work goes on), close everything else. */
export async function detachMirrorsAndCloseRest(registry: SessionRegistry): Promise<void> {
  await Promise.allSettled(registry.list().filter(isMirror).map((s) => detachMirror(registry, s.id)));
  await registry.closeAll();
  await localLink.close();
}
