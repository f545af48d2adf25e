import { describe, expect, test } from "bun:test";
import { QueryDetector } from "./queries.ts";

const enc = new TextEncoder();

describe("QueryDetector", () => {
  test("spots each query, whole or split across chunks, and nothing else", () => {
    const seen = (chunks: string[]) => {
      const d = new QueryDetector();
      return chunks.map((c) => d.push(enc.encode(c)));
    };
    expect({
      cpr: seen(["\r\x1b[K\x1b[?25l\x1b[J\x1b[6n"]),
      split: seen(["abc\x1b", "[6", "n"]),
      da1: seen(["\x1b[c"]),
      da2: seen(["x\x1b[>c"]),
      colors: seen(["\x1b[31mred\x1b[0m\x1b[2J\x1b[H"]),
      plain: seen(["hello\n", "world"]),
      sgrThenQuery: seen(["\x1b[1m", "\x1b[5n"]),
    }).toEqual({
      cpr: [true],
      split: [false, false, true],
      da1: [true],
      da2: [true],
      colors: [false],
      plain: [false, false],
      sgrThenQuery: [false, true],
    });
  });
});
