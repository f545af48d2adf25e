// Persistent SSH sessions (SPEC §2, §5): the pty-mcp daemon on a remote host as a DaemonLink,
// reached through `pty-mcp client` on an SSH exec channel. One link per host (user, port, jump), shared by the
// mirrors of that host's sessions and list_remote_sessions. The first connection finds the remote
// binary (PTY_MCP_REMOTE_PATH, ~/.local/bin/pty-mcp, PATH) and deploys ours when it is missing or
// older; a lost link is reopened on demand (DaemonTransport's reconnect).
import type { ClientChannel } from "ssh2";
import { DaemonClient, type ByteStream } from "../daemon-client/client.ts";
import type { SessionInfo } from "../daemon/protocol.ts";
import { compareVersions, DEFAULT_REMOTE_PATH, deployBinary, expandRemotePath, probeHost, remoteVersion, type DeployTarget } from "../deploy/deploy.ts";
import { execChannel, shellQuote } from "../deploy/remote.ts";
import { errorMessage, PtyError } from "../errors.ts";
import type { SshDescription } from "../session/description.ts";
import type { SessionRegistry } from "../session/registry.ts";
import type { Session } from "../session/session.ts";
import { passphraseAsker, type SshConnectOptions } from "../ssh/open-ssh.ts";
import { rememberConnect } from "../ssh/session-connect.ts";
import { connectSsh, type HostKeyInfo, type SshConnection } from "../ssh/ssh-transport.ts";
import { VERSION } from "../version.ts";
import type { DaemonLink } from "./link.ts";
import { createMirrored, reattach } from "./mirror.ts";

export interface RemoteFacts {
  /** `user@host:port` of the final hop. */
  target: string;
  hostKey: HostKeyInfo;
  authMethod: string;
  /** The remote pty-mcp that runs `client`. */
  remotePath: string;
  /** The remote $HOME (new sessions start there). */
  home: string;
  /** Set when this link installed or upgraded the remote binary. */
  deployed?: { version: string; previous_version?: string };
}

export class RemoteDaemonLink implements DaemonLink {
  readonly reconnects = true;
  readonly #options: SshConnectOptions;
  #ssh: SshConnection | undefined;
  #daemon: DaemonClient | undefined;
  #connecting: Promise<DaemonClient> | undefined;
  #facts: RemoteFacts | undefined;
  #deployed: RemoteFacts["deployed"];

  constructor(options: SshConnectOptions) {
    this.#options = options;
  }

  /** Known after the first connection. */
  get facts(): RemoteFacts | undefined {
    return this.#facts;
  }

  get ready(): boolean {
    return this.#facts !== undefined;
  }

  describe(info: SessionInfo): SshDescription {
    const facts = this.#facts as RemoteFacts;
    const description: SshDescription = { type: "ssh", target: facts.target, auth_method: facts.authMethod, host_key: { ...facts.hostKey }, remote_path: facts.remotePath };
    if (info.pid !== undefined) description.pid = info.pid;
    if (info.shell) description.shell = info.shell;
    return description;
  }

  get isConnecting(): boolean {
    return this.#connecting !== undefined;
  }

  get isConnected(): boolean {
    return this.#daemon !== undefined && !this.#daemon.isClosed;
  }

  /** The remote daemon, connecting (SSH, deploy if needed, `pty-mcp client`) when the link is down. */
  client(signal?: AbortSignal): Promise<DaemonClient> {
    if (this.#daemon && !this.#daemon.isClosed) return Promise.resolve(this.#daemon);
    const connecting = (this.#connecting ??= this.#connect(signal).finally(() => {
      if (this.#connecting === connecting) this.#connecting = undefined;
    }));
    return connecting;
  }

  async #connect(signal: AbortSignal | undefined): Promise<DaemonClient> {
    this.#ssh?.end();
    const options = this.#options;
    const ssh = await connectSsh({
      ...(options.passphrase === undefined ? { askPassphrase: passphraseAsker(options.host, signal) } : {}),
      ...options,
    });
    this.#ssh = ssh;
    const target: DeployTarget = { client: ssh.client, label: ssh.target };
    try {
      const facts = this.#facts ?? (await this.#prepare(ssh, target));
      let daemon: DaemonClient;
      try {
        daemon = await openRemoteDaemon(target, facts.remotePath);
      } catch (err) {
        throw new PtyError(
          "DAEMON_UNAVAILABLE",
          `Could not reach the pty-mcp daemon on ${ssh.target} through \`${facts.remotePath} client\`: ${errorMessage(err)} ` +
            "If the remote pty-mcp is of another version, run `pty-mcp deploy` for that host (its running sessions keep running).",
          true,
          { cause: err },
        );
      }
      const { deployed, ...rest } = facts;
      if (deployed) this.#deployed = deployed;
      this.#facts = { ...rest, target: ssh.target, hostKey: ssh.hostKey, authMethod: ssh.authMethod };
      this.#daemon = daemon;
      daemon.onClose(() => {
        if (this.#ssh === ssh) ssh.end();
      });
      // The SSH connection dying (the network, a killed sshd) ends the channel and so the daemon client.
      ssh.client.on("close", () => daemon.close());
      return daemon;
    } catch (err) {
      ssh.end();
      throw err;
    }
  }

