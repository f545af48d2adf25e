// Running commands and moving files on a remote host over an authenticated SSH connection
// (ssh2 exec channels and SFTP). The only place src/deploy touches ssh2.
import type { Client, ClientChannel, SFTPWrapper } from "ssh2";

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** POSIX-shell single quoting: the remote login shell sees exactly `value`. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Runs `command` (a shell command line) and collects its output and exit status. */
export function exec(client: Client, command: string, options: { stdin?: Uint8Array } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, channel) => {
      if (err) return reject(err);
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let code: number | null = null;
      let signal: string | null = null;
      channel.on("data", (chunk: Buffer) => out.push(chunk));
      channel.stderr.on("data", (chunk: Buffer) => errOut.push(chunk));
      channel.on("exit", (c: number | null, s?: string) => {
        code = typeof c === "number" ? c : null;
        signal = typeof s === "string" ? s : null;
      });
      channel.on("close", () => resolve({ code, signal, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(errOut).toString("utf8") }));
      if (options.stdin) channel.end(Buffer.from(options.stdin));
      else channel.end();
    });
  });
}

/** Opens an exec channel for a long-running command (the remote `pty-mcp client`). */
export function execChannel(client: Client, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, channel) => (err ? reject(err) : resolve(channel)));
  });
}

export function openSftp(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}

/** Writes `data` to `remotePath` (created 0600, truncated) over SFTP. */
export function sftpWriteFile(sftp: SFTPWrapper, remotePath: string, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = sftp.createWriteStream(remotePath, { mode: 0o600, flags: "w" });
    stream.once("error", reject);
    stream.once("close", () => resolve());
    stream.end(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
}
