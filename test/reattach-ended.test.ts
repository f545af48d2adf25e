// Reattaching to a persistent session that has ended (issue #21 item 12). The daemon answers
// attach first and then replays the output and the exit event; a mirror built from the reply
// alone said is_alive: true (with a pid) when the exit event came in a later read. Seen once
// under load in daemon.test.ts (the daemon preempted between writing the output and the exit);
// a scripted daemon that sends the exit 1 s after the output makes the window wide every time.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { encodeFrame, FrameDecoder } from "../src/daemon/protocol.ts";
import { cleanupDaemons, runtimeDir, server } from "./harness/daemon.ts";

afterEach(cleanupDaemons);

type Json = Record<string, unknown>;

/**
 * A daemon we script, on the socket the server looks for: it answers attach for an ended session,
 * sends the output at once and the exit event `exitDelayMs` later (events may follow the reply
 * by any time: a loaded daemon is preempted between writes).
 */
async function scriptedDaemon(rt: string, exitDelayMs: number): Promise<Server> {
  const dir = join(rt, "pty-mcp");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const info = { id: "local-0000e0d0", type: "local", target: "sh -c 'echo bye; exit 3'", pid: 4242, cols: 120, rows: 40, created_at: new Date().toISOString(), last_used: new Date().toISOString(), is_alive: false, exit: { code: 3, signal: null }, start: 0, end: 5, read_mark: 0, clients: 0, state: "unknown", auto_pager: false };
  const daemon = createServer((socket) => {
    const decoder = new FrameDecoder();
    socket.on("error", () => undefined);
    socket.on("data", (chunk: Buffer) => {
      for (const { header } of decoder.push(chunk)) {
        const reply = (result: object) => socket.write(encodeFrame({ type: "reply", id: header.id, ok: true, result }));
        if (header.type === "hello") socket.write(encodeFrame({ type: "hello", protocol: "pty-mcp", version: 1, daemon: "pty-mcp scripted", pid: process.pid }));
        else if (header.type === "attach") {
          reply({ session: info, from: 0, is_truncated: false });
          socket.write(encodeFrame({ type: "output", session: info.id, cursor: 0 }, new TextEncoder().encode("bye\r\n")));
          setTimeout(() => socket.write(encodeFrame({ type: "exit", session: info.id, code: 3, signal: null })), exitDelayMs);
        } else if (header.type === "state") reply({ session: info });
        else if (header.type === "list") reply({ sessions: [info] });
        else reply({});
      }
    });
  });
  await new Promise<void>((resolve) => daemon.listen(join(dir, "daemon.sock"), resolve));
  chmodSync(join(dir, "daemon.sock"), 0o600);
  return daemon;
}

describe("reattach to an ended session", () => {
  test("the attach reply says ended, the exit event comes 1 s later: the reattach result is already ended (is_alive false, exit_code 3)", async () => {
    const rt = runtimeDir();
    const daemon = await scriptedDaemon(rt, 1000);
    try {
      const h = await server(rt);
      const back = await h.call<Json>("create_local_session", { session_id: "local-0000e0d0" });
      const output = await h.call<Json>("read_output", { session_id: "local-0000e0d0", since_cursor: 0 });
      expect({ alive: back.is_alive, exit: back.exit_code, output: output.output, outputAlive: output.is_alive }).toEqual({ alive: false, exit: 3, output: "bye\n", outputAlive: false });
      await h.close();
    } finally {
      daemon.close();
    }
  }, 60_000);
});
