/**
 * An interactive SSH session (shell or command on a PTY) over ssh2, set up
 * the way OpenSSH does it: ~/.ssh/config, ProxyJump chains, known_hosts, and
 * auth in the order agent → identity files → password → keyboard-interactive.
 *
 * Implements session/transport.ts. Output that arrives before the first
 * onData listener is kept and delivered to it; an exit that happens before
 * the first onExit listener is delivered to it too, so nothing is lost
 * between connect and the session core subscribing.
 */
import { existsSync } from "node:fs";
import type { Duplex } from "node:stream";
import type { Client, AnyAuthMethod, AuthenticationType, ClientChannel, ConnectConfig, ServerHostKeyAlgorithm } from "ssh2";
import { PtyError } from "../errors.ts";
import { Emitter, type Transport, type TransportCapabilities, type TransportExit } from "../session/transport.ts";
import { authSteps, type AuthStep } from "./auth.ts";
import { resolveSshConfig, type SshTarget } from "./config.ts";
import { mapConnectError, type HopLabel } from "./errors.ts";
import { appendKnownHost, checkHostKey, fingerprintSha256, keyTypeOfBlob, knownKeyTypes, loadKnownHosts } from "./known-hosts.ts";
import { labelOf, SshShell, type HostKeyInfo, type SshTransport } from "./ssh-shell.ts";
import { lib, loadSsh2 } from "./ssh2.ts";

export interface SshSessionOptions {
  host: string;
  user?: string;
  port?: number;
  /** Never logged, never echoed. */
  password?: string;
  keyPath?: string;
  /** Passphrase for encrypted identity files. Never logged, never echoed. */
  passphrase?: string;
  ignoreHostKey?: boolean;
  /** `SHA256:…`: trust exactly this unknown host key and record it in known_hosts. */
  acceptHostKey?: string;
  /** ProxyJump spec overriding the config (`[user@]host[:port],...`). */
  jump?: string;
  /** Run this (on the remote side, on a PTY) instead of the login shell. */
  command?: string;
  cols: number;
  rows: number;
  /** Overrides ConnectTimeout from the config. */
  connectTimeoutMs?: number;
  /** Asked for the passphrase of an encrypted key when none was given (the secret flow). */
  askPassphrase?: (keyFile: string) => Promise<string | undefined>;
  /** Test hooks: where the config lives (defaults: $HOME/.ssh/config, /etc/ssh/ssh_config). */
  userConfigFile?: string;
  systemConfigFile?: string;
  home?: string;
  /** Keepalive when the config sets none (ms); 0 disables. */
  defaultKeepaliveMs?: number;
}

export type { HostKeyInfo, SshTransport } from "./ssh-shell.ts";

const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
const DEFAULT_KEEPALIVE_MS = 15_000;
/** How long a human may take to answer a passphrase prompt during auth. */
const PASSPHRASE_PROMPT_MS = 300_000;

/** Connect (through every hop), authenticate, open the shell. Throws PtyError. */
export async function openSshTransport(options: SshSessionOptions): Promise<SshTransport> {
  const connection = await connectSsh(options);
  try {
    const channel = await openChannel(connection.client, options, connection.resolved);
    return new SshShell(channel, connection.clients, connection.resolved, connection);
  } catch (err) {
    connection.end();
    throw err;
  }
}

/**
 * The shell on a connection that is already open (a pooled one): closing the session closes its
 * channel and calls `release`, the connection stays. Throws PtyError when the channel is refused.
 */
export async function openSshTransportOn(connection: SshConnection, options: SshSessionOptions, release: () => void): Promise<SshTransport> {
  const channel = await openChannel(connection.client, options, connection.resolved);
  return new SshShell(channel, connection.clients, connection.resolved, connection, release);
}

/** An authenticated SSH connection (every hop) with no channel open yet: exec and SFTP for deploy and the remote daemon. */
export interface SshConnection {
  /** The final hop's client. */
  readonly client: Client;
  /** Every hop's client, first hop first. */
  readonly clients: Client[];
  /** `user@hostname:port` of the final hop. */
  readonly target: string;
  readonly resolved: SshTarget;
  readonly hostKey: HostKeyInfo;
  readonly authMethod: string;
  /** Closes every hop. */
  end(): void;
}

