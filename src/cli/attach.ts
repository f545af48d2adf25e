// `pty-mcp attach ID [--socket P]`: a human attaches their terminal to a persistent session.
// The screen is drawn from the daemon's screen state, then output streams live; keys go to
// the session (alongside the agent), the session follows the window's size while attached,
// and ctrl+] d detaches (the work keeps running; the previous size is given back).
import { connectDaemon, type DaemonClient } from "../daemon-client/client.ts";
import { DETACH_CHORD_NAME, DetachChord } from "./detach-chord.ts";
import type { Event } from "../daemon/protocol.ts";
import { errorMessage } from "../errors.ts";
import { RESET_TERMINAL } from "../terminal/serialize.ts";
import { VERSION } from "../version.ts";
import { parseOptions, SOCKET_OPTION, socketPathOf } from "./options.ts";

const USAGE = `usage: pty-mcp attach ID [--socket PATH]\n  detach with ${DETACH_CHORD_NAME} (ctrl+] twice sends one ctrl+])\n`;

export async function main(args: string[]): Promise<number> {
  const parsed = parseOptions("attach", USAGE, args, { values: SOCKET_OPTION, positionals: 1 });
  if (typeof parsed === "number") return parsed;
  const socketPath = socketPathOf(parsed.values);
  const id = parsed.positionals[0];
  if (!id) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    process.stderr.write("pty-mcp attach: needs a terminal on stdin and stdout.\n");
    return 2;
  }
  let client: DaemonClient;
  try {
    client = await connectDaemon({ socketPath, autostart: false, client: `pty-mcp ${VERSION} attach (pid ${process.pid})` });
  } catch (err) {
    process.stderr.write(`pty-mcp attach: ${errorMessage(err)}\n`);
    return 1;
  }
  return attach(client, id);
}

async function attach(client: DaemonClient, id: string): Promise<number> {
  const stdin = process.stdin;
  const stdout = process.stdout;
  const windowSize = () => ({ cols: Math.max(2, stdout.columns || 80), rows: Math.max(2, stdout.rows || 24) });

  let before: { cols: number; rows: number };
  try {
    const { session } = await client.request({ type: "state", session: id });
    before = { cols: session.cols, rows: session.rows };
    if (!session.is_alive) {
      process.stderr.write(`pty-mcp attach: ${id} has ended (${session.exit?.signal ?? `exit code ${session.exit?.code}`}); nothing to attach to.\n`);
      client.close();
      return 1;
    }
    // The session takes the window's size first, so the screen we get back fits it.
    await client.request({ type: "resize", session: id, ...windowSize() });
  } catch (err) {
    process.stderr.write(`pty-mcp attach: ${errorMessage(err)}\n`);
    client.close();
    return 1;
  }
  let applied = windowSize();
  let othersResized = false;

  return new Promise<number>((resolve) => {
    let finished = false;
    let queued: Array<[Event, Uint8Array]> | undefined = [];
    const chord = new DetachChord();

    const finish = async (message: string, code: number, detach: boolean) => {
      if (finished) return;
      finished = true;
      stdin.off("data", onKeys);
      stdout.off("resize", onResize);
      if (detach) {
        // Give the session its size back unless someone else changed it meanwhile.
        if (!othersResized && (before.cols !== applied.cols || before.rows !== applied.rows)) {
          await client.request({ type: "resize", session: id, ...before }).catch(() => undefined);
        }
        await client.request({ type: "detach", session: id }).catch(() => undefined);
      }
      subscription[Symbol.dispose]();
      try {
        stdin.setRawMode(false);
      } catch {
        // not a terminal any more
      }
      stdin.pause();
      stdout.write(`${RESET_TERMINAL}\r\n[pty-mcp] ${message}\r\n`);
      client.close();
      resolve(code);
    };

    const onEvent = (event: Event, body: Uint8Array) => {
      if (queued) {
        queued.push([event, body]);
        return;
      }
      switch (event.type) {
        case "output":
          stdout.write(body);
          break;
        case "resized":
          othersResized = true;
          break;
        case "exit":
          void finish(`${id} ended (${event.signal ? `killed by ${event.signal}` : `exit code ${event.code}`}).`, 0, false);
          break;
        case "closed":
          void finish(`${id} is gone: ${event.reason}.`, 0, false);
          break;
      }
    };
    const subscription = client.subscribe(id, onEvent);
    client.onClose((reason) => void finish(`lost the connection to the daemon (${reason}).`, 1, false));

    const onKeys = (chunk: Buffer) => {
      const { send, detach } = chord.feed(chunk);
      if (send.length > 0) void client.request({ type: "write", session: id }, send).catch(() => undefined);
      if (detach) void finish(`detached from ${id}; it keeps running (pty-mcp attach ${id} to return).`, 0, true);
    };
    const onResize = () => {
      applied = windowSize();
      void client.request({ type: "resize", session: id, ...applied }).catch(() => undefined);
    };

    client.request({ type: "attach", session: id, screen: true }).then(
      (reply) => {
        stdin.setRawMode(true);
        stdin.resume();
        stdin.on("data", onKeys);
        stdout.on("resize", onResize);
        if (reply.screen) stdout.write(reply.screen);
        const early = queued ?? [];
        queued = undefined;
        for (const [event, body] of early) onEvent(event, body);
      },
      (err: unknown) => void finish(`cannot attach to ${id}: ${errorMessage(err)}`, 1, false),
    );
  });
}
