// How an SSH session reached its host: the options it was created with (the ~/.ssh/config alias,
// jump hosts, key, password), so that transfer_file {session_id} goes to the same host the same way.
// Kept in memory only, as the reconnect keeps them (docs/dialogs.md); never shown.
import type { Session } from "../session/session.ts";
import type { SshSessionOptions } from "./ssh-transport.ts";

type SshConnectOptions = Omit<SshSessionOptions, "cols" | "rows">;

const connects = new WeakMap<Session, SshConnectOptions>();

/**
 * Called by the openers (interactive and persistent SSH sessions). What only applied to opening the
 * session is left out: the command it runs, an accept_host_key (the key is recorded by then: later
 * connections check it as any other), the passphrase prompt (asked for by that call).
 */
export function rememberConnect(session: Session, options: SshConnectOptions): void {
  const { command: _command, acceptHostKey: _accept, askPassphrase: _ask, ...kept } = options;
  connects.set(session, kept);
}

/** The options an SSH session connected with, or undefined for any other session. */
export function connectOf(session: Session): SshConnectOptions | undefined {
  return connects.get(session);
}
