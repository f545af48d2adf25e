/**
 * One host's output, bounded (SPEC §11): the first 2 KiB and the last 14 KiB are kept, with one
 * line between them saying how much was left out; a SHA-256 of every byte tells identical
 * outputs apart without keeping them. Text is what a person sees: ANSI stripped, `\r` progress
 * collapsed, invalid UTF-8 replaced, never cut inside a character.
 */
import { createHash, type Hash } from "node:crypto";
import { HEAD_BYTES, RESULT_BUDGET_BYTES } from "../session/result-budget.ts";
import { cleanText } from "../terminal/ansi.ts";

/** The result budget of session output (session/result-budget.ts), kept while streaming: head, then the last bytes. */
export const TAIL_BYTES = RESULT_BUDGET_BYTES - HEAD_BYTES;

export class BoundedCapture {
  readonly #hash: Hash = createHash("sha256");
  // Allocated on first use: most hosts print a line or two, and a fleet may be thousands of hosts.
  #head = new Uint8Array(0);
  #headLength = 0;
  // The tail is a ring of the last TAIL_BYTES bytes after the head.
  #tail = new Uint8Array(0);
  #tailStart = 0;
  #tailLength = 0;
  bytes = 0;

  write(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.bytes += chunk.length;
    let data = chunk;
    if (this.#headLength < HEAD_BYTES) {
      const take = Math.min(HEAD_BYTES - this.#headLength, data.length);
      if (this.#head.length < this.#headLength + take) {
        const grown = new Uint8Array(Math.min(HEAD_BYTES, Math.max(256, (this.#headLength + take) * 2)));
        grown.set(this.#head.subarray(0, this.#headLength));
        this.#head = grown;
      }
      this.#head.set(data.subarray(0, take), this.#headLength);
      this.#headLength += take;
      data = data.subarray(take);
    }
    if (data.length === 0) return;
    if (this.#tail.length === 0) this.#tail = new Uint8Array(TAIL_BYTES);
    if (data.length >= TAIL_BYTES) {
      this.#tail.set(data.subarray(data.length - TAIL_BYTES));
      this.#tailStart = 0;
      this.#tailLength = TAIL_BYTES;
      return;
    }
    for (let i = 0; i < data.length; ) {
      const end = (this.#tailStart + this.#tailLength) % TAIL_BYTES;
      const room = this.#tailLength < TAIL_BYTES ? Math.min(TAIL_BYTES - end, TAIL_BYTES - this.#tailLength) : 0;
      if (room > 0) {
        const n = Math.min(room, data.length - i);
        this.#tail.set(data.subarray(i, i + n), end);
        this.#tailLength += n;
        i += n;
      } else {
        // Full: overwrite the oldest bytes.
        const n = Math.min(TAIL_BYTES - this.#tailStart, data.length - i);
        this.#tail.set(data.subarray(i, i + n), this.#tailStart);
        this.#tailStart = (this.#tailStart + n) % TAIL_BYTES;
        i += n;
      }
    }
  }

  /** Hex SHA-256 of every byte written (call once, at the end). */
  digest(): string {
    return this.#hash.digest("hex");
  }

  /** The output as text, with the elision line when bytes were left out. */
  text(): { output: string; elidedBytes: number } {
    const head = this.#head.subarray(0, this.#headLength);
    const tail = new Uint8Array(this.#tailLength);
    const first = Math.min(this.#tailLength, TAIL_BYTES - this.#tailStart);
    tail.set(this.#tail.subarray(this.#tailStart, this.#tailStart + first));
    tail.set(this.#tail.subarray(0, this.#tailLength - first), first);
    const elided = this.bytes - head.length - tail.length;
    if (elided === 0) return { output: cleanText(decode(concat(head, tail))), elidedBytes: 0 };
    // Cut at character boundaries: the head ends before a partial character, the tail starts after one.
    const headEnd = utf8End(head);
    const tailStart = utf8Start(tail);
    const left = elided + (head.length - headEnd) + tailStart;
    return {
      output: `${cleanText(decode(head.subarray(0, headEnd)))}\n[… ${left} bytes of output left out …]\n${cleanText(decode(tail.subarray(tailStart)))}`,
      elidedBytes: left,
    };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function decode(bytes: Uint8Array): string {
  return new TextDecoder("utf-8", { fatal: false }).decode(bytes);
}

/** Length of `bytes` without a trailing incomplete UTF-8 sequence. */
export function utf8End(bytes: Uint8Array): number {
  let i = bytes.length - 1;
  let continuation = 0;
  while (i >= 0 && continuation < 4 && ((bytes[i] as number) & 0xc0) === 0x80) {
    i--;
    continuation++;
  }
  if (i < 0) return bytes.length;
  const lead = bytes[i] as number;
  const need = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc0 ? 1 : 0;
  return need > continuation ? i : bytes.length;
}

/** Index of the first byte that is not a UTF-8 continuation byte (at most 3 skipped). */
export function utf8Start(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length && i < 3 && ((bytes[i] as number) & 0xc0) === 0x80) i++;
  return i;
}
