/**
 * The audit trail of what reached a session: entries fan out to a local JSONL
 * sink (hash-chained, see chain.ts) and to an HTTP collector (`audit serve` or
 * anything that accepts the Go original's `POST <url>/audit` with a bearer token).
 *
 * Modes (SPEC §6):
 *  - best-effort: `record` resolves once the local sink has the entry; collector
 *    delivery is queued (bounded, oldest dropped and counted) and retried with backoff.
 *  - strict: `record` resolves only when the collector answered 2xx (and the local
 *    sink has the entry); otherwise it rejects with AUDIT_REJECTED and the caller
 *    must not send the input. Output snippets are best-effort in both modes.
 *
 * Entry fields follow the Go original (`cmd_id, ts, user, session_id, type, target,
 * cmd, raw`; output entries `cmd_id, ts, output_snippet, output_bytes`) where `type`
 * is the session type; ours add `event`, `seq`, `host`, `pid`, `key`, `exit_code`,
 * and in files `prev_hash`. Secrets are never passed in; `redact` is the last line
 * of defense for one that leaked into typed text or output.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { PtyError, errorMessage } from "../errors.ts";
import { ChainedLog } from "./chain.ts";
import type { AuditMode, AuditSettings } from "./config.ts";
import { redactCredentials } from "./redact.ts";

export type AuditEvent = "create" | "input" | "control" | "secret" | "output" | "close" | "detach" | "reconnect";

/** What a caller reports; the AuditLog adds who, where, when and the ids. */
export interface AuditRecord {
  event: AuditEvent;
  session_id: string;
  /** Session type (local, ssh, serial): the Go original's `type`. */
  type?: string;
  target?: string;
  /** Links an output entry to its input; generated when absent. */
  cmd_id?: string;
  /** Text typed (input) or the command line started (create). */
  cmd?: string;
  raw?: boolean;
  /** send_control's key name. */
  key?: string;
  exit_code?: number | null;
  reason?: string;
}

export interface AuditStats {
  /** Entries the collector accepted. */
  delivered: number;
  /** Entries waiting for the collector (best-effort). */
  queued: number;
  /** Entries dropped because the best-effort queue was full. */
  dropped: number;
  /** Entries the collector refused for good (4xx: wrong token, too large). */
  rejected: number;
}

export interface AuditLogOptions extends AuditSettings {
  host?: string;
  /** Replaces held secrets (SecretRedactor.redactText) in every text field. */
  redact?: (text: string) => string;
  /** Best-effort queue bound (256, as the Go original). */
  queueSize?: number;
  /** Best-effort retry delays; the last one repeats until delivery. */
  retryDelaysMs?: readonly number[];
  /** Strict mode: time allowed to get a 2xx before the input is refused. */
  strictTimeoutMs?: number;
  /** One POST's timeout. */
  requestTimeoutMs?: number;
  /** How long `close()` keeps trying to deliver what is queued. */
  closeTimeoutMs?: number;
}

/**
 * An entry stays under the Go original's collector body limit (64 KiB, http.MaxBytesReader),
 * so a long paste is cut (and says so in `cmd_truncated_from_bytes`) rather than refused.
 */
const MAX_ENTRY_BYTES = 60 * 1024;
const OUTPUT_SNIPPET_BYTES = 2048;
const DEFAULT_RETRY_DELAYS_MS = [250, 500, 1000, 2000, 5000, 10_000, 30_000] as const;
const STRICT_RETRY_DELAYS_MS = [100, 250, 500, 1000] as const;

class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

export function newCmdId(): string {
  return randomBytes(8).toString("hex");
}

/** At most `maxBytes` of UTF-8, cut at a character boundary. */
export function utf8Prefix(text: string, maxBytes: number): { text: string; truncated: boolean; bytes: number } {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return { text, truncated: false, bytes: bytes.length };
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) so the cut lands before a lead byte.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return { text: bytes.subarray(0, end).toString("utf8"), truncated: true, bytes: bytes.length };
}

export class AuditLog {
  readonly mode: AuditMode;
  readonly user: string;
  readonly #options: AuditLogOptions;
  readonly #host: string;
  readonly #file: ChainedLog | undefined;
  readonly #queue: string[] = [];
  readonly #stats = { delivered: 0, dropped: 0, rejected: 0 };
  #seq = 0;
  #worker: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  /** Set by close(): no new entries. */
  #closing = false;
  /** Set when close() gave up waiting: the worker stops. */
  #stopped = false;
  #closed: Promise<void> | undefined;
  #failing = false;
  readonly #inflight = new Set<Promise<unknown>>();

  constructor(options: AuditLogOptions) {
    this.#options = options;
    this.mode = options.mode;
    this.user = options.user;
    this.#host = options.host ?? hostname();
    this.#file = options.logPath === undefined ? undefined : ChainedLog.open(options.logPath);
  }

