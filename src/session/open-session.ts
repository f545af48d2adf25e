// The one opener every transport's create path goes through (local, SSH, serial, a daemon
// mirror): capacity first, then the transport, then the sinks, then the session and the
// registry. Whatever fails on the way closes what was opened before it, in reverse.
import { errorMessage } from "../errors.ts";
import type { SessionDescription } from "./description.ts";
import { setReopener, type Reopener } from "./reconnect.ts";
import type { SessionRegistry } from "./registry.ts";
import type { SessionInit } from "./session-init.ts";
import { Session } from "./session.ts";
import type { OutputSink } from "./sink.ts";
import type { Transport } from "./transport.ts";

/** What a transport's open step hands the opener: the open transport and its typed description. */
export interface OpenedTransport<T extends Transport> {
  transport: T;
  description: SessionDescription;
  /** Overrides of the opener's options known only once the transport is open (a mirror: the daemon's id, size, name …). */
  session?: Partial<Pick<SessionInit, "id" | "name" | "size" | "autoPager" | "lineEnding" | "outputOffset" | "createdAt">>;
}

export interface OpenSessionOptions<T extends Transport> {
  /** Connects, spawns or attaches; throws what the caller should see. Runs after the capacity check. */
  open: () => Promise<OpenedTransport<T>> | OpenedTransport<T>;
  /**
   * Opens the output sinks (log_file, record). Called LAST among the things that can fail to
   * open: after validation and after the transport opened, so that a refused call leaves no file.
   * Every sink is closed again if anything after it fails.
   */
  sinks?: () => OutputSink[];
  name?: string;
  size: { cols: number; rows: number };
  autoPager?: boolean;
  lineEnding?: string;
  persistent?: boolean;
  /** False when the caller already counted this session (a mirror replacing a stale one of the same id). Default true. */
  checkCapacity?: boolean;
  /**
   * Runs on the new session before it is registered (the SSH login shell's hook, a mirror's read
   * mark); throwing closes the session, its transport and sinks.
   */
  ready?: (session: Session, transport: T) => Promise<void> | void;
  /** How the transport opens again after its link ended (reconnect_session); without it the session cannot be reconnected. */
  reopener?: Reopener;
}

/** Opens a session and adds it to `registry`; on any failure nothing stays open or registered. */
export async function openSession<T extends Transport>(registry: SessionRegistry, options: OpenSessionOptions<T>): Promise<{ session: Session; transport: T }> {
  if (options.checkCapacity !== false) registry.assertCapacity();
  const opened = await options.open();
  const { transport, description } = opened;
  let sinks: OutputSink[] = [];
  let session: Session | undefined;
  try {
    sinks = options.sinks?.() ?? [];
    const init: SessionInit = {
      id: registry.newId(description.type),
      description,
      name: options.name,
      transport,
      size: options.size,
      autoPager: options.autoPager,
      lineEnding: options.lineEnding,
      persistent: options.persistent,
      sinks,
      resumable: options.reopener !== undefined,
      ...opened.session,
    };
    session = new Session(init);
    if (options.reopener) setReopener(session, options.reopener);
    await options.ready?.(session, transport);
  } catch (err) {
    if (session) await session.close().catch((closeErr: unknown) => logCloseFailure(description, closeErr));
    else await transport.close().catch((closeErr: unknown) => logCloseFailure(description, closeErr));
    await Promise.allSettled(sinks.map((sink) => sink.close()));
    throw err;
  }
  registry.add(session);
  return { session, transport };
}

function logCloseFailure(description: SessionDescription, err: unknown): void {
  console.error(`pty-mcp: closing ${description.target} failed: ${errorMessage(err)}`);
}
