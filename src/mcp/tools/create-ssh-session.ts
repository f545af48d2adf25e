import { z } from "zod";
import { PtyError } from "../../errors.ts";
import { buildSinks } from "../../record/sinks.ts";
import { openSshSession, type SshConnectOptions } from "../../ssh/open-ssh.ts";
import type { RemoteFacts } from "../../persistent/ssh-link.ts";
import type { Session } from "../../session/session.ts";
import { bool, createCommon, DEFAULT_COLS, DEFAULT_ROWS, int, num } from "../params.ts";
import { defineTool } from "../tool.ts";
import { sshLink } from "./persistent.ts";

const output = z.looseObject({
  session_id: z.string(),
  type: z.literal("ssh"),
  target: z.string().describe("user@host:port actually connected to (after ~/.ssh/config)."),
  name: z.string().optional(),
  cols: z.number(),
  rows: z.number(),
  auth_method: z.string().describe('How the server let us in, e.g. "publickey (agent)", "publickey (/home/me/.ssh/id_ed25519)", "password".'),
  host_key: z.object({ fingerprint: z.string(), key_type: z.string() }).describe("The server's host key (SHA256 fingerprint as ssh-keygen -lf prints it)."),
  persistent: z.boolean().optional(),
  reattached: z.boolean().optional().describe("session_id given: true when a new attachment was made, false when this server already had it connected."),
  connected: z.boolean().optional().describe("Persistent: whether the link to the remote daemon is up now (get_session_state reports it too)."),
  remote_path: z.string().optional().describe("Persistent: the pty-mcp on the remote host that runs the daemon."),
  deployed: z.object({ version: z.string(), previous_version: z.string().optional() }).optional().describe("Persistent: this call installed pty-mcp on the host (it was missing or older)."),
});

export const createSshSession = defineTool({
  name: "create_ssh_session",
  title: "Open an SSH session",
  description:
    "Open an SSH session: an interactive shell (or `command`) on a remote host or server over SSH, on a PTY (xterm-256color). Set up the way `ssh` does it: " +
    "`host` may be an alias from ~/.ssh/config (HostName, User, Port, IdentityFile, ProxyJump, Include, wildcard Host blocks); " +
    "auth tries ssh-agent, then identity files, then `password`; host keys are checked against ~/.ssh/known_hosts. " +
    "An unknown host fails with SSH_HOST_KEY_UNKNOWN carrying the key's SHA256 fingerprint: show it to the user, and once they confirm it, " +
    'call again with accept_host_key: "SHA256:…" to trust exactly that key (it is recorded in known_hosts). ' +
    "A changed host key (SSH_HOST_KEY_MISMATCH) may be an attack: do not bypass it with ignore_host_key unless the user says so. " +
    "Prefer keys or ssh-agent over password; a password given here never appears in results, logs or errors. " +
    "Returns the session_id the other tools take.",
  meta: { searchHint: "ssh remote host server login connect shell terminal jump bastion" },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  input: z.object({
    host: z.string().min(1).describe('Host name, address, or an alias from ~/.ssh/config. Example: "web1", "10.0.0.5", "router.lab".'),
    user: z.string().min(1).optional().describe("Login name (default: the config's User, else the local user)."),
    port: int(1, 65535).optional().describe("Port (default: the config's Port, else 22)."),
    password: z.string().optional().describe("Password for password / keyboard-interactive auth, tried after the agent and keys. Never logged or returned."),
    key_path: z.string().min(1).optional().describe("Private key file tried before the configured identities (like ssh -i). ~ is expanded."),
    passphrase: z
      .string()
      .optional()
      .describe("Passphrase of an encrypted key. Omitted: the human is asked outside your context (as send_secret does). Never logged or returned."),
    ignore_host_key: bool.optional().describe("Skip host key checking entirely. Only when the user explicitly asks: it disables protection against impersonation."),
    accept_host_key: z
      .string()
      .trim()
      .regex(/^SHA256:[A-Za-z0-9+/]{20,}=*$/, 'expected "SHA256:" and the fingerprint from SSH_HOST_KEY_UNKNOWN')
      .transform((fp) => fp.replace(/=+$/, ""))
      .optional()
      .describe('"SHA256:…" from an SSH_HOST_KEY_UNKNOWN error: trust exactly that key for this host and append it to ~/.ssh/known_hosts. Never accepts a changed key.'),
    jump: z.string().min(1).optional().describe('Jump host(s), like ssh -J: "[user@]host[:port]" or a comma-separated chain; overrides ProxyJump from the config ("none" disables it).'),
    command: z.string().min(1).optional().describe('Run this command on a PTY instead of the login shell (as `ssh host command` sends it). Example: "top", "tail -f /var/log/syslog".'),
    connect_timeout: num(0.1, 3600).optional().describe("Seconds for connecting and the SSH handshake (default: the config's ConnectTimeout, else 20)."),
    persistent: bool
      .optional()
      .describe(
        "Run the session in the pty-mcp daemon on the remote host (`pty-mcp client` over SSH): it survives link drops and this server's exit. " +
          "pty-mcp is installed on the host first (~/.local/bin/pty-mcp) when missing or older. log_file and record are not available then.",
      ),
    session_id: z
      .string()
      .min(1)
      .optional()
      .describe("Reattach to a persistent session on this host by id (list_remote_sessions {host} lists them); output continues from where it was. Other session parameters are ignored."),
    shell_integration: bool
      .optional()
      .describe("Hook a bash/zsh/fish login shell so send_input knows exactly when a command ended and its exit_code (default true; typed once after login, invisibly; false = prompt heuristics only; never with command)."),
    ...createCommon,
  }),
  output,
  async run(input, { sessions, signal }) {
    if (input.persistent || input.session_id !== undefined) {
      // The remote daemon owns the PTY; log_file/record would be written there, not here.
      if (input.session_id === undefined && (input.log_file !== undefined || input.record !== undefined)) {
        throw new PtyError("INVALID_ARGUMENT", "log_file and record are not available for persistent SSH sessions (the remote daemon holds the output). Omit them, or open a non-persistent session.");
      }
      const { command: _command, ...connect } = sshConnectOptions(input);
      if (input.session_id !== undefined) {
        const { session, facts, reattached } = await (await sshLink()).reattachPersistentSsh(sessions, connect, input.session_id, signal);
        return { ...persistentResult(session, facts), reattached };
      }
      const { session, facts } = await (await sshLink()).openPersistentSsh(sessions, {
        connect,
        ...(input.command !== undefined ? { command: input.command } : {}),
        name: input.name,
        cols: input.cols ?? DEFAULT_COLS,
        rows: input.rows ?? DEFAULT_ROWS,
        autoPager: input.auto_pager,
        ...(input.shell_integration === undefined ? {} : { shellIntegration: input.shell_integration }),
        signal,
      });
      return persistentResult(session, facts);
    }
    const cols = input.cols ?? DEFAULT_COLS;
    const rows = input.rows ?? DEFAULT_ROWS;
    const { session, transport } = await openSshSession(sessions, {
      connect: sshConnectOptions(input),
      name: input.name,
      cols,
      rows,
      autoPager: input.auto_pager,
      shellIntegration: input.shell_integration,
      sinks: () => buildSinks({ log_file: input.log_file, log_max_size: input.log_max_size, log_max_files: input.log_max_files, record: input.record, cols, rows }),
      signal,
    });
    const result: z.input<typeof output> = {
      session_id: session.id,
      type: "ssh",
      target: session.target,
      cols,
      rows,
      auth_method: transport.authMethod,
      host_key: { ...transport.hostKey },
    };
    if (input.name) result.name = input.name;
    return result;
  },
});

