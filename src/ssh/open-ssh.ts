// create_ssh_session's work: connect (config, hops, host keys, auth), then wrap the shell in a Session.
import { PtyError } from "../errors.ts";
import { askSecret } from "../secrets/ask-secret.ts";
import type { SshDescription } from "../session/description.ts";
import { openSession } from "../session/open-session.ts";
import type { Reopener } from "../session/reconnect.ts";
import type { SessionRegistry } from "../session/registry.ts";
import type { Session } from "../session/session.ts";
import type { OutputSink } from "../session/sink.ts";
import { hookableShell } from "../session/shell-hooks.ts";
import { sharedPool } from "./pool.ts";
import { rememberConnect } from "./session-connect.ts";
import { openSshTransport, openSshTransportOn, type SshSessionOptions, type SshTransport } from "./ssh-transport.ts";

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
  /** Opened once connected (see openSession). */
  sinks?: () => OutputSink[];
  /** Cancels a passphrase prompt shown to the human (the tool call's signal). */
  signal?: AbortSignal;
  /** Hook a bash/zsh/fish login shell for exact completion and exit codes (default true; never with `command`). */
  shellIntegration?: boolean;
}

/**
 * The shell on the host's pooled connection when run_on_hosts or transfer_file has one open
 * (SPEC §10: the pool is reused by create_ssh_session), else `connect()` (a connection of its
 * own, as before). A pooled connection whose channel is refused (it died unnoticed) is dropped.
 */
async function pooledOrNew(options: Pick<OpenSshOptions, "connect" | "cols" | "rows">, connect: () => Promise<SshTransport>): Promise<SshTransport> {
  const lease = options.connect.acceptHostKey === undefined ? sharedPool.lookup(options.connect) : undefined;
  if (lease !== undefined) {
    try {
      return await openSshTransportOn(lease.connection, { ...options.connect, cols: options.cols, rows: options.rows }, lease.release);
    } catch {
      lease.discard();
    }
  }
  return connect();
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
 * Opens an SSH session. Capacity is checked before connecting; the sinks are opened once
 * connected. The description (auth method, host key) shows in get_session_state; no secret
 * (password, passphrase) reaches the Session (its target, description, sinks) or an error message.
 */
export async function openSshSession(registry: SessionRegistry, options: OpenSshOptions): Promise<{ session: Session; transport: SshTransport }> {
  let description: SshDescription | undefined;
  const cancelled = (target: string) => new PtyError("SSH_CONN_FAILED", `Opening the SSH session to ${target} was cancelled; the connection was closed.`, true);
  const connect = (size: { cols: number; rows: number }, signal: AbortSignal | undefined, connectTimeoutMs?: number) =>
    openSshTransport({
      // Given a passphrase, nobody is asked (and auth keeps the short timeout).
      ...(options.connect.passphrase === undefined ? { askPassphrase: passphraseAsker(options.connect.host, signal) } : {}),
      ...options.connect,
      ...(connectTimeoutMs === undefined ? {} : { connectTimeoutMs }),
      ...size,
    });
  /** The login shell only (a `command` may be anything): bash, zsh or fish gets the hook typed once, invisibly. */
  const hook = async (session: Session, transport: SshTransport, signal: AbortSignal | undefined) => {
    const loginShell = await transport.loginShell(LOGIN_SHELL_TIMEOUT_MS);
    const shell = hookableShell(loginShell);
    if (!shell) session.shell.off = loginShell ? `off: the login shell ${loginShell.trim()} is not bash, zsh or fish` : "off: the login shell could not be read ($SHELL)";
    const hooked = shell !== undefined && (await session.installShellHook(shell, { signal }));
    if (description) {
      if (hooked) description.shell = shell;
      else delete description.shell;
    }
  };
  const integrate = options.shellIntegration !== false && options.connect.command === undefined;
  return openSession(registry, {
    open: async () => {
      const transport = await pooledOrNew(options, () => connect({ cols: options.cols, rows: options.rows }, options.signal));
      description = { type: "ssh", target: transport.target, auth_method: transport.authMethod, host_key: { ...transport.hostKey } };
      return { transport, description };
    },
    sinks: options.sinks,
    name: options.name,
    size: { cols: options.cols, rows: options.rows },
    autoPager: options.autoPager,
    ready: async (session, transport) => {
      // A call cancelled while connecting must not leave a session nobody knows the id of.
      if (options.signal?.aborted) throw cancelled(transport.target);
      rememberConnect(session, options.connect);
      if (options.shellIntegration !== false && options.connect.command !== undefined) session.shell.off = "off: a command runs instead of the login shell";
      if (integrate) {
        await hook(session, transport, options.signal);
        if (options.signal?.aborted) throw cancelled(transport.target);
      }
    },
    // reconnect_session: the same options and host-key check again; a new login shell, hooked again.
    // A session running a command is not reopened (running it again could repeat what it did).
    ...(options.connect.command === undefined
      ? {
          reopener: {
            open: ({ connectTimeoutMs, size, signal }) => connect(size, signal, connectTimeoutMs),
            ready: async (session, transport, signal) => {
              if (description) {
                description.auth_method = (transport as SshTransport).authMethod;
                description.host_key = { ...(transport as SshTransport).hostKey };
              }
              if (integrate) await hook(session, transport as SshTransport, signal);
            },
          } satisfies Reopener,
        }
      : {}),
  });
}
