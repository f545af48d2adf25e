// The daemon protocol (docs/daemon.md): length-prefixed frames, each a JSON header plus an
// optional binary body, over any byte stream (a Unix socket, `pty-mcp client` on stdin/stdout,
// an SSH exec channel). This file turns bytes into frames and back and declares the messages;
// it never touches a socket.
import { z } from "zod";

/** Value of `protocol` in both hellos: a peer that sends anything else is not a pty-mcp daemon. */
export const PROTOCOL_NAME = "pty-mcp";
/** Protocol versions this build speaks, oldest first. A hello offers them all; the daemon picks the highest both know. */
export const PROTOCOL_VERSIONS: readonly number[] = [1];
/** Largest frame accepted (header + body): a 1 MB input or output chunk fits many times over. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Output bodies are cut to this size so that one busy session never holds a stream for long. */
export const MAX_OUTPUT_CHUNK = 256 * 1024;

const LENGTH_BYTES = 4;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A frame whose length, header or JSON is malformed: the stream cannot be trusted afterwards. */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
}

export interface Frame<H = Record<string, unknown>> {
  header: H;
  /** Raw bytes after the header (output or input); empty for most messages. */
  body: Uint8Array;
}

/**
 * One frame: `u32 length` (big-endian, bytes after this field) · `u32 header length` ·
 * header (UTF-8 JSON object) · body (the rest).
 */
export function encodeFrame(header: object, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = encoder.encode(JSON.stringify(header));
  const length = LENGTH_BYTES + json.length + body.length;
  if (length > MAX_FRAME_BYTES) throw new ProtocolError(`frame of ${length} bytes exceeds ${MAX_FRAME_BYTES}`);
  const out = new Uint8Array(LENGTH_BYTES + length);
  const view = new DataView(out.buffer);
  view.setUint32(0, length);
  view.setUint32(LENGTH_BYTES, json.length);
  out.set(json, 2 * LENGTH_BYTES);
  out.set(body, 2 * LENGTH_BYTES + json.length);
  return out;
}

/** Incremental decoder: feed it chunks as they arrive, get whole frames back in order. */
export class FrameDecoder {
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;

  /** Bytes received that do not make a whole frame yet. */
  get pending(): number {
    return this.#end - this.#start;
  }

  /** Appends `chunk` and returns every frame now complete. Throws ProtocolError on a malformed frame. */
  push(chunk: Uint8Array): Frame[] {
    this.#append(chunk);
    const frames: Frame[] = [];
    for (;;) {
      const available = this.#end - this.#start;
      if (available < LENGTH_BYTES) break;
      const view = new DataView(this.#buf.buffer, this.#buf.byteOffset + this.#start);
      const length = view.getUint32(0);
      if (length < LENGTH_BYTES || length > MAX_FRAME_BYTES) throw new ProtocolError(`bad frame length ${length}`);
      if (available < LENGTH_BYTES + length) break;
      const headerLength = view.getUint32(LENGTH_BYTES);
      if (headerLength > length - LENGTH_BYTES) throw new ProtocolError(`header length ${headerLength} exceeds frame length ${length}`);
      const headerAt = this.#start + 2 * LENGTH_BYTES;
      let header: unknown;
      try {
        header = JSON.parse(decoder.decode(this.#buf.subarray(headerAt, headerAt + headerLength)));
      } catch (err) {
        throw new ProtocolError(`frame header is not UTF-8 JSON: ${(err as Error).message}`);
      }
      if (typeof header !== "object" || header === null || Array.isArray(header)) throw new ProtocolError("frame header is not a JSON object");
      const bodyAt = headerAt + headerLength;
      const body = this.#buf.slice(bodyAt, this.#start + LENGTH_BYTES + length);
      this.#start += LENGTH_BYTES + length;
      frames.push({ header: header as Record<string, unknown>, body });
    }
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return frames;
  }

  #append(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buf.length) {
      const live = this.#end - this.#start;
      const need = live + chunk.length;
      if (need <= this.#buf.length && this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        const grown = new Uint8Array(Math.max(need, this.#buf.length * 2));
        grown.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = grown;
      }
      this.#start = 0;
      this.#end = live;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }
}

// ---- hello ------------------------------------------------------------------------------

export interface ClientHello {
  type: "hello";
  protocol: typeof PROTOCOL_NAME;
  /** Versions the client speaks. */
  versions: number[];
  /** "pty-mcp 0.1.0 serve", for the daemon's log. */
  client: string;
}

export interface DaemonHello {
  type: "hello";
  protocol: typeof PROTOCOL_NAME;
  /** The version both speak; every later frame follows it. */
  version: number;
  daemon: string;
  pid: number;
}

/** The daemon's answer when no version is shared (then it closes the stream). */
export interface HelloRefused {
  type: "hello_refused";
  protocol: typeof PROTOCOL_NAME;
  versions: number[];
  message: string;
}

export function clientHello(client: string): ClientHello {
  return { type: "hello", protocol: PROTOCOL_NAME, versions: [...PROTOCOL_VERSIONS], client };
}

/** The highest version in both lists, or undefined. */
export function negotiateVersion(offered: readonly number[], supported: readonly number[] = PROTOCOL_VERSIONS): number | undefined {
  const common = offered.filter((v) => supported.includes(v));
  return common.length > 0 ? Math.max(...common) : undefined;
}

export const clientHelloSchema = z.object({
  type: z.literal("hello"),
  protocol: z.literal(PROTOCOL_NAME),
  versions: z.array(z.number().int()).min(1).max(64),
  client: z.string().max(200),
});

// ---- requests (client → daemon) ----------------------------------------------------------

const id = z.number().int().min(0);
const session = z.string().min(1).max(100);
const size = { cols: z.number().int().min(2).max(1000), rows: z.number().int().min(2).max(1000) };
const cursor = z.number().int().min(0);

export const requestSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("create"),
    id,
    command: z.string().optional(),
    args: z.array(z.string()).optional(),
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string()).optional(),
    name: z.string().max(200).optional(),
    ...size,
    auto_pager: z.boolean().optional(),
    /** Hook bash/zsh (OSC 133 markers in the output, default true); older daemons ignore it. */
    shell_integration: z.boolean().optional(),
    log_file: z.string().optional(),
    log_max_size: z.number().min(0).optional(),
    log_max_files: z.number().int().min(1).optional(),
    record: z.string().optional(),
  }),
  z.object({
    type: z.literal("attach"),
    id,
    session,
    /** Absolute cursor to replay from; omitted = the oldest byte held. Ignored with `screen`. */
    from: cursor.optional(),
    /** Reply with the rendered screen (escape sequences) and replay only what it does not show. */
    screen: z.boolean().optional(),
  }),
  z.object({ type: z.literal("detach"), id, session, read_mark: cursor.optional() }),
  /** Body: the bytes to type. */
  z.object({ type: z.literal("write"), id, session, read_mark: cursor.optional() }),
  z.object({ type: z.literal("resize"), id, session, ...size }),
  z.object({ type: z.literal("signal"), id, session, signal: z.string().regex(/^SIG[A-Z0-9]+$/) }),
  z.object({ type: z.literal("close"), id, session }),
  z.object({ type: z.literal("list"), id }),
  z.object({ type: z.literal("state"), id, session }),
]);

