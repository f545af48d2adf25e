// A DaemonLink is the way to one pty-mcp daemon: the local one over its Unix socket
// (local-link.ts), or a remote host's over SSH (ssh-link.ts). Mirrors (mirror.ts) are made the
// same way over either; only the link knows how to connect and how to describe a session.
import type { DaemonClient } from "../daemon-client/client.ts";
import type { RequestOf, SessionInfo } from "../daemon/protocol.ts";
import type { SessionDescription } from "../session/description.ts";

/** What the daemon is asked to start (the create request without its type). */
export type CreateRequest = Omit<RequestOf<"create">, "type">;

export interface DaemonLink {
  /** The daemon, connecting (and for a remote host, deploying) when the link is down. */
  client(signal?: AbortSignal): Promise<DaemonClient>;
  /** A mirror over this link reconnects on its own when the connection drops (remote), else it ends (local). */
  readonly reconnects: boolean;
  /** True once the link knows what it describes sessions with (a remote link: after its first connection). */
  readonly ready: boolean;
  /** The typed description of a mirror of `info`. */
  describe(info: SessionInfo): SessionDescription;
}
