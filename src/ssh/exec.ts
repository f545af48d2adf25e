/**
 * Commands on exec channels of an open connection (`ssh host command`), for the fleet: output
 * streamed to a callback, stdin closed at once unless a PTY was asked for, the exit status
 * or signal, and a stop that sends SIGKILL and closes the channel.
 */
import type { ClientChannel } from "ssh2";
import type { SshConnection } from "./ssh-transport.ts";

export interface ExecExit {
  code: number | null;
  signal?: string;
}

export interface ExecHandle {
  /** Settles when the channel closes (after stop() too). */
  readonly done: Promise<ExecExit>;
  /** SIGKILL (where sshd honours signals) and close; idempotent. */
  stop(): void;
}

/** The server refused to open the channel (MaxSessions, a dead connection). */
export class ChannelOpenError extends Error {}

/** `onData` gets stdout (and stderr too unless `onStderr` is given), as they arrive. */
export function openExec(connection: SshConnection, command: string, options: { pty?: boolean; onData: (bytes: Uint8Array) => void; onStderr?: (bytes: Uint8Array) => void }): Promise<ExecHandle> {
  return new Promise((resolve, reject) => {
    const ptyOptions = options.pty === true ? { pty: { term: "xterm-256color", cols: 200, rows: 50, width: 0, height: 0 } } : {};
    connection.client.exec(command, ptyOptions, (err, channel: ClientChannel) => {
      if (err) {
        reject(new ChannelOpenError(err.message));
        return;
      }
      let code: number | null = null;
      let signal: string | undefined;
      const onData = (chunk: Buffer): void => options.onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      const onStderr = options.onStderr;
      channel.on("data", onData);
      channel.stderr.on("data", onStderr === undefined ? onData : (chunk: Buffer) => onStderr(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
      channel.on("exit", (c: number | null, s?: string) => {
        if (typeof c === "number") code = c;
        if (typeof s === "string") signal = s;
      });
      const done = new Promise<ExecExit>((settle) => channel.on("close", () => settle(signal === undefined ? { code } : { code, signal })));
      // Nothing is typed into the command: EOF now, so `cat` and friends end instead of waiting.
      if (options.pty !== true) channel.end();
      let stopped = false;
      resolve({
        done,
        stop: () => {
          if (stopped) return;
          stopped = true;
          sendSignal(channel, "KILL");
          channel.close();
        },
      });
    });
  });
}

/**
 * A `signal` channel request (RFC 4254 §6.9; sshd killpg()s the session). ssh2's
 * Channel.signal() sends nothing once stdin has been ended (it checks `writable`), and we end
 * stdin at once; the protocol call underneath has no such check.
 */
function sendSignal(channel: ClientChannel, name: string): void {
  const c = channel as unknown as { _client?: { _protocol?: { signal(id: number, name: string): void } }; outgoing?: { id?: number; state?: string } };
  try {
    if ((c.outgoing?.state === "open" || c.outgoing?.state === "eof") && c.outgoing.id !== undefined) c._client?._protocol?.signal(c.outgoing.id, name);
  } catch {
    // the connection is gone
  }
}
