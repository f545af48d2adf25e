import { describe, expect, test } from "bun:test";
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
  test("(a+)+$ on 50 KB of a's ending in b does not match (and returns: RE2 is linear)", () => {
    const { patterns } = compilePatterns("(a+)+$b");
    expect(patterns[0]!.test("a".repeat(50_000) + "b")).toBe(false);
    expect(compilePatterns("(a+)+$").patterns[0]!.test("a".repeat(50_000) + "b")).toBe(false);
  });
});
