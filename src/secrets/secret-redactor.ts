/**
 * The last line of defense for secrets: while a secret is held (between asking
 * the human and a while after typing it), every text an agent, a log file, a
 * recording or the audit trail gets can be passed through here, and any
 * occurrence of the secret becomes `***`. The first line of defense is never
 * echoing, storing or returning a secret; this catches a device that echoes it.
 *
 * Secrets shorter than 4 bytes are not redacted: replacing every `a` or `12` in
 * all output would mangle it and would show where the secret is anyway.
 */

export const REDACTED = "***";
export const MIN_REDACTED_BYTES = 4;

const redactedBytes = Buffer.from(REDACTED);

interface Held {
  bytes: Buffer;
  /** The UTF-8 text form, made on first use (a JS string cannot be zeroed; dropped on release). */
  text: string | undefined;
}

function replaceAll(data: Buffer, needle: Buffer): Buffer | undefined {
  let index = data.indexOf(needle);
  if (index < 0) return undefined;
  const parts: Buffer[] = [];
  let start = 0;
  while (index >= 0) {
    parts.push(data.subarray(start, index), redactedBytes);
    start = index + needle.length;
    index = data.indexOf(needle, start);
  }
  parts.push(data.subarray(start));
  return Buffer.concat(parts);
}

export class SecretRedactor {
  #held: Held[] = [];

  /** Secrets currently held. */
  get size(): number {
    return this.#held.length;
  }

  /**
   * Holds a copy of `secret` (so the caller may zero its own buffer at once);
   * disposing zeroes the copy and stops redacting it.
   */
  hold(secret: Uint8Array): Disposable {
    const held: Held = { bytes: Buffer.from(secret), text: undefined };
    if (held.bytes.length >= MIN_REDACTED_BYTES) {
      this.#held.push(held);
      // Longest first, so a secret containing another is replaced whole.
      this.#held.sort((a, b) => b.bytes.length - a.bytes.length);
    }
    return {
      [Symbol.dispose]: () => {
        this.#held = this.#held.filter((h) => h !== held);
        held.bytes.fill(0);
        held.text = undefined;
      },
    };
  }

  redactText(text: string): string {
    let result = text;
    for (const held of this.#held) {
      held.text ??= held.bytes.toString("utf8");
      if (result.includes(held.text)) result = result.split(held.text).join(REDACTED);
    }
    return result;
  }

  /** Every string inside a JSON-like value (a tool result) redacted; the value itself when nothing is held. */
  redactValue<T>(value: T): T {
    if (this.#held.length === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === "string") return this.redactText(v);
      if (Array.isArray(v)) return v.map(walk);
      if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, walk(inner)]));
      return v;
    };
    return walk(value) as T;
  }

  /** Returns `bytes` itself when no secret occurs in it. */
  redactBytes(bytes: Uint8Array): Uint8Array {
    let data: Buffer | undefined;
    for (const held of this.#held) {
      const replaced = replaceAll(data ?? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), held.bytes);
      if (replaced) data = replaced;
    }
    return data ?? bytes;
  }

  /**
   * A redactor for a byte stream cut into arbitrary chunks: a secret split
   * across two chunks is still caught, because a chunk's tail that could be the
   * start of a secret is held back until the next chunk (or `end`).
   */
  stream(): RedactingStream {
    return new RedactingStream(this);
  }

  /** Length of the longest tail of `data` (shorter than the secret) that starts some held secret. */
  partialTail(data: Uint8Array): number {
    let best = 0;
    for (const held of this.#held) {
      const secret = held.bytes;
      for (let k = Math.min(data.length, secret.length - 1); k > best; k--) {
        let match = true;
        for (let i = 0; i < k; i++) {
          if (data[data.length - k + i] !== secret[i]) {
            match = false;
            break;
          }
        }
        if (match) {
          best = k;
          break;
        }
      }
    }
    return best;
  }
}

export class RedactingStream {
  readonly #redactor: SecretRedactor;
  #held: Uint8Array = new Uint8Array(0);

  constructor(redactor: SecretRedactor) {
    this.#redactor = redactor;
  }

  /** The redacted bytes that are safe to pass on now (possibly empty). */
  push(bytes: Uint8Array): Uint8Array {
    if (this.#redactor.size === 0 && this.#held.length === 0) return bytes;
    const data = this.#held.length === 0 ? bytes : Buffer.concat([this.#held, bytes]);
    const redacted = this.#redactor.redactBytes(data);
    const keep = this.#redactor.partialTail(redacted);
    this.#held = redacted.slice(redacted.length - keep);
    return redacted.subarray(0, redacted.length - keep);
  }

  /** Whatever was held back: the stream ended without the rest of a secret. */
  end(): Uint8Array {
    const rest = this.#held;
    this.#held = new Uint8Array(0);
    return rest;
  }
}
