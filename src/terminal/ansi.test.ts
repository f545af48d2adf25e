import { describe, expect, test } from "bun:test";
import { seededRandom } from "../../test/harness/random.ts";
import { decode } from "../session/wait-for.ts";
import { cleanText, displayedLine, lastLinesStart, stripAnsi } from "./ansi.ts";

describe("ANSI stripping", () => {
  test("removes CSI, OSC (BEL and ST), charset and keypad escapes", () => {
    expect(stripAnsi("\x1b[1;31mred\x1b[0m \x1b]0;title\x07ok \x1b]133;A\x1b\\x \x1b(B\x1b=y")).toBe("red ok x y");
  });
  test("CRLF becomes LF; a bare CR overwrite shows the final text; backspace erases", () => {
    expect(cleanText("a\r\nb\r\n")).toBe("a\nb\n");
    expect(cleanText("10%\r50%\r100%\n")).toBe("100%\n");
    expect(displayedLine("abc\b\bX")).toBe("aX");
    expect(displayedLine("long text\rnew")).toBe("newg text"); // as a terminal shows it: only the first 3 cells are rewritten
  });
});

test("stripAnsi: an ESC before another escape is dropped, never joined with the text after it into a new sequence (fuzz counterexample)", () => {
  expect(stripAnsi("\x1b\x1b[31m[A")).toBe("[A");
  expect(stripAnsi("a\x1b\x1b[0mb\x1b")).toBe("ab");
  expect(stripAnsi("\x1b\nx")).toBe("\nx");
});

describe("cleanText fast paths", () => {
  /** cleanText as it was before its fast paths: strip, CRLF → LF, every line through displayedLine. */
  const reference = (text: string) => stripAnsi(text).replace(/\r+\n/g, "\n").split("\n").map(displayedLine).join("\n");
  const alphabet = ["a", "b", " ", "\r", "\n", "\r\n", "\b", "\t", "\x1b", "[", "3", "1", "m", "]", "\x07", "\x9b", "\x00", "\x7f", "é", "\\"];

  test("random text of CRs, LFs, backspaces, escapes and controls cleans exactly as line by line (20 000 cases)", () => {
    const random = seededRandom(20);
    const differ: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      let text = "";
      for (let n = random(24); n > 0; n--) text += alphabet[random(alphabet.length)];
      if (cleanText(text) !== reference(text)) differ.push(JSON.stringify(text));
    }
    expect(differ).toEqual([]);
  });

  test("plain lines come back with LF endings; a run of a million CRs ending in text is linear work", () => {
    expect(cleanText("one\r\ntwo\r\r\nthree")).toBe("one\ntwo\nthree");
    expect(cleanText(`${"\r".repeat(1_000_000)}x\r\n`)).toBe("x\n");
    expect(displayedLine(`ab${"\r".repeat(1_000_000)}c`)).toBe("cb");
  });
});

describe("lastLinesStart: cleaning only the last lines", () => {
  const encoder = new TextEncoder();
  const lastOf = (text: string, n: number) => text.split("\n").slice(-n);
  const alphabet = ["a", " ", "\r", "\n", "\r\n", "\b", "\x1b", "[", "]", "P", "X", "^", "_", "\\", "\x07", "3", "m", ";", "\x9b", "\x00", "é", "\ufeff"];

  test("random output: the last 1, 2 and 3 lines clean exactly as in the whole (20 000 cases)", () => {
    const random = seededRandom(7);
    const differ: string[] = [];
    let cut = 0;
    for (let i = 0; i < 20_000; i++) {
      let text = "";
      for (let n = random(40); n > 0; n--) text += alphabet[random(alphabet.length)];
      const bytes = encoder.encode(text);
      const lines = 1 + (i % 3);
      const start = lastLinesStart(bytes, lines);
      if (start > 0) cut++;
      const whole = lastOf(cleanText(decode(bytes)), lines);
      const part = cleanText(decode(bytes.subarray(start))).split("\n");
      if (JSON.stringify(lastOf(part.join("\n"), lines)) !== JSON.stringify(whole) || (start > 0 && part.length !== lines)) differ.push(JSON.stringify(text));
    }
    expect({ differ, cutOften: cut > 5_000 }).toEqual({ differ: [], cutOften: true });
  });

  test("a hooked bash prompt after output: only the last lines are cleaned; an OSC or DCS open across the LF, a BOM after it, or too few lines: all", () => {
    const prompt = "\x1b]133;D;0\x07\x1b[?2004h\x1b]133;A\x07$ \x1b]133;B\x07";
    const out = encoder.encode(`${"x".repeat(3000)}\r\necho m1\r\n\x1b[?2004l\r\x1b]133;C\x07m1\r\n${prompt}`);
    const start = lastLinesStart(out, 2);
    expect({
      cleaned: cleanText(decode(out.subarray(start))),
      oscOpen: lastLinesStart(encoder.encode("a\x1b]0;title\nb\x07\nc"), 2),
      oscClosed: lastLinesStart(encoder.encode("a\x1b]0;title\x07\nb\nc"), 2),
      dcsOpen: lastLinesStart(encoder.encode("a\x1bPq\nb\nc"), 2),
      bom: lastLinesStart(encoder.encode("a\n\ufeffb\nc"), 2),
      fewLines: lastLinesStart(encoder.encode("b\nc"), 2),
    }).toEqual({ cleaned: "m1\n$ ", oscOpen: 0, oscClosed: 2 + "\x1b]0;title\x07".length, dcsOpen: 0, bom: 0, fewLines: 0 });
  });
});
