// How an idle wait sleeps: one timer for its deadline, plus the progress cadence only when the
// client asked for progress (M3: a wait that never matches must not wake the server for nothing).
import { describe, expect, test } from "bun:test";
import { OutputBuffer } from "./output-buffer.ts";
import { compilePatterns, type CompiledPatterns, type Pattern } from "./matcher.ts";
import { waitFor, type WaitSource } from "./wait-for.ts";

/** A silent source: each changed() records the timeout asked for, then the program ends (the wait returns). */
function silentSource(): WaitSource & { asked: number[] } {
  const source = {
    buffer: new OutputBuffer(1024),
    readMark: 0,
    lastUsed: new Date(0),
    isAlive: true,
    asked: [] as number[],
    async changed(timeoutMs: number) {
      source.asked.push(timeoutMs);
      source.isAlive = false;
    },
    quietMs: () => Number.POSITIVE_INFINITY,
    tailText: () => "",
  };
  return source;
}

describe("an idle wait's timers", () => {
  test("without progress it sleeps until its deadline in one go", async () => {
    const source = silentSource();
    const r = await waitFor(source, { waitFor: "never", timeoutMs: 600_000 });
    expect({ matched: r.matched, is_alive: r.is_alive, sleeps: source.asked.length, untilDeadline: source.asked[0]! > 500_000 }).toEqual({ matched: false, is_alive: false, sleeps: 1, untilDeadline: true });
  });

  test("with progress it wakes for the first progress notification after a second", async () => {
    const source = silentSource();
    const updates: number[] = [];
    await waitFor(source, { waitFor: "never", timeoutMs: 600_000, progress: (u) => updates.push(u.progress) });
    expect({ sleeps: source.asked.length, firstWake: source.asked[0]! <= 1000, updates }).toEqual({ sleeps: 1, firstWake: true, updates: [] });
  });
});

/**
 * A program played chunk by chunk: each changed() delivers the next chunk (output never pauses
 * while chunks are left); after the last, `then` says what happens: the program exits, or output
 * pauses (quietMs is ∞), with the program still running — for three more rounds, then it exits
 * (a wait that missed its match ends unmatched instead of spinning).
 */
function scriptedSource(chunks: Uint8Array[], then: "exit" | "pause"): WaitSource {
  const source = {
    buffer: new OutputBuffer(1024 * 1024),
    readMark: 0,
    lastUsed: new Date(0),
    isAlive: true,
    async changed() {
      const next = chunks.shift();
      if (next) source.buffer.append(next);
      else if (then === "exit" || idle++ >= 3) source.isAlive = false;
      else paused = true;
    },
    quietMs: () => (paused ? Number.POSITIVE_INFINITY : 0),
    tailText: () => "",
  };
  let paused = false;
  let idle = 0;
  return source;
}

/** `pattern` compiled, counting the characters it is asked to test (lines and blocks). */
function counting(pattern: string): { patterns: CompiledPatterns; tested: () => number } {
  const [p] = compilePatterns(pattern).patterns;
  let tested = 0;
  const wrapped: Pattern = {
    source: p!.source,
    kind: p!.kind,
    test: (line) => ((tested += line.length), p!.test(line)),
    testBlock: (text) => ((tested += text.length), p!.testBlock(text)),
  };
  return { patterns: { source: pattern, patterns: [wrapped] }, tested: () => tested };
}

const enc = new TextEncoder();
const xs = (bytes: number, chunk = 4096): Uint8Array[] => Array.from({ length: Math.ceil(bytes / chunk) }, () => enc.encode("x".repeat(chunk)));

describe("a long unfinished line (no newline for megabytes)", () => {
  test("2 MB of one line in 4 KiB chunks, then END: the line's tests add up to a few times its size, not once per chunk", async () => {
    const { patterns, tested } = counting("^END$");
    const source = scriptedSource([...xs(2_000_000), enc.encode("\nEND\n")], "exit");
    const r = await waitFor(source, { waitFor: patterns, timeoutMs: 600_000 });
    // Before: each chunk re-tested the line from its start (up to the 1 MiB buffer): ~480 MB of text for 2 MB.
    expect({ matched: r.matched, line: r.match_line, linear: tested() <= 4 * 2_000_000 }).toEqual({ matched: true, line: "END", linear: true });
  });

  test("a marker inside a long line is found while the line keeps growing, at the latest when it doubled", async () => {
    const { patterns } = counting("MARK");
    const source = scriptedSource([...xs(200_000), enc.encode("MARK"), ...xs(600_000)], "pause");
    const r = await waitFor(source, { waitFor: patterns, timeoutMs: 600_000 });
    expect({ matched: r.matched, hasMark: r.match_line?.includes("MARK"), untilDoubled: source.buffer.end <= 2 * 204_800 + 4096 }).toEqual({ matched: true, hasMark: true, untilDoubled: true });
  });

  test("a marker at the end of a long line is found when output pauses, and when the program exits", async () => {
    for (const then of ["pause", "exit"] as const) {
      const { patterns } = counting("MARK$");
      const source = scriptedSource([...xs(300_000), enc.encode("MARK")], then);
      const r = await waitFor(source, { waitFor: patterns, timeoutMs: 600_000 });
      expect({ then, matched: r.matched, length: r.match_line?.length, end: r.match_line?.slice(-6) }).toEqual({ then, matched: true, length: 303_104 + 4, end: "xxMARK" });
    }
  });
});