/** The tool's connection parameters as the transport takes them; secrets pass through untouched and unlogged. */
export function sshConnectOptions(input: {
  host: string;
  user?: string;
  port?: number;
  password?: string;
  key_path?: string;
  passphrase?: string;
  ignore_host_key?: boolean;
  accept_host_key?: string;
  jump?: string;
  command?: string;
  connect_timeout?: number;
}): SshConnectOptions {
  const options: SshConnectOptions = { host: input.host };
  if (input.user !== undefined) options.user = input.user;
  if (input.port !== undefined) options.port = input.port;
  if (input.password !== undefined) options.password = input.password;
  if (input.key_path !== undefined) options.keyPath = input.key_path;
  if (input.passphrase !== undefined) options.passphrase = input.passphrase;
  if (input.ignore_host_key !== undefined) options.ignoreHostKey = input.ignore_host_key;
  if (input.accept_host_key !== undefined) options.acceptHostKey = input.accept_host_key;
  if (input.jump !== undefined) options.jump = input.jump;
  if (input.command !== undefined) options.command = input.command;
  if (input.connect_timeout !== undefined) options.connectTimeoutMs = Math.round(input.connect_timeout * 1000);
  return options;
}

function persistentResult(session: Session, facts: RemoteFacts): z.input<typeof output> {
  const result: z.input<typeof output> = {
    session_id: session.id,
    type: "ssh",
    target: session.target,
    cols: session.size.cols,
    rows: session.size.rows,
    auth_method: facts.authMethod,
    host_key: { ...facts.hostKey },
    persistent: true,
    connected: session.transport.capabilities?.connected?.() === true,
    remote_path: facts.remotePath,
  };
  if (session.name) result.name = session.name;
  if (facts.deployed) result.deployed = { ...facts.deployed };
  return result;
}
