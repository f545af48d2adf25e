// `pty-mcp deploy HOST [--user U] [--port N] [--path P] [--force] [--json]`: put this pty-mcp
// (the build matching the host's OS, CPU and libc) on a host over SSH, so persistent SSH
// sessions can run its daemon there. Connects like create_ssh_session (~/.ssh/config, agent,
// identity files, known_hosts). Exit 0 installed or already current, 1 failed, 2 usage.
import { deployBinary } from "../deploy/deploy.ts";
import { errorMessage, PtyError } from "../errors.ts";
import { openRemoteDaemon } from "../persistent/ssh-link.ts";
import { passphraseAsker } from "../ssh/open-ssh.ts";
import { connectSsh } from "../ssh/ssh-transport.ts";

const USAGE = `usage: pty-mcp deploy HOST [--user U] [--port N] [--path P] [--force] [--json] [--accept-host-key SHA256:…]
  HOST may be user@host or an alias from ~/.ssh/config. Default path: ~/.local/bin/pty-mcp.
  Builds come from $PTY_MCP_RELEASE_DIR, this binary's directory, this binary itself (same
  OS/CPU/libc), or the release URL; the upload is checked by SHA-256 on the host.
`;

export async function main(args: string[]): Promise<number> {
  let host: string | undefined;
  let user: string | undefined;
  let port: number | undefined;
  let path: string | undefined;
  let acceptHostKey: string | undefined;
  let force = false;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = (): string | undefined => args[++i];
    if (arg === "--help" || arg === "-h") {
      process.stdout.write(USAGE);
      return 0;
    } else if (arg === "--user" || arg === "-l") user = value();
    else if (arg === "--port" || arg === "-p") port = Number(value());
    else if (arg === "--path") path = value();
    else if (arg === "--accept-host-key") acceptHostKey = value();
    else if (arg === "--force") force = true;
    else if (arg === "--json") json = true;
    else if (!arg.startsWith("-") && host === undefined) host = arg;
    else {
      process.stderr.write(`pty-mcp deploy: unexpected argument ${JSON.stringify(arg)}\n${USAGE}`);
      return 2;
    }
  }
  if (!host || (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) || path === "" || user === "") {
    process.stderr.write(USAGE);
    return 2;
  }
  const at = host.lastIndexOf("@");
  if (at > 0 && user === undefined) {
    user = host.slice(0, at);
    host = host.slice(at + 1);
  }
  let connection;
  try {
    connection = await connectSsh({
      host,
      askPassphrase: passphraseAsker(host, undefined),
      ...(user !== undefined ? { user } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(acceptHostKey !== undefined ? { acceptHostKey } : {}),
    });
  } catch (err) {
    process.stderr.write(`pty-mcp deploy: ${errorMessage(err)}\n`);
    return 1;
  }
  try {
    const result = await deployBinary(
      { client: connection.client, label: connection.target },
      { force, ...(path !== undefined ? { path } : {}), log: (line) => process.stderr.write(`pty-mcp deploy: ${line}\n`), openDaemon: openRemoteDaemon },
    );
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else if (result.action === "unchanged") process.stdout.write(`${connection.target}: ${result.path} is already pty-mcp ${result.version}\n`);
    else process.stdout.write(`${connection.target}: installed pty-mcp ${result.version} (${result.target}) at ${result.path}\n`);
    return 0;
  } catch (err) {
    const code = err instanceof PtyError ? `${err.code}: ` : "";
    process.stderr.write(`pty-mcp deploy: ${code}${errorMessage(err)}\n`);
    return 1;
  } finally {
    connection.end();
  }
}
