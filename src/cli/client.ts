// `pty-mcp client [--socket P]` (alias `ai-tmux client`): a plain byte bridge between
// stdin/stdout and the daemon's socket, starting the daemon if none runs. It adds nothing to
// the stream (the peer on stdin says hello itself), which is what an SSH exec channel needs:
// `ssh host pty-mcp client` gives the far end's daemon to a local DaemonClient.
import { openDaemonSocket } from "../daemon-client/client.ts";
import { errorMessage } from "../errors.ts";
import { VERSION } from "../version.ts";
import { parseOptions, SOCKET_OPTION, socketPathOf } from "./options.ts";

const USAGE = "usage: pty-mcp client [--socket PATH]\n";

export async function main(args: string[]): Promise<number> {
  const parsed = parseOptions("client", USAGE, args, { values: SOCKET_OPTION });
  if (typeof parsed === "number") return parsed;
  const socketPath = socketPathOf(parsed.values);
  let socket;
  try {
    socket = await openDaemonSocket({ socketPath, autostart: true, client: `pty-mcp ${VERSION} client` });
  } catch (err) {
    process.stderr.write(`pty-mcp client: ${errorMessage(err)}\n`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    let code = 0;
    socket.on("error", (err) => {
      process.stderr.write(`pty-mcp client: ${errorMessage(err)}\n`);
      code = 1;
    });
    process.stdout.on("error", () => socket.destroy());
    // stdin → daemon; stdin's end half-closes the socket, the daemon then closes its side.
    process.stdin.on("data", (chunk: Buffer) => {
      if (!socket.write(chunk)) {
        process.stdin.pause();
        socket.once("drain", () => process.stdin.resume());
      }
    });
    process.stdin.on("end", () => socket.end());
    // daemon → stdout, with backpressure.
    socket.on("data", (chunk: Buffer) => {
      if (!process.stdout.write(chunk)) {
        socket.pause();
        process.stdout.once("drain", () => socket.resume());
      }
    });
    socket.on("close", () => {
      // Let stdout flush what it holds before the process exits.
      if (process.stdout.writableLength === 0) resolve(code);
      else process.stdout.once("drain", () => resolve(code));
    });
  });
}
