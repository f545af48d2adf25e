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

const INITIAL_BUFFER_BYTES = 64 * 1024;
/** A buffer grown past this for one large frame is given back once the frame is out. */
const KEEP_BUFFER_BYTES = 1024 * 1024;

/** Incremental decoder: feed it chunks as they arrive, get whole frames back in order. */
export class FrameDecoder {
  #buf = new Uint8Array(INITIAL_BUFFER_BYTES);
  #start = 0;
  #end = 0;
  /** Largest frame accepted now (the daemon keeps it small until the hello). */
  maxFrameBytes: number;

  constructor(options: { maxFrameBytes?: number } = {}) {
    this.maxFrameBytes = Math.min(options.maxFrameBytes ?? MAX_FRAME_BYTES, MAX_FRAME_BYTES);
  }

  /** Bytes received that do not make a whole frame yet. */
  get pending(): number {
    return this.#end - this.#start;
  }

  /** Bytes the decoder holds allocated (what a partial frame costs in memory). */
  get capacity(): number {
    return this.#buf.length;
  }

  /**
   * Appends `chunk` and returns every frame now complete, at most `maxFrames` (the rest stays
   * buffered for the next push, which may be of an empty chunk). Throws ProtocolError on a
   * malformed frame.
   */
  push(chunk: Uint8Array, maxFrames = Number.POSITIVE_INFINITY): Frame[] {
    this.#append(chunk);
    const frames: Frame[] = [];
    while (frames.length < maxFrames) {
      const available = this.#end - this.#start;
      if (available < LENGTH_BYTES) break;
      const view = new DataView(this.#buf.buffer, this.#buf.byteOffset + this.#start);
      const length = view.getUint32(0);
      if (length < LENGTH_BYTES || length > this.maxFrameBytes) throw new ProtocolError(`bad frame length ${length}`);
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
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
      if (this.#buf.length > KEEP_BUFFER_BYTES) this.#buf = new Uint8Array(INITIAL_BUFFER_BYTES);
    }
    return frames;
  }

  /** What `capacity` would be after a push of `bytes` more (for a budget checked before the bytes are taken). */
  capacityAfter(bytes: number): number {
    const need = this.#end - this.#start + bytes;
    return need <= this.#buf.length ? this.#buf.length : this.#grownSize(need);
  }

  /**
   * Doubling; once the frame being received is known, straight to its size, so a large frame is
   * copied once rather than through every doubling (the copies were garbage: RSS, not memory
   * held). Pages not yet written are not resident, and the daemon's budget counts this size.
   */
  #grownSize(need: number): number {
    const size = Math.max(need, this.#buf.length * 2);
    if (this.#end - this.#start < LENGTH_BYTES) return size;
    const frame = LENGTH_BYTES + new DataView(this.#buf.buffer, this.#buf.byteOffset + this.#start).getUint32(0);
    return frame <= this.maxFrameBytes + LENGTH_BYTES ? Math.max(need, frame) : size;
  }

  #append(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buf.length) {
      const live = this.#end - this.#start;
      const need = live + chunk.length;
      if (need <= this.#buf.length && this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        const grown = new Uint8Array(this.#grownSize(need));
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

/** Longest command, argument or env value a request may carry (the kernel's MAX_ARG_STRLEN is 128 KiB). */
const MAX_ARGUMENT_CHARS = 128 * 1024;
const id = z.number().int().min(0);
const session = z.string().min(1).max(100);
const size = { cols: z.number().int().min(2).max(1000), rows: z.number().int().min(2).max(1000) };
const cursor = z.number().int().min(0);

export const requestSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("create"),
    id,
    command: z.string().max(MAX_ARGUMENT_CHARS).optional(),
    args: z.array(z.string().max(MAX_ARGUMENT_CHARS)).max(4096).optional(),
    cwd: z.string().max(4096).optional(),
    env: z
      .record(z.string().max(4096), z.string().max(MAX_ARGUMENT_CHARS))
      .refine((env) => Object.keys(env).length <= 4096, "at most 4096 variables")
      .optional(),
    name: z.string().max(200).optional(),
    ...size,
    auto_pager: z.boolean().optional(),
    /** Hook bash/zsh (OSC 133 markers in the output, default true); older daemons ignore it. */
    shell_integration: z.boolean().optional(),
    log_file: z.string().max(4096).optional(),
    log_max_size: z.number().min(0).max(1_000_000).optional(),
    log_max_files: z.number().int().min(1).max(100).optional(),
    record: z.string().max(4096).optional(),
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
  /** Body: a secret typed next; the daemon redacts it from everything it keeps until the session is removed. */
  z.object({ type: z.literal("hold_secret"), id, session }),
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
// Validated by the client like requests are by the daemon: a peer (a remote daemon over SSH, or
// whatever listens on the socket) is outside input. Cursors are safe integers (z.int), strings
// and lists bounded.

const text = z.string().max(64 * 1024);
const shortText = z.string().max(4096);

export const exitInfoSchema = z.object({
  code: z.number().int().nullable(),
  signal: z.string().max(64).nullable(),
  reason: shortText.optional(),
});
export type ExitInfo = z.infer<typeof exitInfoSchema>;

/** A session as the daemon describes it (list, state, create and attach replies). */
export const sessionInfoSchema = z.object({
  id: session,
  name: z.string().max(200).optional(),
  type: z.literal("local"),
  target: text,
  pid: z.number().int().min(0).optional(),
  ...size,
  created_at: z.string().max(64),
  last_used: z.string().max(64),
  is_alive: z.boolean(),
  exit: exitInfoSchema.optional(),
  exited_at: z.string().max(64).optional(),
  /** When an ended session is dropped (retention). */
  expires_at: z.string().max(64).optional(),
  /** Oldest output cursor still held. */
  start: cursor,
  /** Cursor after the newest output byte. */
  end: cursor,
  /** Read mark last reported by an agent (write/detach `read_mark`). */
  read_mark: cursor,
  /** Connections attached now. */
  clients: z.number().int().min(0),
  state: z.enum(["at_prompt", "password_prompt", "confirmation", "pager", "running", "unknown"]),
  last_prompt: text.optional(),
  auto_pager: z.boolean(),
  /** The shell the daemon hooked for shell integration, if any. */
  shell: z.enum(["bash", "zsh"]).optional(),
  /** Where the daemon writes the log file, if one was asked for. */
  log_file: shortText.optional(),
});
export type SessionInfo = z.infer<typeof sessionInfoSchema>;

export const attachResultSchema = z.object({
  session: sessionInfoSchema,
  /** Cursor of the first output byte that follows (output events start here). */
  from: cursor,
  /** Output between the requested cursor and `from` is no longer held. */
  is_truncated: z.boolean(),
  /** With `screen: true`: escape sequences that draw the screen as of `from` (bounded by the frame size). */
  screen: z.string().optional(),
});
export type AttachResult = z.infer<typeof attachResultSchema>;

const empty = z.object({});

/** The shape of each request type's result; DaemonClient checks every reply against it. */
export const resultSchemas = {
  create: z.object({ session: sessionInfoSchema }),
  attach: attachResultSchema,
  detach: empty,
  write: empty,
  hold_secret: empty,
  resize: empty,
  signal: empty,
  close: z.object({ exit: exitInfoSchema.optional() }),
  list: z.object({ sessions: z.array(sessionInfoSchema).max(100_000) }),
  state: z.object({ session: sessionInfoSchema }),
} satisfies Record<RequestType, z.ZodType>;

export const replyErrorSchema = z.object({ code: z.string().max(64), message: text, retryable: z.boolean() });

export const replySchema = z.discriminatedUnion("ok", [
  z.object({ type: z.literal("reply"), id, ok: z.literal(true), result: z.unknown() }),
  z.object({ type: z.literal("reply"), id, ok: z.literal(false), error: replyErrorSchema }),
]);

export const daemonHelloSchema = z.object({
  type: z.literal("hello"),
  protocol: z.literal(PROTOCOL_NAME),
  version: z.number().int().min(1),
  daemon: z.string().max(200),
  pid: z.number().int().min(0),
});

/**
 * Pushed to attached clients as things happen:
 * - `output` (body: bytes) — `cursor` is the absolute cursor of the body's first byte; it equals
 *   the end of what the client has unless output was lost while it lagged (then it is larger).
 *   `lflag` is the PTY's termios c_lflag at that moment (echo-off password prompts).
 * - `exit` — the program ended; the session stays readable until closed or expired.
 * - `resized` — another client changed the size.
 * - `closed` — the session is gone (close_session elsewhere, retention expiry); the attachment ends.
 */
export const eventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("output"), session, cursor, lflag: z.number().int().min(0).max(2 ** 32 - 1).optional() }),
  z.object({ type: z.literal("exit"), session, ...exitInfoSchema.shape }),
  z.object({ type: z.literal("resized"), session, ...size }),
  z.object({ type: z.literal("closed"), session, reason: shortText }),
]);
export type Event = z.infer<typeof eventSchema>;

export type ReplyResults = { [T in RequestType]: z.infer<(typeof resultSchemas)[T]> };

export type ReplyError = z.infer<typeof replyErrorSchema>;
export type Reply = z.infer<typeof replySchema>;
