// Programs ask the terminal things and wait for the answer: fzf and other TUIs ask for the cursor
// position (DSR 6, `ESC [ 6 n`) before they draw, others for the device attributes (DA1 `ESC [ c`,
// DA2 `ESC [ > c`), the terminal's status (DSR 5) or its version (XTVERSION `ESC [ > q`). The screen
// (@xterm/headless) produces the answers a terminal gives, from its state at the query; this spots a
// query in the output stream, so that the screen parses up to it at once instead of when output
// idles. Linear in the bytes (a few indexOf scans, only in chunks that hold an ESC).

const QUERIES = ["\x1b[6n", "\x1b[?6n", "\x1b[5n", "\x1b[c", "\x1b[0c", "\x1b[>c", "\x1b[>0c", "\x1b[=c", "\x1b[>q", "\x1b[>0q"].map((q) => new TextEncoder().encode(q));
const LONGEST = Math.max(...QUERIES.map((q) => q.length));

export class QueryDetector {
  /** The last bytes of the previous chunk (a query split across two chunks). */
  #carry = new Uint8Array(0);

  /** True when `bytes` (with the end of the previous chunk) hold a terminal query. */
  push(bytes: Uint8Array): boolean {
    const carried = this.#carry.length > 0;
    if (!carried && bytes.indexOf(0x1b) < 0) return false;
    const text = carried ? concat(this.#carry, bytes) : bytes;
    this.#carry = text.length >= LONGEST ? text.slice(text.length - (LONGEST - 1)) : text.slice();
    if (this.#carry.indexOf(0x1b) < 0) this.#carry = new Uint8Array(0);
    return QUERIES.some((q) => indexOf(text, q) >= 0);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  for (let i = haystack.indexOf(needle[0]!); i >= 0 && i <= haystack.length - needle.length; i = haystack.indexOf(needle[0]!, i + 1)) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}
