// The measurements the benches share: the median, an `echo` round trip at a bash prompt (M1),
// the latency from a marker the program stamps with its own clock to wait_for returning (M2),
// and the two-column table of the persistent and remote benches.
import type { McpHarness } from "../test/harness/mcp.ts";

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** M1: median ms of `rounds` send_input `echo mN` calls, each checked for exactly its output and the prompt. */
export async function echoRoundTrip(h: McpHarness, sessionId: string, rounds: number, completion?: "exact" | "heuristic"): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    const r = await h.call<{ output: string; completion: string }>("send_input", { session_id: sessionId, input: `echo m${i}` });
    times.push(performance.now() - t);
    if (r.output !== `m${i}\n$ `) throw new Error(`M1: unexpected output ${JSON.stringify(r.output)}`);
    if (completion && r.completion !== completion) throw new Error(`M1: completion ${r.completion}, expected ${completion}`);
  }
  return median(times);
}

/**
 * M2: median ms from a marker printed (stamped with the program's clock just before printing) to
 * the wait_for on it returning. `settle`: wait for the prompt after each marker before the next.
 */
export async function markerLatency(h: McpHarness, sessionId: string, rounds: number, options: { settle?: boolean } = {}): Promise<number> {
  const lat: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const wait = h.call<{ match_line: string }>("read_output", { session_id: sessionId, wait_for: `^MARK${i} `, timeout: 10 });
    await h.call("send_input", { session_id: sessionId, input: `sleep 0.05; echo MARK${i} $(date +%s%N)`, timeout_ms: 0 });
    const r = await wait;
    const doneNs = (performance.timeOrigin + performance.now()) * 1e6;
    lat.push((doneNs - Number(r.match_line.split(" ")[1])) / 1e6);
    if (options.settle) await h.call("read_output", { session_id: sessionId, wait_for: "^\\$ $", timeout: 10 });
  }
  return median(lat);
}

/** One row of a two-column comparison (ms, ms, ratio b/a). */
export function row(name: string, a: number, b: number): void {
  console.log(`${name.padEnd(34)} ${a.toFixed(2).padStart(8)} ms ${b.toFixed(2).padStart(8)} ms   ${(b / a).toFixed(2)}x`);
}
