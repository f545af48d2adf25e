import { describe, expect, test } from "bun:test";
import { HEAD_BYTES } from "../session/result-budget.ts";
import { BoundedCapture, TAIL_BYTES, utf8End, utf8Start } from "./capture.ts";

const enc = new TextEncoder();

function capture(chunks: string[]): ReturnType<BoundedCapture["text"]> & { bytes: number } {
  const c = new BoundedCapture();
  for (const chunk of chunks) c.write(enc.encode(chunk));
  return { ...c.text(), bytes: c.bytes };
}

describe("BoundedCapture", () => {
  test("small output whole, in any chunking", () => {
    expect(capture(["hel", "lo\n", "world\n"])).toEqual({ output: "hello\nworld\n", elidedBytes: 0, bytes: 12 });
  });
  test("over 16 KiB: the first 2 KiB, the elision line, the last 14 KiB (chunks of every size)", () => {
    const full = Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join("");
    const expected = { output: `${full.slice(0, HEAD_BYTES)}\n[… ${full.length - HEAD_BYTES - TAIL_BYTES} bytes of output left out …]\n${full.slice(-TAIL_BYTES)}`, elidedBytes: full.length - HEAD_BYTES - TAIL_BYTES, bytes: full.length };
    for (const size of [1, 7, 1000, 20_000, full.length]) {
      const chunks: string[] = [];
      for (let i = 0; i < full.length; i += size) chunks.push(full.slice(i, i + size));
      expect(capture(chunks)).toEqual(expected);
    }
  });
  test("never cut inside a UTF-8 character; ANSI stripped", () => {
    const text = "é".repeat(20_000);
    const out = capture([text]).output;
    expect(out.includes("\uFFFD")).toBe(false);
    expect(capture(["\x1b[31mred\x1b[0m\n"]).output).toBe("red\n");
    expect([utf8End(enc.encode("aé").subarray(0, 2)), utf8Start(enc.encode("éa").subarray(1))]).toEqual([1, 1]);
  });
});
