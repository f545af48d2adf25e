import { describe, expect, test } from "bun:test";
import { bufferSizeFromEnv, OutputBuffer } from "./output-buffer.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

describe("OutputBuffer", () => {
  test("keeps absolute cursors across wrap-around", () => {
    const b = new OutputBuffer(16);
    b.append(enc("0123456789"));
    b.append(enc("abcdefghij"));
    expect(b.end).toBe(20);
    expect(b.start).toBe(4);
    expect(dec(b.slice(4))).toBe("456789abcdefghij");
    expect(b.read(0)).toMatchObject({ from: 4, to: 20, truncated: true, hasMore: false });
    expect(dec(b.read(10, 4).bytes)).toBe("abcd");
    expect(b.read(10, 4)).toMatchObject({ from: 10, to: 14, truncated: false, hasMore: true });
  });

  test("a chunk larger than the capacity keeps its newest bytes", () => {
    const b = new OutputBuffer(16);
    b.append(enc("x".repeat(40) + "0123456789abcdef"));
    expect(b.end).toBe(56);
    expect(dec(b.slice(0))).toBe("0123456789abcdef");
  });

  test("never splits a UTF-8 character at either end of a read", () => {
    const b = new OutputBuffer(64);
    b.append(enc("aé€😀b")); // 1 + 2 + 3 + 4 + 1 bytes
    const first = b.read(0, 4); // would end inside €
    expect(dec(first.bytes)).toBe("aé");
    expect(first.to).toBe(3);
    const next = b.read(first.to, 4); // € exactly
    expect(dec(next.bytes)).toBe("€");
    const inside = b.read(2); // starts on é's continuation byte
    expect(dec(inside.bytes)).toBe("€😀b");
    expect(inside.from).toBe(3);
  });

  test("PTY_MCP_BUFFER_SIZE is clamped to 64 KB–32 MB", () => {
    expect(bufferSizeFromEnv(undefined)).toBe(1024 * 1024);
    expect(bufferSizeFromEnv("4M")).toBe(4 * 1024 * 1024);
    expect(bufferSizeFromEnv("1k")).toBe(64 * 1024);
    expect(bufferSizeFromEnv("999999999999")).toBe(32 * 1024 * 1024);
    expect(bufferSizeFromEnv("lots")).toBe(1024 * 1024);
  });

  test("started at an offset: cursors are the offset's, and nothing before it is held", () => {
    const b = new OutputBuffer(16, 1000);
    expect([b.start, b.end]).toEqual([1000, 1000]);
    b.append(enc("hello"));
    expect([b.start, b.end]).toEqual([1000, 1005]);
    expect(b.read(1000)).toEqual({ bytes: enc("hello"), from: 1000, to: 1005, truncated: false, hasMore: false });
    expect(b.read(990)).toEqual({ bytes: enc("hello"), from: 1000, to: 1005, truncated: true, hasMore: false });
    expect(dec(b.slice(1002, 1004))).toBe("ll");
    b.append(enc("0123456789abcdef"));
    expect([b.start, b.end]).toEqual([1005, 1021]);
    expect(dec(b.read(1005).bytes)).toBe("0123456789abcdef");
  });

  test("restartAt jumps forward over bytes that were never received", () => {
    const b = new OutputBuffer(16);
    b.append(enc("abc"));
    b.restartAt(10);
    expect([b.start, b.end]).toEqual([10, 10]);
    b.append(enc("xyz"));
    expect(b.read(0)).toEqual({ bytes: enc("xyz"), from: 10, to: 13, truncated: true, hasMore: false });
    expect(b.read(10)).toEqual({ bytes: enc("xyz"), from: 10, to: 13, truncated: false, hasMore: false });
    expect(() => b.restartAt(12)).toThrow(RangeError);
  });

  test("an offset anywhere in the ring: positions stay cursor % capacity across the wrap", () => {
    const b = new OutputBuffer(16, 7);
    b.append(enc("0123456789abcdefXY"));
    expect([b.start, b.end]).toEqual([9, 25]);
    expect(dec(b.read(9).bytes)).toBe("23456789abcdefXY");
  });
});

test("view: the same bytes as slice, a view into the ring when they lie in one piece, a copy across the wrap", () => {
  const b = new OutputBuffer(16);
  b.append(new TextEncoder().encode("0123456789abcdef"));
  b.append(new TextEncoder().encode("WXYZ")); // the ring wraps: WXYZ sits where 0123 was
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  const views = [b.view(b.start), b.view(b.start + 2, b.start + 8), b.view(b.end - 4), b.view(0), b.view(b.end)];
  expect(views.map(text)).toEqual(["456789abcdefWXYZ", "6789ab", "WXYZ", "456789abcdefWXYZ", ""]);
  expect(views.map(text)).toEqual([b.slice(b.start), b.slice(b.start + 2, b.start + 8), b.slice(b.end - 4), b.slice(0), b.slice(b.end)].map(text));
  const inPlace = b.view(b.start, b.start + 4); // "4567", where the next append goes
  b.append(new TextEncoder().encode("!!!!"));
  expect(text(inPlace)).toBe("!!!!"); // a view, not a copy: it shows the append
});
