// How an idle wait sleeps: one timer for its deadline, plus the progress cadence only when the
// client asked for progress (M3: a wait that never matches must not wake the server for nothing).
import { describe, expect, test } from "bun:test";
import { OutputBuffer } from "./output-buffer.ts";
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
