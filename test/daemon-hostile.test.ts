// The daemon and its client against hostile or broken peers (issue #21 items 8 and 10): idle
// connections, connection floods, partial frames, and frames that do not fit the protocol.
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { join } from "node:path";
import { type ByteStream, DaemonClient } from "../src/daemon-client/client.ts";
import { clientHello, encodeFrame, FrameDecoder } from "../src/daemon/protocol.ts";
import { PtyError } from "../src/errors.ts";
import { cleanupDaemons, daemonPid, runtimeDir, server, until } from "./harness/daemon.ts";
import { binary, plainBash } from "./harness/mcp.ts";

afterEach(cleanupDaemons);

type Json = Record<string, unknown>;
const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

/** A raw connection to the daemon; `closed` turns true when the daemon hangs up (maybe before we saw it connect). */
function connect(path: string): Promise<{ socket: Socket; closed: () => boolean }> {
  return new Promise((resolve) => {
    let closed = false;
    const socket = createConnection({ path });
    sockets.push(socket);
    const done = () => resolve({ socket, closed: () => closed });
    socket.on("error", () => undefined);
    socket.once("close", () => {
      closed = true;
      done();
    });
    socket.once("connect", done);
  });
}

function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
}

async function daemonWithSession(): Promise<{ rt: string; socketPath: string; pid: number; h: Awaited<ReturnType<typeof server>> }> {
  const rt = runtimeDir();
  const h = await server(rt);
  await h.call("create_local_session", { ...plainBash, persistent: true });
  return { rt, socketPath: join(rt, "pty-mcp", "daemon.sock"), pid: daemonPid(rt)!, h };
}

