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
import { existsSync, readFileSync } from "node:fs";
import type { Duplex } from "node:stream";
import type { Client, AnyAuthMethod, AuthenticationType, ClientChannel, ConnectConfig, IdentityCallback, ParsedKey, Prompt, ServerHostKeyAlgorithm } from "ssh2";
import { PtyError } from "../errors";
import { Emitter, type Transport, type TransportCapabilities, type TransportExit } from "../session/transport";
import { resolveSshConfig, type SshTarget } from "./config";
import { mapConnectError, type HopLabel } from "./errors";
import { appendKnownHost, checkHostKey, fingerprintSha256, keyTypeOfBlob, knownKeyTypes, loadKnownHosts } from "./known-hosts";

// ssh2 (pure-JS crypto) is loaded on the first connection, not at server start: it is ~30 ms of a
// cold start that sessions without SSH never need.
type Ssh2 = typeof import("ssh2");
let ssh2: Ssh2 | undefined;
async function loadSsh2(): Promise<Ssh2> {
  const m = (await import("ssh2")) as unknown as Ssh2 & { default?: Ssh2 };
  const loaded: Ssh2 = ssh2 ?? (m.default?.Client ? m.default : m);
  ssh2 = loaded;
  return loaded;
}
function lib(): Ssh2 {
  if (!ssh2) throw new Error("ssh2 used before loadSsh2()");
  return ssh2;
}

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

export interface HostKeyInfo {
  fingerprint: string;
  key_type: string;
}

/** A connected SSH session: the Transport plus what the tool reports. */
export interface SshTransport extends Transport {
  /** `user@hostname:port` of the final hop. */
  readonly target: string;
  readonly hostKey: HostKeyInfo;
  /** How the final hop authenticated (e.g. `publickey (agent)`). */
  readonly authMethod: string;
  /**
   * The account's login shell ($SHELL as sshd sets it), read with `echo "$SHELL"` on an exec
   * channel of the same connection: what shell integration may type its hook into. Undefined
   * when that fails, prints no path, or takes longer than `timeoutMs`.
   */
  loginShell(timeoutMs: number): Promise<string | undefined>;
}

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

/** Connect (through every hop) and authenticate, the way openSshTransport does, without opening a channel. Throws PtyError. */
export async function connectSsh(options: Omit<SshSessionOptions, "cols" | "rows">): Promise<SshConnection> {
  await loadSsh2();
  const target = resolveSshConfig(options.host, {
    ...(options.user === undefined ? {} : { user: options.user }),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.keyPath === undefined ? {} : { keyPath: options.keyPath }),
    ...(options.jump === undefined ? {} : { jump: options.jump }),
    ...(options.userConfigFile === undefined ? {} : { userConfigFile: options.userConfigFile }),
    ...(options.systemConfigFile === undefined ? {} : { systemConfigFile: options.systemConfigFile }),
    ...(options.home === undefined ? {} : { home: options.home }),
  });
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