  get stats(): AuditStats {
    return { ...this.#stats, queued: this.#queue.length };
  }

  /**
   * Records one event; resolves to its `cmd_id`. In strict mode (except output
   * entries) rejects with PtyError AUDIT_REJECTED when the entry could not be
   * delivered: the caller must then refuse the input.
   */
  record(record: AuditRecord): Promise<string> {
    if (this.#closing) return Promise.reject(new PtyError("AUDIT_REJECTED", "The audit log is closed; the input was not sent."));
    return this.#track(this.#record(record));
  }

  /** close() waits for records in flight (a strict POST, a file append) before closing the file. */
  #track<T>(promise: Promise<T>): Promise<T> {
    this.#inflight.add(promise);
    const untrack = () => void this.#inflight.delete(promise);
    promise.then(untrack, untrack);
    return promise;
  }

  async #record(record: AuditRecord): Promise<string> {
    const cmdId = record.cmd_id ?? newCmdId();
    const entry = this.#entry(record, cmdId);
    const body = JSON.stringify(entry);
    const strict = this.mode === "strict" && record.event !== "output";
    if (this.#options.url !== undefined) {
      if (strict) await this.#deliverNow(body);
      else this.#enqueue(body);
    }
    if (this.#file) {
      try {
        await this.#file.append(entry);
      } catch (err) {
        if (strict) {
          throw new PtyError("AUDIT_REJECTED", `Audit entry could not be written to ${this.#file.path}: ${errorMessage(err)}. The input was not sent.`, false, { cause: err });
        }
        console.error(`pty-mcp: audit log ${this.#file.path}: ${errorMessage(err)}`);
      }
    }
    return cmdId;
  }

