import { describe, expect, test } from "bun:test";
import { RE2JS } from "re2js";
import { seededRandom } from "../../test/harness/random.ts";
import { compilePatterns, firstMatch } from "./matcher.ts";

describe("matcher", () => {
  test("RE2 regexes, alternation and lists", () => {
    const { patterns, warning } = compilePatterns(["^OK$", "ERROR|CRITICAL"]);
    expect(warning).toBeUndefined();
    expect(firstMatch(patterns, "x CRITICAL y")).toBe(1);
    expect(firstMatch(patterns, "OK")).toBe(0);
    expect(firstMatch(patterns, "OK!")).toBe(-1);
  });
  test("an invalid regex is a substring, with a warning", () => {
    const { patterns, warning } = compilePatterns("f(x");
    expect(patterns[0]!.kind).toBe("substring");
    expect(patterns[0]!.test("value f(x)")).toBe(true);
    expect(warning).toBe('Not a valid regular expression, matched as plain text: "f(x".');
  });
  test("lookaround and backreferences are REGEX_REJECTED", () => {
    expect(() => compilePatterns("(?<=a)b")).toThrow(/linear time/);
    expect(() => compilePatterns("(a)\\1")).toThrow(/linear time/);
  });
  test("a repetition RE2 cannot build is REGEX_REJECTED for its size, not for lookaround", () => {
    const rejected = (source: string) => {
      try {
        compilePatterns(source);
        return "compiled";
      } catch (err) {
        return { code: (err as { code?: string }).code, message: (err as Error).message };
      }
    };
    expect([rejected("((a{1000}){1000}){1000}"), rejected("(?=x)y")]).toEqual([
      {
        code: "REGEX_REJECTED",
        message:
          'wait_for "((a{1000}){1000}){1000}" repeats too much for the linear-time matcher: RE2 allows a repeat count of at most 1000, and nested counts multiply ({1000} inside {1000} is 1 000 000). Use smaller counts, or a + or * with a shorter pattern.',
      },
      {
        code: "REGEX_REJECTED",
        message:
          'wait_for "(?=x)y" uses lookaround or backreferences, which cannot be matched in linear time. Rewrite it without (?=, (?!, (?<=, (?<! or \\1 (RE2 syntax), or use a list of simpler patterns.',
      },
    ]);
  });
  test("(a+)+$ on 50 KB of a's ending in b does not match (and returns: RE2 is linear)", () => {
    const { patterns } = compilePatterns("(a+)+$b");
    expect(patterns[0]!.test("a".repeat(50_000) + "b")).toBe(false);
    expect(compilePatterns("(a+)+$").patterns[0]!.test("a".repeat(50_000) + "b")).toBe(false);
  });
});

describe("Pattern.needs (from RE2's prefilter, re2js internals: this fails when an upgrade changes their shape)", () => {
  test("the strings every match holds, one of which must be there; none when a match needs no particular text", () => {
    const needs = (source: string) => compilePatterns(source).patterns[0]!.needs ?? null;
    expect(["^FLOOD_DONE$", "^\\$ $", "\\d+ passed", "(foo|bar)baz", "(?:ERROR|FAIL)\\b", "f(x", "foo|\\d", "(?i)done", "\\d+", "a\\nb", "é"].map(needs)).toEqual([
      ["FLOOD_DONE"],
      ["$ "],
      [" passed"],
      ["baz"],
      ["ERROR", "FAIL"],
      ["f(x"], // an invalid regex matched as plain text
      null,
      null,
      null,
      null, // a LF is never in a line: nothing to search for
      ["é"],
    ]);
  });
});

describe("a ^literal pattern is a startsWith (re2js internals: this fails when an upgrade changes them)", () => {
  test("random patterns of literals, anchors, escapes, groups, classes and flags match exactly as RE2 on random lines (6 000 patterns)", () => {
    const random = seededRandom(11);
    const pieces = ["^", "^", "a", "b", "M", " ", "|", "(", ")", "\\", ".", "*", "$", "\\$", "\\.", "(?i)", "[ab]", "{2}", "\\Q", "\\E", "é", "\\b"];
    const chars = ["a", "b", "M", " ", "$", ".", "x", "A", "é", "\\"];
    const differ: string[] = [];
    let fast = 0;
    for (let i = 0; i < 6000; i++) {
      let source = "^";
      for (let n = random(6); n > 0; n--) source += pieces[random(pieces.length)];
      let pattern;
      try {
        pattern = compilePatterns(source).patterns[0]!;
      } catch {
        continue;
      }
      if (pattern.kind !== "regex") continue;
      const re2 = RE2JS.compile(source);
      if (pattern.test.toString().includes("startsWith")) fast++;
      for (let k = 0; k < 8; k++) {
        let line = "";
        for (let n = random(8); n > 0; n--) line += chars[random(chars.length)];
        if (pattern.test(line) !== re2.test(line)) differ.push(`${JSON.stringify(source)} on ${JSON.stringify(line)}`);
      }
    }
    expect({ differ, fastOften: fast > 500 }).toEqual({ differ: [], fastOften: true });
  });

  test("markers and prompts: ^MARK3 and ^\\$ are startsWith; with $, a class, a flag or an alternation, RE2", () => {
    const fast = (source: string) => compilePatterns(source).patterns[0]!.test.toString().includes("startsWith");
    expect(["^MARK3 ", "^\\$ ", "^\\Q[x]\\E", "^\\$ $", "^[ab]", "^(?i)mark", "^a|b", "MARK3"].map(fast)).toEqual([true, true, true, false, false, false, false, false]);
  });
});
