// create_ssh_session's work: connect (config, hops, host keys, auth), then wrap the shell in a Session.
import { errorMessage, PtyError } from "../errors.ts";
import type { OutputSink } from "../record/sink.ts";
import { askSecret } from "../secrets/ask-secret.ts";
import type { SessionRegistry } from "../session/registry.ts";
import { Session } from "../session/session.ts";
import { hookableShell } from "../session/shell-hooks.ts";
import { openSshTransport, type SshSessionOptions, type SshTransport } from "./ssh-transport.ts";

/**
 * Where and how to connect: everything of SshSessionOptions but the terminal size.
 * The persistent path (SPEC §5: `pty-mcp client` over an exec channel on the remote
 * host) connects with these same options.
 */
export type SshConnectOptions = Omit<SshSessionOptions, "cols" | "rows">;

export interface OpenSshOptions {
  connect: SshConnectOptions;
  name?: string;
  cols: number;
  rows: number;
  autoPager?: boolean;
  sinks: OutputSink[];
  /** Cancels a passphrase prompt shown to the human (the tool call's signal). */
  signal?: AbortSignal;
  /** Hook a bash/zsh login shell for exact completion and exit codes (default true; never with `command`). */
  shellIntegration?: boolean;
}

/** Longest wait for the exec channel that reads the login shell ($SHELL). */
const LOGIN_SHELL_TIMEOUT_MS = 3000;

/**
 * Asks the human for an encrypted key's passphrase through the secret flow
 * (PTY_MCP_SECRET_COMMAND, a dialog, /dev/tty). The prompt names the key file
 * and host only; the answer goes to ssh2 and nowhere else.
 */
export function passphraseAsker(host: string, signal: AbortSignal | undefined): (keyFile: string) => Promise<string> {
  return async (keyFile) => {
    const bytes = await askSecret({ prompt: `Passphrase for SSH key ${keyFile} (connecting to ${host})`, signal });
    try {
      return new TextDecoder().decode(bytes);
    } finally {
      bytes.fill(0);
    }
  };
}

/**
 * Opens an SSH session. Capacity is checked before connecting; a connection that
 * fails closes the sinks made for it. `details` (auth method, host key) show in
 * get_session_state; no secret (password, passphrase) reaches the Session (its
 * target, details, sinks) or an error message.
 */
export async function openSshSession(registry: SessionRegistry, options: OpenSshOptions): Promise<{ session: Session; transport: SshTransport }> {
  registry.assertCapacity();
  let transport: SshTransport;
  try {
    transport = await openSshTransport({
      // Given a passphrase, nobody is asked (and auth keeps the short timeout).
      ...(options.connect.passphrase === undefined ? { askPassphrase: passphraseAsker(options.connect.host, options.signal) } : {}),
      ...options.connect,
      cols: options.cols,
      rows: options.rows,
    });
  } catch (err) {
    await Promise.allSettled(options.sinks.map((sink) => sink.close()));
    throw err;
  }
  let session: Session;
  try {
    // A call cancelled while connecting must not leave a session nobody knows the id of.
    if (options.signal?.aborted) throw new PtyError("SSH_CONN_FAILED", `Opening the SSH session to ${transport.target} was cancelled; the connection was closed.`, true);
    session = new Session({
      id: registry.newId("ssh"),
      type: "ssh",
      target: transport.target,
      name: options.name,
      transport,
      size: { cols: options.cols, rows: options.rows },
      autoPager: options.autoPager,
      sinks: options.sinks,
      details: { auth_method: transport.authMethod, host_key: { ...transport.hostKey } },
    });
    // The login shell only (a `command` may be anything): bash or zsh gets the hook typed once, invisibly.
    if (options.shellIntegration !== false && options.connect.command === undefined) {
      const shell = hookableShell(await transport.loginShell(LOGIN_SHELL_TIMEOUT_MS));
      if (shell && (await session.installShellHook(shell, { signal: options.signal }))) session.details.shell = shell;
      if (options.signal?.aborted) throw new PtyError("SSH_CONN_FAILED", `Opening the SSH session to ${transport.target} was cancelled; the connection was closed.`, true);
    }
  } catch (err) {
    await transport.close().catch((closeErr: unknown) => console.error(`pty-mcp: closing ${transport.target} failed: ${errorMessage(closeErr)}`));
    await Promise.allSettled(options.sinks.map((sink) => sink.close()));
    throw err;
  }
  registry.add(session);
  return { session, transport };
}
