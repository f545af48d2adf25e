/**
 * The HTTP audit collector behind `pty-mcp audit serve`, wire-compatible with the
 * Go original's: `POST /audit` with `Authorization: Bearer <token>` and one JSON
 * entry as the body, 200 when stored. Each entry is appended to a JSONL file with
 * the collector's own hash chain (`prev_hash`), so a log fed by many clients
 * stays one verifiable chain.
 */
import type { Server } from "bun";
import { createHash, timingSafeEqual } from "node:crypto";
import { ChainedLog } from "./chain.ts";

export interface CollectorOptions {
  /** Listen address; 127.0.0.1 unless the operator opens it up. */
  hostname: string;
  /** 0 = OS-assigned. */
  port: number;
  token: string;
  logPath: string;
  /** Larger bodies get 413 (1 MiB). */
  maxBodyBytes?: number;
}

export interface Collector extends AsyncDisposable {
  readonly port: number;
  readonly url: string;
  /** Stops listening, lets pending appends finish, closes the file. */
  stop(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Compares digests, so neither the token's content nor its length shows in the timing. */
function tokenMatches(header: string | null, token: string): boolean {
  const prefix = "Bearer ";
  if (header === null || !header.startsWith(prefix) || token === "") return false;
  const given = createHash("sha256").update(header.slice(prefix.length)).digest();
  const expected = createHash("sha256").update(token).digest();
  return timingSafeEqual(given, expected);
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(`${body}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}

const MAX_JSON_DEPTH = 64;

/** Whether `[`/`{` outside strings nest deeper than `max` (one pass over the bytes; invalid JSON is left to JSON.parse). */
export function nestedDeeperThan(body: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!;
    if (inString) {
      if (byte === 0x5c) i++; // backslash: skip the escaped byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) {
      inString = true;
    } else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > max) return true;
    } else if (byte === 0x5d || byte === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** Reads at most `limit` bytes of the body; undefined when it is longer. */
async function readBody(request: Request, limit: number): Promise<Uint8Array | undefined> {
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

export function startCollector(options: CollectorOptions): Collector {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = ChainedLog.open(options.logPath);
  const server: Server<undefined> = Bun.serve({
    hostname: options.hostname,
    port: options.port,
    // Above our own limit so that we, not Bun, answer oversize bodies.
    maxRequestBodySize: limit * 2 + 1024,
    async fetch(request) {
      if (new URL(request.url).pathname !== "/audit") return text(404, "not found");
      if (request.method !== "POST") return text(405, "method not allowed", { allow: "POST" });
      if (!tokenMatches(request.headers.get("authorization"), options.token)) {
        return text(401, "unauthorized", { "www-authenticate": 'Bearer realm="pty-mcp audit"' });
      }
      const declared = Number(request.headers.get("content-length") ?? "0");
      if (declared > limit) return text(413, `entry larger than ${limit} bytes`);
      const body = await readBody(request, limit);
      if (body === undefined) return text(413, `entry larger than ${limit} bytes`);
      // JSON.parse takes any depth, but storing (JSON.stringify) overflows the stack: 500 000 deep was a 500.
      if (nestedDeeperThan(body, MAX_JSON_DEPTH)) return text(400, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
      let entry: unknown;
      try {
        entry = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
      } catch {
        return text(400, "invalid json");
      }
      if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return text(400, "expected a JSON object");
      try {
        await log.append(entry as Record<string, unknown>);
      } catch (err) {
        console.error(`pty-mcp audit: cannot append to ${options.logPath}: ${err instanceof Error ? err.message : String(err)}`);
        return text(500, "cannot store entry");
      }
      return new Response(null, { status: 200 });
    },
  });
  const port = server.port ?? options.port;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await server.stop();
      await log.close();
    })();
    return stopped;
  };
  const host = options.hostname.includes(":") ? `[${options.hostname}]` : options.hostname;
  return { port, url: `http://${host}:${port}`, stop, [Symbol.asyncDispose]: stop };
}
