// The SSH Transport: the shell (or command) channel of a connected client chain. Output that
// arrives before the first onData listener is kept and delivered to it; an exit that happens
// before the first onExit listener is delivered to it too.
import type { Client, ClientChannel } from "ssh2";
import { PtyError } from "../errors.ts";
import { Emitter, HeldData, type Transport, type TransportCapabilities, type TransportExit } from "../session/transport.ts";
import type { SshTarget } from "./config.ts";

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

/** `user@host:port` (with the alias when it differs) for messages and session targets. */
export function labelOf(hop: SshTarget): string {
  const name = hop.alias === hop.hostname ? hop.hostname : `${hop.alias} (${hop.hostname})`;
  return `${hop.user}@${name}:${hop.port}`;
}

export class SshShell implements SshTransport {
  readonly target: string;
  readonly hostKey: HostKeyInfo;
  readonly authMethod: string;
  readonly capabilities: TransportCapabilities;
  readonly #channel: ClientChannel;
  readonly #clients: Client[];
  /** Set for a channel on a pooled connection: closing gives the connection back instead of ending it. */
  readonly #release: (() => void) | undefined;
  readonly #detach: (() => void)[] = [];
  readonly #data = new HeldData();
  readonly #exit = new Emitter<TransportExit>();
  #exited: TransportExit | undefined;
  #exitCode: number | null = null;
  #exitSignal: string | null = null;
  #closing: Promise<void> | undefined;
  #exitWaiters: (() => void)[] = [];

  constructor(channel: ClientChannel, clients: Client[], target: SshTarget, final: { hostKey: HostKeyInfo; authMethod: string }, release?: () => void) {
    this.#channel = channel;
    this.#clients = clients;
    this.#release = release;
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
      this.#data.emit(bytes);
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
      const onClose = (): void => this.#finish(`connection to ${label} lost`);
      const onError = (err: Error): void => this.#finish(`connection to ${label} lost: ${err.message}`);
      client.on("close", onClose);
      client.on("error", onError);
      this.#detach.push(() => {
        client.removeListener("close", onClose);
        client.removeListener("error", onError);
      });
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
    return this.#data.on(listener);
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
    if (this.#release !== undefined) {
      // A shared connection: close our channel, stop listening, give the connection back (once).
      for (const detach of this.#detach.splice(0)) detach();
      this.#channel.close();
      this.#release();
      // No client "close" will end a wait for a server that never confirms the channel close.
      if (this.#exited === undefined) setTimeout(() => this.#finish(undefined), 3000).unref?.();
      return;
    }
    for (const client of [...this.#clients].reverse()) client.end();
  }
}