describe("daemon against hostile clients", () => {
  test("40 idle connections that never say hello: a real client still gets in, and the daemon closes them all (hello deadline)", async () => {
    const { rt, socketPath } = await daemonWithSession();
    const idle = await Promise.all(Array.from({ length: 40 }, () => connect(socketPath)));
    // A new server opens a new connection while 40 silent ones are open.
    const h2 = await server(rt);
    const s = await h2.call<Json>("create_local_session", { ...plainBash, persistent: true });
    expect(s.is_alive).toBe(true);
    await until(() => idle.every((c) => c.closed()), "the daemon to close the idle connections", 30_000);
    expect(idle.filter((c) => c.closed()).length).toBe(40);
  }, 60_000);

  test("connections that said hello are capped at a quarter of the fd limit (at most 256)", async () => {
    const { socketPath, pid } = await daemonWithSession();
    const soft = Number(/^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"))?.[1]);
    const cap = Math.max(8, Math.min(256, Math.floor(soft / 4)));
    const conns: { socket: Socket; closed: () => boolean }[] = [];
    for (let i = 0; i < cap + 20; i++) {
      const c = await connect(socketPath);
      c.socket.write(encodeFrame(clientHello(`flood ${i}`)));
      conns.push(c);
    }
    // The server's own connection counts too: at most cap - 1 of ours stay.
    await until(() => conns.filter((c) => c.closed()).length >= 21, "the connections over the cap to be closed", 30_000);
    await Bun.sleep(200);
    const open = conns.filter((c) => !c.closed()).length;
    expect({ atMostCap: open <= cap - 1, refused: conns.length - open >= 21 }).toEqual({ atMostCap: true, refused: true });
  }, 60_000);

  test("a daemon with 256 fds and 300 connections that said hello: it keeps at most 64 of them, and creating a session still works", async () => {
    const rt = runtimeDir();
    const socketPath = join(rt, "pty-mcp", "daemon.sock");
    // The daemon started by hand under a 256-fd limit; the server finds it on the socket.
    const daemon = Bun.spawn(["prlimit", "--nofile=256:256", "--", binary, "daemon", "--foreground", "--socket", socketPath], { stdout: "pipe", stderr: "ignore", env: { ...process.env, XDG_RUNTIME_DIR: rt } });
    const reader = daemon.stdout.getReader();
    await reader.read();
    reader.releaseLock();
    try {
      const h = await server(rt);
      await h.call("create_local_session", { ...plainBash, persistent: true });
      const conns: { socket: Socket; closed: () => boolean }[] = [];
      for (let i = 0; i < 300; i++) {
        const c = await connect(socketPath);
        c.socket.write(encodeFrame(clientHello(`flood ${i}`)));
        conns.push(c);
      }
      const created = [];
      for (let i = 0; i < 5; i++) created.push((await h.call<Json>("create_local_session", { ...plainBash, persistent: true })).is_alive);
      const open = conns.filter((c) => !c.closed()).length;
      expect({ created, keptAtMost64: open <= 63 }).toEqual({ created: [true, true, true, true, true], keptAtMost64: true });
    } finally {
      daemon.kill("SIGKILL");
    }
  }, 90_000);

  test("20 partial 8 MiB frames: the partial-frame budget closes connections, RSS stays bounded, sessions keep working", async () => {
    const { socketPath, pid, h } = await daemonWithSession();
    const before = rssKb(pid);
    const conns: { socket: Socket; closed: () => boolean }[] = [];
    const chunk = new Uint8Array(1024 * 1024).fill(0x61);
    for (let i = 0; i < 20; i++) {
      const c = await connect(socketPath);
      c.socket.write(encodeFrame(clientHello(`partial ${i}`)));
      const head = new Uint8Array(8);
      new DataView(head.buffer).setUint32(0, 16 * 1024 * 1024 - 8);
      new DataView(head.buffer).setUint32(4, 2);
      c.socket.write(head);
      for (let j = 0; j < 8; j++) c.socket.write(chunk);
      // Until the daemon read it all, or hung up.
      await new Promise<void>((resolve) => {
        if (c.socket.writableLength === 0 || c.closed()) return resolve();
        c.socket.once("drain", () => resolve());
        c.socket.once("close", () => resolve());
      });
      conns.push(c);
    }
    await until(() => conns.filter((c) => c.closed()).length >= 10, "the budget to close connections", 30_000);
    const grownMb = (rssKb(pid) - before) / 1024;
    const s = await h.call<Json>("create_local_session", { ...plainBash, persistent: true });
    expect({ closedAtLeast10: conns.filter((c) => c.closed()).length >= 10, rssBounded: grownMb < 64 + 64, alive: s.is_alive }).toEqual({
      closedAtLeast10: true,
      rssBounded: true,
      alive: true,
    });
  }, 90_000);
});

/** A peer we script: what the client writes is decoded into `received`; `send` pushes frames at it. */
function scriptedPeer() {
  let onData: ((chunk: Uint8Array) => void) | undefined;
  let onClose: ((error?: Error) => void) | undefined;
  const decoder = new FrameDecoder();
  const received: Json[] = [];
  let ended = false;
  const stream: ByteStream = {
    write: (bytes) => {
      for (const frame of decoder.push(bytes)) received.push(frame.header);
    },
    end: () => {
      if (ended) return;
      ended = true;
      queueMicrotask(() => onClose?.());
    },
    onData: (listener) => (onData = listener),
    onClose: (listener) => (onClose = listener),
  };
  return {
    stream,
    received,
    ended: () => ended,
    send: (header: object, body?: Uint8Array) => onData?.(encodeFrame(header, body)),
    raw: (bytes: Uint8Array) => onData?.(bytes),
  };
}

const hello = { type: "hello", protocol: "pty-mcp", version: 1, daemon: "pty-mcp test", pid: 1 };
const info = { id: "local-0000abcd", type: "local", target: "bash", cols: 80, rows: 24, created_at: "x", last_used: "x", is_alive: true, start: 0, end: 10, read_mark: 0, clients: 1, state: "unknown", auto_pager: false };

async function clientWith(peer: ReturnType<typeof scriptedPeer>): Promise<DaemonClient> {
  const pending = DaemonClient.handshake(peer.stream, { timeoutMs: 2000 });
  peer.send(hello);
  return pending;
}

describe("DaemonClient against a hostile daemon", () => {
  test("a bad hello (version 1.5, pid as text) is refused with DAEMON_UNAVAILABLE", async () => {
    const peer = scriptedPeer();
    const pending = DaemonClient.handshake(peer.stream, { timeoutMs: 2000 }).then(() => "connected", (err: PtyError) => err.code);
    peer.send({ ...hello, version: 1.5 });
    expect(await pending).toBe("DAEMON_UNAVAILABLE");
  });

  const badEvents: [string, Json][] = [
    ["a fractional cursor", { type: "output", session: "local-0000abcd", cursor: 1.5 }],
    ["a cursor as text", { type: "output", session: "local-0000abcd", cursor: "12" }],
    ["a cursor past 2^53", { type: "output", session: "local-0000abcd", cursor: 2 ** 60 }],
    ["a negative cursor", { type: "output", session: "local-0000abcd", cursor: -1 }],
    ["a resize to 0x0", { type: "resized", session: "local-0000abcd", cols: 0, rows: 0 }],
    ["an exit code as text", { type: "exit", session: "local-0000abcd", code: "3", signal: null }],
    ["a session id of 1 MB", { type: "closed", session: "x".repeat(1 << 20), reason: "r" }],
  ];
  for (const [what, event] of badEvents) {
    test(`an event with ${what} ends the connection with a protocol error; the listener never sees it and nothing throws`, async () => {
      const peer = scriptedPeer();
      const client = await clientWith(peer);
      const seen: unknown[] = [];
      client.subscribe("local-0000abcd", (e) => seen.push(e));
      let reason = "";
      client.onClose((r) => (reason = r));
      peer.send(event, new Uint8Array([0x41]));
      await until(() => reason !== "", "the client to close");
      expect({ seen, protocolError: reason.startsWith("protocol error: bad "), ended: peer.ended() }).toEqual({ seen: [], protocolError: true, ended: true });
    });
  }

  test("a reply whose result does not fit its request (cursor as text) rejects that request with PROTOCOL_ERROR, the others with DAEMON_UNAVAILABLE", async () => {
    const peer = scriptedPeer();
    const client = await clientWith(peer);
    const state = client.request({ type: "state", session: "local-0000abcd" }).then(() => "resolved", (err: PtyError) => err.code);
    const list = client.request({ type: "list" }).then(() => "resolved", (err: PtyError) => err.code);
    const stateId = peer.received.find((f) => f.type === "state")!.id;
    peer.send({ type: "reply", id: stateId, ok: true, result: { session: { ...info, end: "10" } } });
    expect({ state: await state, list: await list }).toEqual({ state: "PROTOCOL_ERROR", list: "DAEMON_UNAVAILABLE" });
  });

  test("a valid reply and event still work, an unknown event type is ignored, an error code not ours becomes INTERNAL_ERROR", async () => {
    const peer = scriptedPeer();
    const client = await clientWith(peer);
    const seen: unknown[] = [];
    client.subscribe("local-0000abcd", (e, body) => seen.push({ e, body: [...body] }));
    const state = client.request({ type: "state", session: "local-0000abcd" });
    const closeRequest = client.request({ type: "close", session: "local-0000abcd" }).then(() => "resolved", (err: PtyError) => ({ code: err.code, message: err.message }));
    const [stateFrame, closeFrame] = [peer.received.find((f) => f.type === "state")!, peer.received.find((f) => f.type === "close")!];
    peer.send({ type: "from_the_future", session: "local-0000abcd" });
    peer.send({ type: "output", session: "local-0000abcd", cursor: 10, lflag: 35387 }, new Uint8Array([0x68, 0x69]));
    peer.send({ type: "reply", id: stateFrame.id, ok: true, result: { session: info } });
    peer.send({ type: "reply", id: closeFrame.id, ok: false, error: { code: "EVIL", message: "no", retryable: false } });
    expect({ state: (await state).session.end, close: await closeRequest, seen, closed: client.isClosed }).toEqual({
      state: 10,
      close: { code: "INTERNAL_ERROR", message: "no" },
      seen: [{ e: { type: "output", session: "local-0000abcd", cursor: 10, lflag: 35387 }, body: [0x68, 0x69] }],
      closed: false,
    });
  });
});