  /** The output that followed an input (first 2 KiB, redacted); always best-effort. */
  recordOutput(record: { session_id: string; cmd_id: string; output: string }): Promise<void> {
    if (this.#closing) return Promise.resolve();
    return this.#track(this.#recordOutput(record));
  }

  async #recordOutput(record: { session_id: string; cmd_id: string; output: string }): Promise<void> {
    const snippet = utf8Prefix(this.#redact(redactCredentials(record.output)), OUTPUT_SNIPPET_BYTES);
    const entry = {
      seq: ++this.#seq,
      ts: new Date().toISOString(),
      user: this.user,
      host: this.#host,
      pid: process.pid,
      event: "output",
      session_id: record.session_id,
      cmd_id: record.cmd_id,
      output_snippet: snippet.text,
      output_bytes: Buffer.byteLength(record.output),
    };
    if (this.#options.url !== undefined) this.#enqueue(JSON.stringify(entry));
    if (this.#file) {
      try {
        await this.#file.append(entry);
      } catch (err) {
        console.error(`pty-mcp: audit log ${this.#file.path}: ${errorMessage(err)}`);
      }
    }
  }

  #redact(text: string): string {
    return this.#options.redact ? this.#options.redact(text) : text;
  }

  #entry(record: AuditRecord, cmdId: string): Record<string, unknown> {
    const text = (value: string | undefined): string | undefined => (value === undefined ? undefined : this.#redact(value));
    const fullCmd = record.cmd === undefined ? undefined : this.#redact(redactCredentials(record.cmd));
    // Key order is the order a reader sees in the JSONL file.
    const entry: Record<string, unknown> = {
      seq: ++this.#seq,
      ts: new Date().toISOString(),
      user: this.user,
      host: this.#host,
      pid: process.pid,
      event: record.event,
      session_id: record.session_id,
      type: record.type,
      target: text(record.target),
      cmd_id: cmdId,
      cmd: fullCmd,
      cmd_truncated_from_bytes: undefined,
      raw: record.raw || undefined,
      key: record.key,
      exit_code: record.exit_code,
      reason: text(record.reason),
    };
    if (fullCmd === undefined) return entry;
    // JSON escaping can make text up to 6 times longer, so measure the entry, not the text.
    for (let budget = MAX_ENTRY_BYTES; Buffer.byteLength(JSON.stringify(entry)) > MAX_ENTRY_BYTES && budget > 0; budget >>= 1) {
      const cut = utf8Prefix(fullCmd, budget);
      entry.cmd = cut.text;
      entry.cmd_truncated_from_bytes = cut.bytes;
    }
    return entry;
  }

  async #post(body: string, timeoutMs: number): Promise<void> {
    const { url, token } = this.#options;
    let response: Response;
    try {
      response = await fetch(`${url}/audit`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token ?? ""}` },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const reason = err instanceof Error && err.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : errorMessage(err);
      throw new DeliveryError(reason, false);
    }
    await response.arrayBuffer().catch(() => undefined);
    if (response.ok) return;
    // 4xx other than timeout/too-many-requests will not change on retry (wrong token, too large).
    const permanent = response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
    throw new DeliveryError(`HTTP ${response.status}`, permanent);
  }

  async #deliverNow(body: string): Promise<void> {
    const timeoutMs = this.#options.strictTimeoutMs ?? 3000;
    const deadline = performance.now() + timeoutMs;
    let last = "";
    // Entries queued earlier (output snippets) go first, so the collector receives every entry in
    // seq order and chains them so; if they cannot be delivered in time, neither can this one.
    if (this.#worker && !(await this.#drained(deadline))) {
      last = `${this.#queue.length} earlier entries still queued`;
    } else for (let attempt = 0; ; attempt++) {
      const remaining = deadline - performance.now();
      try {
        await this.#post(body, Math.max(1, Math.min(this.#options.requestTimeoutMs ?? 5000, remaining)));
        this.#stats.delivered++;
        return;
      } catch (err) {
        last = errorMessage(err);
        if (err instanceof DeliveryError && err.permanent) break;
      }
      const delay = STRICT_RETRY_DELAYS_MS[Math.min(attempt, STRICT_RETRY_DELAYS_MS.length - 1)] ?? 1000;
      if (performance.now() + delay >= deadline) break;
      await Bun.sleep(delay);
    }
    throw new PtyError(
      "AUDIT_REJECTED",
      `audit-mode is strict and the audit collector ${this.#options.url} did not accept the entry (${last}); the input was NOT sent. ` +
        "Start or fix the collector and retry, or set audit-mode=best-effort.",
      true,
    );
  }

  /** Waits until the queue worker has delivered everything queued, or `deadline` passed; true when drained. */
  async #drained(deadline: number): Promise<boolean> {
    const worker = this.#worker;
    if (!worker) return true;
    this.#wake?.(); // retry a waiting delivery now rather than after its backoff
    let timer: Timer | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - performance.now()))));
    try {
      return await Promise.race([worker.then(() => this.#queue.length === 0), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  #enqueue(body: string): void {
    const limit = this.#options.queueSize ?? 256;
    while (this.#queue.length >= limit) {
      this.#queue.shift();
      this.#stats.dropped++;
      if (this.#stats.dropped === 1 || Number.isInteger(Math.log2(this.#stats.dropped))) {
        console.error(`pty-mcp: audit collector ${this.#options.url} unreachable: ${this.#stats.dropped} entries dropped so far (queue of ${limit} full)`);
      }
    }
    this.#queue.push(body);
    this.#worker ??= this.#drain().finally(() => {
      this.#worker = undefined;
    });
  }

  async #drain(): Promise<void> {
    const delays = this.#options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    let attempt = 0;
    while (!this.#stopped) {
      const body = this.#queue.shift();
      if (body === undefined) return;
      try {
        await this.#post(body, this.#options.requestTimeoutMs ?? 5000);
        this.#stats.delivered++;
        attempt = 0;
        if (this.#failing) {
          this.#failing = false;
          console.error(`pty-mcp: audit collector ${this.#options.url} reachable again; delivering queued entries`);
        }
      } catch (err) {
        if (err instanceof DeliveryError && err.permanent) {
          this.#stats.rejected++;
          console.error(`pty-mcp: audit collector ${this.#options.url} refused an entry (${err.message}); it is dropped`);
          continue;
        }
        if (!this.#failing) {
          this.#failing = true;
          console.error(`pty-mcp: audit collector ${this.#options.url} unreachable (${errorMessage(err)}); queueing entries`);
        }
        // Put it back at the head; if the queue filled meanwhile the oldest (this one) is dropped.
        if (this.#queue.length < (this.#options.queueSize ?? 256)) this.#queue.unshift(body);
        else this.#stats.dropped++;
        if (this.#stopped) return;
        const delay = delays[Math.min(attempt, delays.length - 1)] ?? 1000;
        attempt++;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = undefined;
      }
    }
  }

  /**
   * Stops accepting entries, tries to deliver what is queued for up to
   * `closeTimeoutMs` (2 s), reports what is left on stderr, closes the file. Safe twice.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    await Promise.allSettled([...this.#inflight]);
    const timeoutMs = this.#options.closeTimeoutMs ?? 2000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (this.#worker) {
      // One more immediate attempt, then give up at the deadline.
      this.#wake?.();
      await Promise.race([this.#worker, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    }
    this.#stopped = true;
    this.#wake?.();
    if (this.#queue.length > 0) {
      console.error(`pty-mcp: audit collector ${this.#options.url}: ${this.#queue.length} entries not delivered at exit`);
    }
    await this.#file?.close();
  }
}
