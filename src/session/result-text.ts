// Output as results show it: escapes stripped, and pager prompts that auto_pager answered left out.
import { cleanText } from "../terminal/ansi.ts";
import { joinPages } from "./classifier.ts";
import type { OutputBuffer } from "./output-buffer.ts";
import { decode } from "./wait-for.ts";

export interface ResultText {
  text: string;
  from: number;
  to: number;
  truncated: boolean;
  hasMore: boolean;
}

/** Text of [from, to), at most `maxBytes`; `cuts` names the cursors where an answered pager prompt ends. */
export function resultText(buffer: OutputBuffer, from: number, to: number, maxBytes: number, cuts: (from: number, to: number) => number[]): ResultText {
  const read = buffer.read(from, Math.min(maxBytes, Math.max(0, to - Math.max(from, buffer.start))));
  const at = cuts(read.from, read.to);
  let raw: string;
  if (at.length === 0) raw = decode(read.bytes);
  else {
    const segments: string[] = [];
    let start = read.from;
    for (const cut of [...at, read.to]) {
      segments.push(decode(read.bytes.subarray(start - read.from, cut - read.from)));
      start = cut;
    }
    raw = joinPages(segments);
  }
  return { text: cleanText(raw), from: read.from, to: read.to, truncated: read.truncated, hasMore: read.to < to || read.hasMore };
}
