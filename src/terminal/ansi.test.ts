import { describe, expect, test } from "bun:test";
import { cleanText, displayedLine, stripAnsi } from "./ansi.ts";

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
