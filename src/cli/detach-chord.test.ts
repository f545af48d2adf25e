import { describe, expect, test } from "bun:test";
import { DetachChord } from "./detach-chord.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("DetachChord", () => {
  test("ordinary typing passes through unchanged", () => {
    const chord = new DetachChord();
    expect(chord.feed(bytes("ls -l\r\x03"))).toEqual({ send: bytes("ls -l\r\x03"), detach: false });
  });

  test("ctrl+] d detaches and drops what follows; what came before is sent", () => {
    const chord = new DetachChord();
    expect(chord.feed(bytes("ab\x1dd more"))).toEqual({ send: bytes("ab"), detach: true });
  });

  test("the chord split across two reads still detaches", () => {
    const chord = new DetachChord();
    expect(chord.feed(bytes("x\x1d"))).toEqual({ send: bytes("x"), detach: false });
    expect(chord.pending).toBe(true);
    expect(chord.feed(bytes("d"))).toEqual({ send: bytes(""), detach: true });
  });

  test("ctrl+] ctrl+] sends one ctrl+]; ctrl+] with another key sends both", () => {
    const chord = new DetachChord();
    expect(text(chord.feed(bytes("\x1d\x1d")).send)).toBe("\x1d");
    expect(text(chord.feed(bytes("\x1dq")).send)).toBe("\x1dq");
    expect(text(chord.feed(bytes("\x1dD")).send)).toBe("\x1dD");
    expect(chord.pending).toBe(false);
  });
});