/** The options' host through ~/.ssh/config (hops included), explicit options winning. Throws PtyError. */
export function resolveTarget(options: Omit<SshSessionOptions, "cols" | "rows">): SshTarget {
  return resolveSshConfig(options.host, {
    ...(options.user === undefined ? {} : { user: options.user }),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.keyPath === undefined ? {} : { keyPath: options.keyPath }),
    ...(options.jump === undefined ? {} : { jump: options.jump }),
    ...(options.userConfigFile === undefined ? {} : { userConfigFile: options.userConfigFile }),
    ...(options.systemConfigFile === undefined ? {} : { systemConfigFile: options.systemConfigFile }),
    ...(options.home === undefined ? {} : { home: options.home }),
  });
}

/** Connect (through every hop) and authenticate, the way openSshTransport does, without opening a channel. Throws PtyError. */
export async function connectSsh(options: Omit<SshSessionOptions, "cols" | "rows">): Promise<SshConnection> {
  await loadSsh2();
  const target = resolveTarget(options);
  if (options.keyPath !== undefined && !existsSync(target.identityFiles[0] ?? ""))
    throw new PtyError("INVALID_ARGUMENT", `key_path ${options.keyPath} does not exist. Give the path of a private key file.`);

  const hops = [...target.proxyJump, target];
  const clients: Client[] = [];
  let sock: Duplex | undefined;
  let last: Connected | undefined;
  try {
    for (let i = 0; i < hops.length; i++) {
      const hop = hops[i] as SshTarget;
      const isFinal = i === hops.length - 1;
      if (i > 0) sock = await forwardOut(clients[i - 1] as Client, hop, hops[i - 1] as SshTarget);
      last = await connectHop(hop, sock, options, isFinal, i > 0 ? labelOf(hops[i - 1] as SshTarget) : undefined);
      clients.push(last.client);
    }
    const final = last as Connected;
    return {
      client: final.client,
      clients,
      target: `${target.user}@${target.hostname}:${target.port}`,
      resolved: target,
      hostKey: final.hostKey,
      authMethod: final.authMethod,
      end: () => {
        for (const client of [...clients].reverse()) client.end();
      },
    };
  } catch (err) {
    for (const client of clients.reverse()) client.end();
    throw err;
  }
}

interface Connected {
  client: Client;
  hostKey: HostKeyInfo;
  authMethod: string;
}

function hopLabel(hop: SshTarget, via: string | undefined): HopLabel {
  return { label: via === undefined ? labelOf(hop) : `${labelOf(hop)} via ${via}`, host: hop.hostname, port: hop.port };
}

function forwardOut(previous: Client, hop: SshTarget, via: SshTarget): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    previous.forwardOut("127.0.0.1", 0, hop.hostname, hop.port, (err, stream) => {
      if (err) {
        reject(
          new PtyError(
            "SSH_CONN_FAILED",
            `Jump host ${labelOf(via)} could not reach ${hop.hostname}:${hop.port} (${err.message}). Check HostName/Port of the next hop and that the jump host allows TCP forwarding.`,
            true,
            { cause: err },
          ),
        );
        return;
      }
      // The next hop's TCP connection ended (its host rebooted, its sshd died): the jump host sends
      // EOF and CLOSE on this channel, but an ssh2 Client over it only sees "end", which stops its
      // keepalive and emits no "close", so a session through the jump would stay "alive" forever.
      // An SSH peer never half-closes: end the stream as a socket ends, and everything over it closes.
      stream.once("end", () => stream.destroy());
      resolve(stream);
    });
  });
}

