// Mirrors: ordinary Sessions over a DaemonTransport, so that every tool works alike on persistent
// and in-process sessions. One way to create a mirrored session and one way to reattach, over any
// DaemonLink (the local daemon, a remote host's). Detaching a mirror leaves the daemon's session running.
import { DaemonTransport } from "../daemon-client/daemon-transport.ts";
import type { DaemonClient } from "../daemon-client/client.ts";
import { PtyError } from "../errors.ts";
import { openSession } from "../session/open-session.ts";
import type { SessionRegistry } from "../session/registry.ts";
import type { Session } from "../session/session.ts";
import type { CreateRequest, DaemonLink } from "./link.ts";

/** Longest wait for a new mirror to receive the output the daemon holds (it streams at socket speed). */
const CATCH_UP_TIMEOUT_MS = 10_000;

/**
 * Starts a session in the link's daemon and mirrors it here. `request` is built once the link is
 * connected (a remote link knows the host's $HOME then). A mirror that fails is closed in the daemon.
 */
export async function createMirrored(registry: SessionRegistry, link: DaemonLink, request: () => CreateRequest, signal?: AbortSignal): Promise<Session> {
  registry.assertCapacity();
  const client = await link.client(signal);
  const { session: info } = await client.request({ type: "create", ...request() });
  try {
    return await mirror(registry, link, client, info.id, 0);
  } catch (err) {
    // Mirroring failed: do not leave an orphan running in the daemon.
    await client.request({ type: "close", session: info.id }).catch(() => undefined);
    throw err;
  }
}

/** Reattaches to session `id` of the link's daemon (or returns the connected mirror this server already has). */
export async function reattach(registry: SessionRegistry, link: DaemonLink, id: string, signal?: AbortSignal): Promise<{ session: Session; reattached: boolean }> {
  const existing = registry.get(id);
  if (existing) {
    if (!(existing.transport instanceof DaemonTransport)) {
      throw new PtyError("NOT_PERSISTENT", `Session ${id} is an in-process session of this server, not a persistent one; use it directly.`);
    }
    if (!existing.transport.isDetached && existing.transport.isConnected && link.ready) return { session: existing, reattached: false };
  } else {
    registry.assertCapacity();
  }
  const client = await link.client(signal);
  // A mirror that lost its daemon stays readable until the new attachment replaces it.
  const session = await mirror(registry, link, client, id);
  if (existing) {
    // Let go of the stale mirror without ending the daemon's session.
    if (existing.transport instanceof DaemonTransport) await existing.transport.detach();
    await existing.close().catch(() => undefined);
  }
  return { session, reattached: true };
}

/**
 * Attaches to session `id` of the daemon behind `client` and adds its mirror to `registry`
 * (replacing a stale mirror of the same id). Resolves once the mirror holds everything the
 * daemon held at attach time. `from` defaults to the oldest byte the daemon holds.
 */
async function mirror(registry: SessionRegistry, link: DaemonLink, client: DaemonClient, id: string, from?: number): Promise<Session> {
  const transport = await DaemonTransport.attach(client, id, {
    ...(from === undefined ? {} : { from }),
    ...(link.reconnects ? { reconnect: () => link.client() } : {}),
  });
  const info = transport.attach.session;
  const { session } = await openSession(registry, {
    // The caller counted this session (create) or the one it replaces (reattach).
    checkCapacity: false,
    open: () => ({
      transport,
      description: link.describe(info),
      session: { id: info.id, name: info.name, size: { cols: info.cols, rows: info.rows }, autoPager: info.auto_pager, outputOffset: transport.attach.from, createdAt: new Date(info.created_at) },
    }),
    size: { cols: info.cols, rows: info.rows },
    persistent: true,
    ready: (session) => {
      session.readMark = Math.min(info.end, Math.max(session.readMark, info.read_mark));
      transport.readMark = () => session.readMark;
    },
  });
  // Return once the mirror holds what the daemon held at attach time: the next tool call sees it all.
  const deadline = performance.now() + CATCH_UP_TIMEOUT_MS;
  while (session.buffer.end < info.end && session.isAlive && performance.now() < deadline) {
    await session.changed(deadline - performance.now());
  }
  // The reply said the session had ended: so it has, even if the exit event is still on its way
  // (the daemon writes it after the output; a loaded daemon is preempted in between, and the
  // mirror said is_alive: true with a pid).
  transport.endAsAttached();
  return session;
}

/** True for a session hosted by a daemon and mirrored here. */
export function isMirror(session: Session): boolean {
  return session.transport instanceof DaemonTransport;
}

/** Forgets the mirror; the daemon's session keeps running. */
export async function detachMirror(registry: SessionRegistry, id: string): Promise<void> {
  const session = registry.remove(id);
  if (session.transport instanceof DaemonTransport) await session.transport.detach();
  await session.close({ detached: true });
}