function labelOf(hop: SshTarget): string {
  const name = hop.alias === hop.hostname ? hop.hostname : `${hop.alias} (${hop.hostname})`;
  return `${hop.user}@${name}:${hop.port}`;
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

interface AuthStep {
  /** Shown in SSH_AUTH_FAILED's "tried" list; never contains a secret. */
  label: string;
  type: AuthenticationType;
  make(username: string): AnyAuthMethod | Promise<AnyAuthMethod | undefined> | undefined;
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

/** Auth in OpenSSH's order; secrets only flow into ssh2, never into labels. */
function authSteps(hop: SshTarget, options: Omit<SshSessionOptions, "cols" | "rows">, isFinal: boolean, skipped: string[]): AuthStep[] {
  const steps: AuthStep[] = [];
  const agentSocket = hop.identityAgent ?? process.env.SSH_AUTH_SOCK;
  if (hop.pubkeyAuthentication && agentSocket !== undefined && agentSocket !== "none" && agentSocket.length > 0 && existsSync(agentSocket)) {
    const filter = hop.identitiesOnly ? publicKeysOf(hop.identityFiles) : undefined;
    steps.push({
      label: "publickey (agent)",
      type: "agent",
      make: (username) => ({ type: "agent", username, agent: filter === undefined ? agentSocket : filteredAgent(agentSocket, filter) }),
    });
  }
  if (hop.pubkeyAuthentication) {
    for (const file of hop.identityFiles) {
      if (!existsSync(file)) continue;
      steps.push({
        label: `publickey (${file})`,
        type: "publickey",
        make: (username) =>
          loadIdentity(file, options).then((loaded) => {
            if ("skip" in loaded) {
              skipped.push(`${file} (${loaded.skip})`);
              return undefined;
            }
            return { type: "publickey", username, key: loaded.key };
          }),
      });
    }
  }
  // A password is for the destination; jump hosts authenticate with keys (as `ssh -J` does non-interactively).
  const password = isFinal ? options.password : undefined;
  if (password !== undefined) {
    if (hop.passwordAuthentication) steps.push({ label: "password", type: "password", make: (username) => ({ type: "password", username, password }) });
    if (hop.kbdInteractiveAuthentication)
      steps.push({
        label: "keyboard-interactive",
        type: "keyboard-interactive",
        make: (username) => ({
          type: "keyboard-interactive",
          username,
          prompt: (_name: string, _instructions: string, _lang: string, prompts: Prompt[], finish: (answers: string[]) => void) => {
            // Answer echo-off prompts (the password question) with the password, others empty.
            finish(prompts.map((p) => (p.echo === true ? "" : password)));
          },
        }),
      });
  }
  return steps;
}

async function loadIdentity(file: string, options: Omit<SshSessionOptions, "cols" | "rows">): Promise<{ key: ParsedKey } | { skip: string }> {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    return { skip: `unreadable: ${(err as NodeJS.ErrnoException).code ?? "error"}` };
  }
  const plain = lib().utils.parseKey(data);
  if (!(plain instanceof Error)) return plain.isPrivateKey() ? { key: plain } : { skip: "not a private key" };
  if (!/encrypted|passphrase/i.test(plain.message)) return { skip: "unsupported key format" };
  let passphrase = options.passphrase;
  if (passphrase === undefined && options.askPassphrase !== undefined) {
    try {
      passphrase = await options.askPassphrase(file);
    } catch (err) {
      // Say why the human was not asked (no dialog, cancelled, timed out); the message holds no secret.
      const why = (err instanceof Error ? err.message : String(err)).split(/(?<=\.) /)[0] ?? "";
      return { skip: `encrypted, asking for the passphrase failed: ${why.replace(/\.$/, "")}` };
    }
  }
  if (passphrase === undefined) return { skip: "encrypted, no passphrase given" };
  const key = lib().utils.parseKey(data, passphrase);
  // ssh2 reports a wrong passphrase as a decrypt/parse error; never echo the passphrase.
  if (key instanceof Error) return { skip: "encrypted, passphrase did not decrypt it" };
  return { key };
}

function publicKeysOf(files: readonly string[]): Buffer[] {
  const keys: Buffer[] = [];
  for (const file of files) {
    for (const candidate of [`${file}.pub`, file]) {
      try {
        const parsed = lib().utils.parseKey(readFileSync(candidate));
        if (!(parsed instanceof Error)) {
          keys.push(parsed.getPublicSSH());
          break;
        }
      } catch {
        // Missing file: next candidate.
      }
    }
  }
  return keys;
}

/** `IdentitiesOnly yes`: offer only the agent keys that match the configured identity files (ssh_config(5)). */
function filteredAgent(socketPath: string, allowed: Buffer[]) {
  const FilteredAgent = filteredAgentClass();
  return new FilteredAgent(socketPath, allowed);
}

let filteredAgentClassCache: ReturnType<typeof makeFilteredAgentClass> | undefined;
function filteredAgentClass() {
  filteredAgentClassCache ??= makeFilteredAgentClass(lib());
  return filteredAgentClassCache;
}

function makeFilteredAgentClass({ OpenSSHAgent }: Ssh2) {
  return class FilteredAgent extends OpenSSHAgent {
  readonly #allowed: Buffer[];
  constructor(socketPath: string, allowed: Buffer[]) {
    super(socketPath);
    this.#allowed = allowed;
  }
  override getIdentities(cb: IdentityCallback<ParsedKey>): void {
    super.getIdentities((err, keys) => {
      if (err || keys === undefined) return cb(err ?? new Error("agent returned no keys"));
      const parsed = keys.filter((k): k is ParsedKey => "getPublicSSH" in k);
      cb(undefined, parsed.filter((k) => this.#allowed.some((a) => a.equals(k.getPublicSSH()))));
    });
  }
  };
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

class SshShell implements SshTransport {
  readonly target: string;
  readonly hostKey: HostKeyInfo;
  readonly authMethod: string;
  readonly capabilities: TransportCapabilities;
  readonly #channel: ClientChannel;
  readonly #clients: Client[];
  readonly #data = new Emitter<Uint8Array>();
  readonly #exit = new Emitter<TransportExit>();
  #pending: Uint8Array[] = [];
  #exited: TransportExit | undefined;
  #exitCode: number | null = null;
  #exitSignal: string | null = null;
  #closing: Promise<void> | undefined;
  #exitWaiters: (() => void)[] = [];

  constructor(channel: ClientChannel, clients: Client[], target: SshTarget, final: { hostKey: HostKeyInfo; authMethod: string }) {
    this.#channel = channel;
    this.#clients = clients;
    this.target = `${target.user}@${target.hostname}:${target.port}`;
    this.hostKey = final.hostKey;
    this.authMethod = final.authMethod;
    this.capabilities = {
      signal: (name: string) => {
        if (this.#exited === undefined) channel.signal(name.replace(/^SIG/, ""));
      },
    };
    const deliver = (chunk: Buffer): void => {
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (this.#data.size === 0) this.#pending.push(bytes);
      else this.#data.emit(bytes);
    };
    channel.on("data", deliver);
    channel.stderr.on("data", deliver);
    channel.on("exit", (code: number | null, signal?: string) => {
      // After our own close the server may or may not get to report the SIGHUP it sent the
      // shell before the connection ends; a hang-up we asked for reports no status, always.
      if (this.#closing !== undefined) return;
      if (typeof code === "number") this.#exitCode = code;
      if (typeof signal === "string") this.#exitSignal = signal;
    });
    channel.on("close", () => this.#finish(undefined));
    const label = labelOf(target);
    for (const client of clients) {
      client.on("close", () => this.#finish(`connection to ${label} lost`));
      client.on("error", (err: Error) => this.#finish(`connection to ${label} lost: ${err.message}`));
    }
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.#exited !== undefined || this.#closing !== undefined)
      return Promise.reject(new PtyError("SESSION_CLOSED", `The SSH session to ${this.target} has ended. Create a new session with create_ssh_session.`));
    return new Promise((resolve, reject) => {
      this.#channel.write(Buffer.from(bytes), (err) => {
        if (err) reject(new PtyError(this.#exited === undefined ? "WRITE_FAILED" : "SESSION_CLOSED", `Writing to ${this.target} failed: ${err.message}.`, false, { cause: err }));
        else resolve();
      });
    });
  }

  resize(size: { cols: number; rows: number }): void {
    if (this.#exited === undefined) this.#channel.setWindow(size.rows, size.cols, 0, 0);
  }

  loginShell(timeoutMs: number): Promise<string | undefined> {
    const client = this.#clients.at(-1);
    if (client === undefined || this.#exited !== undefined || this.#closing !== undefined) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      let out = "";
      let channel: ClientChannel | undefined;
      const finish = (shell: string | undefined): void => {
        clearTimeout(timer);
        try {
          channel?.close();
        } catch {
          // already closed
        }
        resolve(shell);
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      client.exec('echo "$SHELL"', (err, ch) => {
        if (err) {
          finish(undefined);
          return;
        }
        channel = ch;
        ch.on("data", (chunk: Buffer) => {
          if (out.length < 4096) out += chunk.toString("utf8");
        });
        ch.stderr.on("data", () => {});
        // A chatty rc file may print first: the shell is the last line that is a path.
        ch.on("close", () => finish(out.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.startsWith("/")).pop()));
      });
    });
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (this.#exited !== undefined) {
        this.#endClients();
        resolve();
        return;
      }
      this.#exitWaiters.push(resolve);
      this.#channel.close();
      this.#endClients();
      // If the peer never answers the close, the socket end above still emits client "close".
    });
    return this.#closing;
  }

  onData(listener: (bytes: Uint8Array) => void): Disposable {
    const disposable = this.#data.on(listener);
    if (this.#pending.length > 0) {
      const pending = this.#pending;
      this.#pending = [];
      for (const chunk of pending) listener(chunk);
    }
    return disposable;
  }

  onExit(listener: (exit: TransportExit) => void): Disposable {
    const exited = this.#exited;
    if (exited !== undefined) {
      queueMicrotask(() => listener(exited));
      return { [Symbol.dispose]: () => {} };
    }
    return this.#exit.on(listener);
  }

  #finish(reason: string | undefined): void {
    if (this.#exited !== undefined) return;
    const gotStatus = this.#exitCode !== null || this.#exitSignal !== null;
    const exit: TransportExit = { code: this.#exitCode, signal: this.#exitSignal };
    if (!gotStatus && reason !== undefined) exit.reason = reason;
    else if (!gotStatus && this.#closing === undefined) exit.reason = "the server closed the channel without an exit status";
    this.#exited = exit;
    this.#endClients();
    this.#exit.emit(exit);
    for (const waiter of this.#exitWaiters.splice(0)) waiter();
  }

  #endClients(): void {
    for (const client of [...this.#clients].reverse()) client.end();
  }
}