export type Request = z.infer<typeof requestSchema>;
export type RequestType = Request["type"];
/** A request without its id, as a client builds it. */
export type RequestOf<T extends RequestType> = Omit<Extract<Request, { type: T }>, "id">;

// ---- replies and events (daemon → client) ------------------------------------------------

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  reason?: string;
}

/** A session as the daemon describes it (list, state, create and attach replies). */
export interface SessionInfo {
  id: string;
  name?: string;
  type: "local";
  target: string;
  pid?: number;
  cols: number;
  rows: number;
  created_at: string;
  last_used: string;
  is_alive: boolean;
  exit?: ExitInfo;
  exited_at?: string;
  /** When an ended session is dropped (retention). */
  expires_at?: string;
  /** Oldest output cursor still held. */
  start: number;
  /** Cursor after the newest output byte. */
  end: number;
  /** Read mark last reported by an agent (write/detach `read_mark`). */
  read_mark: number;
  /** Connections attached now. */
  clients: number;
  state: "at_prompt" | "password_prompt" | "confirmation" | "pager" | "running" | "unknown";
  last_prompt?: string;
  auto_pager: boolean;
  /** The shell the daemon hooked for shell integration, if any. */
  shell?: "bash" | "zsh";
  /** Where the daemon writes the log file, if one was asked for. */
  log_file?: string;
}

export interface AttachResult {
  session: SessionInfo;
  /** Cursor of the first output byte that follows (output events start here). */
  from: number;
  /** Output between the requested cursor and `from` is no longer held. */
  is_truncated: boolean;
  /** With `screen: true`: escape sequences that draw the screen as of `from`. */
  screen?: string;
}

export interface ReplyResults {
  create: { session: SessionInfo };
  attach: AttachResult;
  detach: Record<string, never>;
  write: Record<string, never>;
  resize: Record<string, never>;
  signal: Record<string, never>;
  close: { exit?: ExitInfo };
  list: { sessions: SessionInfo[] };
  state: { session: SessionInfo };
}

export interface ReplyError {
  code: string;
  message: string;
  retryable: boolean;
}

export type Reply = { type: "reply"; id: number; ok: true; result: unknown } | { type: "reply"; id: number; ok: false; error: ReplyError };

/**
 * Pushed to attached clients as things happen:
 * - `output` (body: bytes) — `cursor` is the absolute cursor of the body's first byte; it equals
 *   the end of what the client has unless output was lost while it lagged (then it is larger).
 *   `lflag` is the PTY's termios c_lflag at that moment (echo-off password prompts).
 * - `exit` — the program ended; the session stays readable until closed or expired.
 * - `resized` — another client changed the size.
 * - `closed` — the session is gone (close_session elsewhere, retention expiry); the attachment ends.
 */
export type Event =
  | { type: "output"; session: string; cursor: number; lflag?: number }
  | ({ type: "exit"; session: string } & ExitInfo)
  | { type: "resized"; session: string; cols: number; rows: number }
  | { type: "closed"; session: string; reason: string };

export const EVENT_TYPES: ReadonlySet<string> = new Set(["output", "exit", "resized", "closed"]);
