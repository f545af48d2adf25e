// How an idle wait sleeps: one timer for its deadline, plus the progress cadence only when the
// client asked for progress (M3: a wait that never matches must not wake the server for nothing).
import { describe, expect, test } from "bun:test";
import { memorySession, MemoryTransport } from "../../test/harness/memory-transport.ts";
import { OutputBuffer } from "./output-buffer.ts";
import { compilePatterns, type CompiledPatterns, type Pattern } from "./matcher.ts";
import { decode, lastLines, waitFor, type WaitSource } from "./wait-for.ts";

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

describe("a marker line", () => {
  test("a complete line that may match is tested once, as a line (no block test of the same text before it); one ruled out by its needed string is not tested at all", async () => {
    const { patterns: counted, tested } = counting("^MARK1 ");
    const patterns = { ...counted, patterns: [{ ...counted.patterns[0]!, needs: compilePatterns("^MARK1 ").patterns[0]!.needs }] };
    const source = scriptedSource([enc.encode("noise\r\n"), enc.encode("MARK1 1764\r\n")], "exit");
    const r = await waitFor(source, { waitFor: patterns, timeoutMs: 600_000 });
    expect({ matched: r.matched, line: r.match_line, tested: tested() }).toEqual({ matched: true, line: "MARK1 1764", tested: "MARK1 1764".length });
  });
});

describe("wait-for helpers", () => {
  test("lastLines gives what split('\\n').slice(-n) gives, for every count and edge", () => {
    const texts = ["", "a", "\n", "a\n", "\nb", "a\nb", "a\n\nb\n", "one\ntwo\nthree", "\n\n\n"];
    const got: string[][] = [];
    const want: string[][] = [];
    for (const text of texts) {
      for (const n of [1, 2, 3, 5]) {
        got.push(lastLines(text, n));
        want.push(text.split("\n").slice(-n));
      }
    }
    expect(got).toEqual(want);
  });

  test("decode is TextDecoder's UTF-8: invalid bytes as U+FFFD, a leading BOM dropped, one in the middle kept", () => {
    const cases = [[0x61, 0xff, 0x62], [0xef, 0xbb, 0xbf, 0x61], [0x61, 0xef, 0xbb, 0xbf], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98, 0x80], [0xc2, 0x9b]];
    const reference = new TextDecoder();
    expect(cases.map((c) => decode(new Uint8Array(c)))).toEqual(cases.map((c) => reference.decode(new Uint8Array(c))));
  });
});

describe("a flood's complete lines are tested at once", () => {
  const plain = "x".repeat(99) + "\r\n";
  /** Prints `chunks` into a session waiting for ^FLOOD_DONE$ (context 2), then a line that ends the wait in any case. */
  async function waitThrough(chunks: string[]) {
    const t = new MemoryTransport(() => undefined);
    const s = memorySession(t);
    const wait = s.waitFor({ waitFor: ["^FLOOD_DONE$", "^END$"], timeoutMs: 10_000, contextLines: 2 });
    for (const chunk of chunks) {
      t.print(chunk);
      await Bun.sleep(0);
    }
    t.print("END\r\n");
    const r = await wait;
    await s.close();
    return { match_line: r.match_line, matched_index: r.matched_index, context: r.context };
  }

  test("a match among plain lines, or one made by stripping an escape, a CR overwrite or a backspace, is found; context from an earlier skipped block", async () => {
    const results = [];
    for (const line of ["FLOOD_DONE", "FLOOD\x1b[1m_DONE", "FLO\x1b]0;title\x07OD_DONE", "xxxxx_DONE\rFLOOD", "FLOOD_DONX\bE", "FLOOD_\x00DONE"]) {
      results.push(await waitThrough([plain.repeat(300), `${plain.repeat(20)}one\r\ntwo\r\n${plain.repeat(2)}${line}\r\n${plain}`]));
    }
    results.push(await waitThrough([`${plain.repeat(300)}before 1\r\nbefore 2\r\n`, "FLOOD_DONE\r\n"]));
    results.push(await waitThrough([plain.repeat(300), `FLOOD_DONE and more\r\nFLOOD_DONE \r\n${plain}`])); // the string is there, no line matches
    const x = "x".repeat(99);
    expect(results).toEqual([
      ...Array.from({ length: 6 }, () => ({ match_line: "FLOOD_DONE", matched_index: 0, context: `${x}\n${x}\nFLOOD_DONE\n${x}\nEND` })),
      { match_line: "FLOOD_DONE", matched_index: 0, context: "before 1\nbefore 2\nFLOOD_DONE\nEND" },
      { match_line: "END", matched_index: 1, context: `FLOOD_DONE \n${x}\nEND` },
    ]);
  });
});
