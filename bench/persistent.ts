// bun bench/persistent.ts — persistent (daemon) sessions against in-process ones, same run,
// same server (machines are noisy: compare the ratio). Aim (issue 6): within 1.5x.
//   M1 round trip of `echo` at a bash prompt (send_input → output complete)
//   M2 latency from a marker printed (the program's own clock) to wait_for returning
//   M4 seconds for 50 MB of output to reach the agent (wait_for on the line after it)
// Uses a private XDG_RUNTIME_DIR, so its daemon is its own; it is stopped at the end.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McpHarness } from "../test/harness/mcp.ts";
import { echoRoundTrip, markerLatency, row } from "./round-trip.ts";

const rounds = Number(process.env.BENCH_ROUNDS ?? 40);
const runtime = mkdtempSync(join(tmpdir(), "pty-mcp-bench-"));

const h = await McpHarness.start({ env: { XDG_RUNTIME_DIR: runtime } });
const results: Record<string, number> = {};
try {
  for (const persistent of [false, true]) {
    const kind = persistent ? "persistent" : "in_process";
    const s = await h.call<{ session_id: string }>("create_local_session", { command: "bash --norc --noprofile", env: { PS1: "$ " }, persistent });
    await h.call("read_output", { session_id: s.session_id, wait_for: "^\\$ $", timeout: 10 });
    // Warm-up (first prompts, JIT).
    for (let i = 0; i < 5; i++) await h.call("send_input", { session_id: s.session_id, input: `echo w${i}` });

    results[`M1_${kind}_ms`] = await echoRoundTrip(h, s.session_id, rounds);
    results[`M2_${kind}_ms`] = await markerLatency(h, s.session_id, Math.ceil(rounds / 2), { settle: true });

    const flood = Number(process.env.BENCH_FLOOD_MB ?? 50);
    const t = performance.now();
    await h.call("send_input", { session_id: s.session_id, input: `head -c ${flood * 1_000_000} /dev/zero | tr '\\0' x; echo; echo FLOOD-DONE`, wait_for: "^FLOOD-DONE$", wait_for_timeout: 300 });
    results[`M4_${kind}_s`] = (performance.now() - t) / 1000;
    await h.call("close_session", { session_id: s.session_id });
  }
} finally {
  await h.close();
  try {
    process.kill(Number(readFileSync(join(runtime, "pty-mcp", "daemon.pid"), "utf8")), "SIGTERM");
  } catch {
    // no daemon
  }
  rmSync(runtime, { recursive: true, force: true });
}

console.log(`${"".padEnd(34)} ${"in-process".padStart(11)} ${"persistent".padStart(11)}   ratio`);
row("M1 echo round trip", results.M1_in_process_ms!, results.M1_persistent_ms!);
row("M2 marker printed → wait_for", results.M2_in_process_ms!, results.M2_persistent_ms!);
console.log(`${"M4 50 MB of output".padEnd(34)} ${results.M4_in_process_s!.toFixed(2).padStart(9)} s ${results.M4_persistent_s!.toFixed(2).padStart(9)} s   ${(results.M4_persistent_s! / results.M4_in_process_s!).toFixed(2)}x`);
console.log(JSON.stringify(results));