  /** Finds the remote binary; installs ours when there is none or it is older. */
  async #prepare(ssh: SshConnection, target: DeployTarget): Promise<RemoteFacts> {
    const probe = await probeHost(target);
    const base = { target: ssh.target, hostKey: ssh.hostKey, authMethod: ssh.authMethod, home: probe.home };
    const configured = process.env.PTY_MCP_REMOTE_PATH;
    const candidates = configured ? [configured] : [DEFAULT_REMOTE_PATH, ...(probe.onPath ? [probe.onPath] : [])];
    for (const candidate of candidates) {
      const path = expandRemotePath(candidate, probe.home);
      const version = await remoteVersion(target, path);
      if (version !== undefined && compareVersions(version, VERSION) >= 0) return { ...base, remotePath: path };
    }
    const result = await deployBinary(target, {
      probe,
      ...(configured ? { path: configured } : {}),
      log: (line) => console.error(`pty-mcp: ${line}`),
      openDaemon: openRemoteDaemon,
    });
    const deployed: RemoteFacts["deployed"] = { version: result.version };
    if (result.previous_version) deployed.previous_version = result.previous_version;
    return { ...base, remotePath: result.path, deployed };
  }

  /** What this link installed on the host, reported once (by the call that caused it). */
  takeDeployed(): RemoteFacts["deployed"] {
    const deployed = this.#deployed;
    this.#deployed = undefined;
    return deployed;
  }

  close(): void {
    this.#daemon?.close();
    this.#ssh?.end();
  }
}

const links = new Map<string, RemoteDaemonLink>();

/** The shared link for these connection options (secrets are not part of the key: the options of the call that first connected are kept). */
export function remoteLink(options: SshConnectOptions): RemoteDaemonLink {
  const key = JSON.stringify([options.host, options.user ?? "", options.port ?? 0, options.jump ?? "", options.keyPath ?? ""]);
  let link = links.get(key);
  // A link that never connected (wrong password, unknown host key) takes the new call's options.
  if (!link || (!link.facts && !link.isConnecting)) links.set(key, (link = new RemoteDaemonLink(options)));
  return link;
}

/** Server shutdown: drop every SSH link (mirrors were detached before). */
export function closeRemoteLinks(): void {
  for (const link of links.values()) link.close();
  links.clear();
}

export interface PersistentSshOptions {
  connect: SshConnectOptions;
  /** Run this (through /bin/sh -c, as `ssh host command` would) instead of the remote login shell. */
  command?: string;
  name?: string;
  cols: number;
  rows: number;
  autoPager?: boolean;
  /** Hook a bash/zsh login shell (the daemon's default: true). */
  shellIntegration?: boolean;
  signal?: AbortSignal;
}

/** Starts a session in the remote host's daemon and mirrors it here. */
export async function openPersistentSsh(registry: SessionRegistry, options: PersistentSshOptions): Promise<{ session: Session; facts: RemoteFacts }> {
  const link = remoteLink(options.connect);
  let deployed: RemoteFacts["deployed"];
  const session = await createMirrored(
    registry,
    link,
    () => {
      deployed = link.takeDeployed();
      return {
        ...(options.command === undefined ? {} : { command: "/bin/sh", args: ["-c", options.command] }),
        cwd: link.facts?.home || undefined,
        name: options.name,
        cols: options.cols,
        rows: options.rows,
        auto_pager: options.autoPager,
        ...(options.shellIntegration === undefined ? {} : { shell_integration: options.shellIntegration }),
      };
    },
    options.signal,
  );
  rememberConnect(session, options.connect);
  return { session, facts: { ...(link.facts as RemoteFacts), ...(deployed ? { deployed } : {}) } };
}

/** Reattaches to session `id` of the remote host's daemon (or returns the connected mirror this server has). */
export async function reattachPersistentSsh(
  registry: SessionRegistry,
  connect: SshConnectOptions,
  id: string,
  signal?: AbortSignal,
): Promise<{ session: Session; facts: RemoteFacts; reattached: boolean }> {
  const link = remoteLink(connect);
  const { session, reattached } = await reattach(registry, link, id, signal);
  rememberConnect(session, connect);
  return { session, facts: link.facts as RemoteFacts, reattached };
}

/** `pty-mcp client` at `path` over an exec channel, with the daemon's hello done. */
export async function openRemoteDaemon(target: DeployTarget, path: string): Promise<DaemonClient> {
  const channel = await execChannel(target.client, `${shellQuote(path)} client`);
  let stderr = "";
  const stream = channelStream(channel, (text) => (stderr = (stderr + text).slice(-2000)));
  try {
    return await DaemonClient.handshake(stream, { client: `pty-mcp ${VERSION} (remote)`, describe: `the pty-mcp daemon on ${target.label}` });
  } catch (err) {
    if (stderr.trim() && err instanceof PtyError) throw new PtyError(err.code, `${err.message} Its stderr: ${stderr.trim()}`, err.retryable, { cause: err });
    throw err;
  }
}

/** An exec channel as the daemon protocol's ByteStream; the remote's stderr goes to `stderr` (for messages). */
export function channelStream(channel: ClientChannel, stderr: (text: string) => void = () => undefined): ByteStream {
  let closed = false;
  channel.stderr.on("data", (chunk: Buffer) => stderr(chunk.toString("utf8")));
  return {
    write: (bytes) => {
      if (!closed) channel.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    },
    end: () => {
      if (closed) return;
      channel.end();
      channel.close();
    },
    onData: (listener) => channel.on("data", (chunk: Buffer) => listener(chunk)),
    onClose: (listener) =>
      channel.once("close", () => {
        closed = true;
        listener();
      }),
  };
}
