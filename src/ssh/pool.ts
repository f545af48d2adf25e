/**
 * One authenticated SSH connection per host, shared (SPEC §10, like OpenSSH's ControlMaster):
 * run_on_hosts, transfer_file and create_ssh_session lease it, open their channels on it, and
 * release it. A connection nobody has leased for `idleMs` (10 minutes) is closed; one whose
 * socket fails or closes is dropped at once, so the next lease connects afresh. Concurrent
 * leases of a host that is still connecting wait for that one attempt; a failed attempt is not
 * kept (the next call tries again).
 *
 * Connecting is connectSsh's: the same ssh_config, agent, identity files, known_hosts and
 * host-key policy as create_ssh_session, on every hop.
 */
import { createHash } from "node:crypto";
import { connectSsh, resolveTarget, type SshConnection, type SshSessionOptions } from "./ssh-transport.ts";

type SshConnectOptions = Omit<SshSessionOptions, "cols" | "rows">;

export const POOL_IDLE_MS = 10 * 60 * 1000;

export interface Lease extends Disposable {
  readonly connection: SshConnection;
  /** True when this lease reused an open connection. */
  readonly reused: boolean;
  /** Gives the connection back (idempotent). */
  release(): void;
  /**
   * A channel was refused on this connection (it may have died unnoticed, or sshd's MaxSessions is
   * reached): it is never leased again (later leases connect afresh) and it closes once no lease holds
   * it. Others' channels on it go on: a refusal for one caller must not end their sessions.
   */
  discard(): void;
}

interface Entry {
  key: string;
  connecting: Promise<SshConnection>;
  connection: SshConnection | undefined;
  leases: number;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  dead: boolean;
  /** Out of the pool after a discard: closed when its last lease is released. */
  retired: boolean;
}

export interface PoolStats {
  open: number;
  /** Connections made since the pool was created (a reused one does not count). */
  connects: number;
}

export class ConnectionPool {
  readonly #entries = new Map<string, Entry>();
  readonly #idleMs: number;
  readonly #connect: (options: SshConnectOptions) => Promise<SshConnection>;
  #connects = 0;

  constructor(options: { idleMs?: number; connect?: (options: SshConnectOptions) => Promise<SshConnection> } = {}) {
    this.#idleMs = options.idleMs ?? POOL_IDLE_MS;
    this.#connect = options.connect ?? connectSsh;
  }

  stats(): PoolStats {
    return { open: [...this.#entries.values()].filter((e) => e.connection !== undefined && !e.dead).length, connects: this.#connects };
  }

  /** A lease on the host's connection if one is open now (never connects): create_ssh_session's reuse. */
  lookup(options: SshConnectOptions): Lease | undefined {
    const entry = this.#entries.get(poolKey(options));
    if (entry === undefined || entry.dead || entry.connection === undefined) return undefined;
    entry.leases++;
    clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    return this.#lease(entry, entry.connection, true);
  }

  /** A lease on the host's connection, connecting if there is none. Throws connectSsh's PtyError. */
  async acquire(options: SshConnectOptions): Promise<Lease> {
    const key = poolKey(options);
    let entry = this.#entries.get(key);
    const reused = entry?.connection !== undefined;
    if (entry === undefined || entry.dead) {
      entry = this.#start(key, options);
    }
    const e = entry;
    e.leases++;
    clearTimeout(e.idleTimer);
    e.idleTimer = undefined;
    let connection: SshConnection;
    try {
      connection = await e.connecting;
    } catch (err) {
      e.leases--;
      throw err;
    }
    return this.#lease(e, connection, reused);
  }

  #lease(e: Entry, connection: SshConnection, reused: boolean): Lease {
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      e.leases--;
      if (e.leases === 0 && !e.dead) {
        if (e.retired) {
          this.#drop(e);
          return;
        }
        e.idleTimer = setTimeout(() => this.#drop(e), this.#idleMs);
        e.idleTimer.unref?.();
      }
    };
    return {
      connection,
      reused,
      release,
      discard: () => {
        if (this.#entries.get(e.key) === e) this.#entries.delete(e.key);
        e.retired = true;
        release();
        if (e.leases === 0) this.#drop(e);
      },
      [Symbol.dispose]: release,
    };
  }

  /** Closes every connection (server shutdown). */
  closeAll(): void {
    for (const entry of [...this.#entries.values()]) this.#drop(entry);
  }

  #start(key: string, options: SshConnectOptions): Entry {
    const entry: Entry = { key, connecting: Promise.resolve() as unknown as Promise<SshConnection>, connection: undefined, leases: 0, idleTimer: undefined, dead: false, retired: false };
    this.#connects++;
    entry.connecting = this.#connect(options).then(
      (connection) => {
        entry.connection = connection;
        for (const client of connection.clients) {
          client.on("close", () => this.#drop(entry));
          client.on("error", () => this.#drop(entry));
        }
        if (entry.dead) connection.end();
        return connection;
      },
      (err: unknown) => {
        entry.dead = true;
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
        throw err;
      },
    );
    // Every awaiter handles the rejection; this keeps an unawaited one from being "unhandled".
    entry.connecting.catch(() => undefined);
    this.#entries.set(key, entry);
    return entry;
  }

  #drop(entry: Entry): void {
    if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
    if (entry.dead) return;
    entry.dead = true;
    clearTimeout(entry.idleTimer);
    entry.connection?.end();
  }
}

/**
 * Leases are per destination and credentials, as ~/.ssh/config resolves them (so `web1` and its
 * HostName share one connection): user@hostname:port of every hop, the key, the host-key option.
 * A password is part of the key only as a hash (different passwords never share a connection;
 * the password itself is not kept).
 */
export function poolKey(options: SshConnectOptions): string {
  const password = options.password === undefined ? undefined : createHash("sha256").update(options.password).digest("base64");
  let route: string[];
  try {
    const t = resolveTarget(options);
    route = [...t.proxyJump, t].map((hop) => `${hop.user}@${hop.hostname}:${hop.port}`);
  } catch {
    // connectSsh reports the problem; such options never share a connection with good ones.
    route = [`unresolved:${options.host}:${options.user}:${options.port}:${options.jump}`];
  }
  return JSON.stringify([route, options.keyPath, options.ignoreHostKey === true, password]);
}

/** The server's pool (one per process). */
export const sharedPool = new ConnectionPool();