/** Server host key algorithms with the types known_hosts lists for this host first (as OpenSSH orders them). */
function preferredHostKeyAlgorithms(knownTypes: readonly string[]): ServerHostKeyAlgorithm[] | undefined {
  if (knownTypes.length === 0) return undefined;
  const all: ServerHostKeyAlgorithm[] = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];
  const first: ServerHostKeyAlgorithm[] = [];
  for (const type of knownTypes) {
    const algs: ServerHostKeyAlgorithm[] = type === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : all.filter((a) => a === type);
    for (const a of algs) if (!first.includes(a)) first.push(a);
  }
  return [...first, ...all.filter((a) => !first.includes(a))];
}

async function connectHop(hop: SshTarget, sock: Duplex | undefined, options: Omit<SshSessionOptions, "cols" | "rows">, isFinal: boolean, via: string | undefined): Promise<Connected> {
  const label = hopLabel(hop, via);
  const keyName = hop.hostKeyAlias ?? hop.hostname;
  const knownFiles = [...hop.userKnownHostsFiles, ...hop.globalKnownHostsFiles];
  const entries = loadKnownHosts(knownFiles);
  const serverHostKey = preferredHostKeyAlgorithms(knownKeyTypes(entries, keyName, hop.port));
  const connectTimeoutMs = options.connectTimeoutMs ?? (hop.connectTimeoutS !== undefined && hop.connectTimeoutS > 0 ? hop.connectTimeoutS * 1000 : DEFAULT_CONNECT_TIMEOUT_MS);
  const keepaliveMs = hop.serverAliveIntervalS > 0 ? hop.serverAliveIntervalS * 1000 : (options.defaultKeepaliveMs ?? DEFAULT_KEEPALIVE_MS);

  let hostKeyError: PtyError | undefined;
  let hostKey: HostKeyInfo | undefined;
  const hostVerifier = (key: Buffer): boolean => {
    const info: HostKeyInfo = { fingerprint: fingerprintSha256(key), key_type: keyTypeOfBlob(key) };
    hostKey = info;
    if (options.ignoreHostKey === true) return true;
    const verdict = checkHostKey(entries, keyName, hop.port, key);
    const details = { ...info, host: keyName, port: hop.port };
    switch (verdict.kind) {
      case "trusted":
        return true;
      case "revoked":
        hostKeyError = new PtyError(
          "SSH_HOST_KEY_MISMATCH",
          `The ${info.key_type} host key of ${label.label} (${info.fingerprint}) is marked @revoked in ${verdict.entry.file}:${verdict.entry.line}. Refusing to connect; ask the host's administrator.`,
          false,
          { details: { ...details, revoked: true } },
        );
        return false;
      case "mismatch":
        hostKeyError = new PtyError(
          "SSH_HOST_KEY_MISMATCH",
          `HOST KEY CHANGED for ${label.label}: it now presents ${info.key_type} ${info.fingerprint}, which differs from ${verdict.entry.file}:${verdict.entry.line}. This may be an attack (or the host was reinstalled). Verify out of band; if legitimate, remove the old entry (ssh-keygen -R) and connect again.`,
          false,
          { details: { ...details, known_hosts_file: verdict.entry.file, known_hosts_line: verdict.entry.line } },
        );
        return false;
      case "unknown": {
        const accepted = options.acceptHostKey !== undefined && options.acceptHostKey.trim() === info.fingerprint;
        const policy = hop.strictHostKeyChecking;
        if (accepted || policy === "accept-new" || policy === "no" || policy === "off") {
          const file = hop.userKnownHostsFiles[0];
          if (file !== undefined) {
            try {
              appendKnownHost(file, keyName, hop.port, key, hop.hashKnownHosts);
            } catch (err) {
              hostKeyError = new PtyError("SSH_HOST_KEY_UNKNOWN", `Could not record the host key in ${file}: ${(err as Error).message}. Fix the file's permissions and retry.`, false, { cause: err, details });
              return false;
            }
          }
          return true;
        }
        const wrong =
          options.acceptHostKey === undefined
            ? ""
            : ` accept_host_key ${options.acceptHostKey} does not match the key presented.`;
        hostKeyError = new PtyError(
          "SSH_HOST_KEY_UNKNOWN",
          `The host key of ${label.label} is not in known_hosts: ${info.key_type} ${info.fingerprint}.${wrong} Verify this fingerprint with the host's administrator, then call again with accept_host_key: "${info.fingerprint}" to trust exactly this key and record it.`,
          false,
          { details: verdict.otherTypes.length > 0 ? { ...details, known_key_types: verdict.otherTypes } : details },
        );
        return false;
      }
    }
  };

  const tried: string[] = [];
  const skipped: string[] = [];
  const steps = authSteps(hop, options, isFinal, skipped);
  let authMethod = "none";
  let stepIndex = 0;
  // Our own timer covers TCP connect + key exchange; once auth starts, ssh2's
  // readyTimeout (longer when a human may be asked for a passphrase) takes over.
  let handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  const authHandler = (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, next: (m: AnyAuthMethod | false) => void): void => {
    clearTimeout(handshakeTimer);
    const advance = (): void => {
      while (stepIndex < steps.length) {
        const step = steps[stepIndex++] as AuthStep;
        if (methodsLeft !== null && !methodsLeft.includes(step.type === "agent" ? "publickey" : step.type)) continue;
        const made = step.make(hop.user);
        if (made === undefined) continue;
        if (made instanceof Promise) {
          made.then(
            (method) => {
              if (method === undefined) advance();
              else {
                tried.push(step.label);
                authMethod = step.label;
                next(method);
              }
            },
            () => advance(),
          );
          return;
        }
        tried.push(step.label);
        authMethod = step.label;
        next(made);
        return;
      }
      next(false);
    };
    advance();
  };

  const client = new (lib().Client)();
  const config: ConnectConfig = {
    host: hop.hostname,
    port: hop.port,
    username: hop.user,
    readyTimeout: connectTimeoutMs + (options.askPassphrase === undefined ? connectTimeoutMs : PASSPHRASE_PROMPT_MS),
    keepaliveInterval: keepaliveMs,
    keepaliveCountMax: hop.serverAliveCountMax > 0 ? hop.serverAliveCountMax : 3,
    hostVerifier,
    // ssh2 types the middleware with non-null arrays; it passes null on the first call.
    authHandler: authHandler as unknown as ConnectConfig["authHandler"],
    ...(sock === undefined ? {} : { sock }),
    ...(serverHostKey === undefined ? {} : { algorithms: { serverHostKey } }),
  };
  return new Promise<Connected>((resolve, reject) => {
    let settled = false;
    const onError = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(handshakeTimer);
      client.end();
      reject(hostKeyError ?? mapConnectError(err, label, tried, connectTimeoutMs, skipped));
    };
    client.once("ready", () => {
      if (settled) return;
      settled = true;
      clearTimeout(handshakeTimer);
      client.removeListener("error", onError);
      // Keep an error listener: a later socket error must not crash the process.
      client.on("error", () => {});
      resolve({ client, hostKey: hostKey ?? { fingerprint: "", key_type: "" }, authMethod });
    });
    client.on("error", onError);
    client.once("close", () => onError(new Error("connection closed during setup")));
    try {
      handshakeTimer = setTimeout(() => onError(Object.assign(new Error("handshake timed out"), { level: "client-timeout" })), connectTimeoutMs);
      client.connect(config);
    } catch (err) {
      onError(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

function openChannel(client: Client, options: SshSessionOptions, target: SshTarget): Promise<ClientChannel> {
  const pty = { term: "xterm-256color", cols: options.cols, rows: options.rows, width: 0, height: 0 };
  return new Promise((resolve, reject) => {
    const done = (err: Error | undefined, channel: ClientChannel): void => {
      if (err) {
        reject(new PtyError("SSH_CONN_FAILED", `${labelOf(target)} refused to open a ${options.command === undefined ? "shell" : "command"} channel: ${err.message}. The account may have no shell or sshd limits sessions (MaxSessions).`, true, { cause: err }));
        return;
      }
      resolve(channel);
    };
    if (options.command === undefined) client.shell(pty, done);
    // The command string goes to the remote side as `ssh host command` sends it.
    else client.exec(options.command, { pty }, done);
  });
}
