/**
 * A bounded ring of the newest output bytes with absolute cursors.
 *
 * A cursor is the absolute byte offset in the session's output stream since it
 * started: `end` grows forever, `start` is the oldest byte still held
 * (`end - capacity` once full). Reads never split a UTF-8 character: a read
 * that would start on a continuation byte starts after it, and a read never
 * ends inside a character (the incomplete tail is left for the next read).
 *
 * A buffer may start at a cursor other than 0 (`new OutputBuffer(capacity, offset)`) and may
 * jump forward (`restartAt`): a mirror of a stream held elsewhere (the daemon) then keeps the
 * same absolute cursors as the original. Bytes before the offset were never held here.
 */
export class OutputBuffer {
  readonly capacity: number;
  #ring: Uint8Array;
  #end = 0;
  /** Cursor below which nothing was ever held (the offset the buffer started or restarted at). */
  #floor = 0;

  constructor(capacity: number, offset = 0) {
    if (!Number.isInteger(capacity) || capacity < 16) throw new RangeError(`capacity ${capacity} too small`);
    this.capacity = capacity;
    this.#ring = new Uint8Array(capacity);
    this.restartAt(offset);
  }

  /**
   * Drops everything held and continues at `cursor` (>= end): the bytes in between are
   * reported lost (`truncated`) like bytes that were overwritten.
   */
  restartAt(cursor: number): void {
    if (!Number.isSafeInteger(cursor) || cursor < this.#end) throw new RangeError(`cannot restart at ${cursor}: the buffer is already at ${this.#end}`);
    this.#end = cursor;
    this.#floor = cursor;
  }

  /** Absolute cursor after the newest byte. */
  get end(): number {
    return this.#end;
  }

  /** Absolute cursor of the oldest byte still held. */
  get start(): number {
    return Math.max(this.#floor, this.#end - this.capacity);
  }

  append(bytes: Uint8Array): void {
    let data = bytes;
    if (data.length >= this.capacity) {
      this.#end += data.length - this.capacity;
      data = data.subarray(data.length - this.capacity);
    }
    const pos = this.#end % this.capacity;
    const first = Math.min(data.length, this.capacity - pos);
    this.#ring.set(data.subarray(0, first), pos);
    if (first < data.length) this.#ring.set(data.subarray(first), 0);
    this.#end += data.length;
  }

  /** Copy of the held bytes in [from, to), clamped to what is held. */
  slice(from: number, to = this.#end): Uint8Array {
    const a = Math.max(from, this.start);
    const b = Math.min(to, this.#end);
    if (b <= a) return new Uint8Array(0);
    const out = new Uint8Array(b - a);
    const pa = a % this.capacity;
    const first = Math.min(b - a, this.capacity - pa);
    out.set(this.#ring.subarray(pa, pa + first), 0);
    if (first < b - a) out.set(this.#ring.subarray(0, b - a - first), first);
    return out;
  }

  /**
   * The held bytes of [from, to), clamped like slice(): a view into the ring when they lie in one
   * piece of it (most reads), else a copy. A view changes with the next append: read it at once.
   */
  view(from: number, to = this.#end): Uint8Array {
    const a = Math.max(from, this.start);
    const b = Math.min(to, this.#end);
    if (b <= a) return new Uint8Array(0);
    const pa = a % this.capacity;
    return pa + (b - a) <= this.capacity ? this.#ring.subarray(pa, pa + (b - a)) : this.slice(a, b);
  }

  /** Line feeds among the held bytes of [from, to), counted in place (no copy). */
  countNewlines(from: number, to = this.#end): number {
    const a = Math.max(from, this.start);
    const b = Math.min(to, this.#end);
    let n = 0;
    for (let pos = a; pos < b; ) {
      const pa = pos % this.capacity;
      const run = this.#ring.subarray(pa, pa + Math.min(b - pos, this.capacity - pa));
      for (let i = run.indexOf(0x0a); i >= 0; i = run.indexOf(0x0a, i + 1)) n++;
      pos += run.length;
    }
    return n;
  }

  byteAt(cursor: number): number {
    return this.#ring[cursor % this.capacity]!;
  }

  /**
   * Reads up to `maxBytes` from `from`. `truncated` is true when bytes between
   * `from` and the oldest held byte were lost. The returned `to` is the cursor
   * to continue from; it never lies inside a UTF-8 character.
   */
  read(from: number, maxBytes = Number.POSITIVE_INFINITY): BufferRead {
    const truncated = from < this.start;
    let a = Math.min(Math.max(from, this.start), this.#end);
    // Skip continuation bytes when the read starts inside a character (only possible after truncation or a foreign cursor).
    while (a < this.#end && a > this.start && (this.byteAt(a) & 0xc0) === 0x80) a++;
    let b = Math.min(this.#end, a + Math.max(0, maxBytes));
    b = this.#characterBoundaryAtOrBefore(a, b);
    return { bytes: this.slice(a, b), from: a, to: b, truncated, hasMore: b < this.#end };
  }

  /** Moves `b` back so that [a, b) ends on a complete UTF-8 character. */
  #characterBoundaryAtOrBefore(a: number, b: number): number {
    // Look back at most 3 bytes for the lead byte of the last character.
    for (let i = b - 1, seen = 0; i >= a && seen < 4; i--, seen++) {
      const byte = this.byteAt(i);
      if ((byte & 0xc0) === 0x80) continue; // continuation
      const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
      return i + need <= b ? b : i;
    }
    return b;
  }
}

export interface BufferRead {
  bytes: Uint8Array;
  /** Cursor of the first returned byte. */
  from: number;
  /** Cursor after the last returned byte: where to continue. */
  to: number;
  /** Bytes between the requested cursor and `from` were overwritten. */
  truncated: boolean;
  hasMore: boolean;
}

export const DEFAULT_BUFFER_SIZE = 1024 * 1024;
export const MIN_BUFFER_SIZE = 64 * 1024;
export const MAX_BUFFER_SIZE = 32 * 1024 * 1024;

/** Buffer size from PTY_MCP_BUFFER_SIZE (bytes, or with K/M suffix), clamped to 64 KB–32 MB. */
export function bufferSizeFromEnv(value = process.env.PTY_MCP_BUFFER_SIZE): number {
  if (!value) return DEFAULT_BUFFER_SIZE;
  const m = /^\s*(\d+)\s*([kKmM]?)[bB]?\s*$/.exec(value);
  if (!m) return DEFAULT_BUFFER_SIZE;
  const unit = m[2]?.toLowerCase() === "k" ? 1024 : m[2]?.toLowerCase() === "m" ? 1024 * 1024 : 1;
  return Math.min(MAX_BUFFER_SIZE, Math.max(MIN_BUFFER_SIZE, Number(m[1]) * unit));
}
