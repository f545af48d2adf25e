// bun bench/ab.ts A_BINARY B_BINARY [ROUNDS] [TRIALS] — M1 (exact `echo` round trip in `bash --norc`, one
// send_input) and M2 (marker printed → wait_for returns) of two builds, interleaved call by call (a shared
// machine's load drifts, and on this one a whole minute can run at twice the latency of the next: only
// interleaving gives both builds the same), with the native floor (bench/floor.py) of the same run.
// Each trial starts both servers afresh and runs run.ts's sequence: ROUNDS list_sessions, ROUNDS echoes,
// ROUNDS/2 markers (default 60 and 5 trials; the medians are over all rounds, then per trial).
// E.g. a change to a shell hook: build before it, copy dist/pty-mcp away, build after it, compare.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { median } from "./round-trip.ts";

const [a, b] = process.argv.slice(2, 4).map((p) => resolve(p));
const rounds = Number(process.argv[4] ?? 60);
const trials = Number(process.argv[5] ?? 5);
if (!a || !b) throw new Error("usage: bun bench/ab.ts A_BINARY B_BINARY [ROUNDS] [TRIALS]");
// The harness starts the binary PTY_MCP_BINARY names when it is imported: one launcher for both builds.
const dir = mkdtempSync(join(tmpdir(), "pty-mcp-ab-"));
const launcher = join(dir, "launch");
writeFileSync(launcher, '#!/bin/sh\nexec "$PTY_MCP_AB_BINARY" "$@"\n');
chmodSync(launcher, 0o755);
process.env.PTY_MCP_BINARY = launcher;
const { McpHarness } = await import("../test/harness/mcp.ts");

const builds = [a, b].map((binary, k) => ({ name: "AB"[k]!, binary, m1: [] as number[], m2: [] as number[], trialM1: [] as number[], trialM2: [] as number[] }));
for (let t = 0; t < trials; t++) {
  const open = await Promise.all(
    builds.map(async (build) => {
      const h = await McpHarness.start({ env: { PTY_MCP_AB_BINARY: build.binary } });
      return { h, id: "", build, m1: [] as number[], m2: [] as number[] };
    }),
  );
  // Which build goes first alternates round by round (and trial by trial).
  const order = (i: number) => ((i + t) % 2 ? open : [...open].reverse());
  for (let i = 0; i < rounds; i++) for (const s of order(i)) await s.h.call("list_sessions", {});
  for (const s of open) {
    s.id = (await s.h.call<{ session_id: string }>("create_local_session", { command: "bash --norc --noprofile", env: { PS1: "$ " } })).session_id;
    await s.h.call("read_output", { session_id: s.id, wait_for: "^\\$ $", timeout: 10 });
  }
  for (let i = 0; i < rounds; i++) {
    for (const s of order(i)) {
      const start = performance.now();
      const r = await s.h.call<{ output: string; completion: string }>("send_input", { session_id: s.id, input: `echo m${i}` });
      s.m1.push(performance.now() - start);
      if (r.output !== `m${i}\n$ ` || r.completion !== "exact") throw new Error(`M1: unexpected ${JSON.stringify(r)}`);
    }
  }
  for (let i = 0; i < rounds / 2; i++) {
    for (const s of order(i)) {
      // As round-trip.ts markerLatency: the program stamps the marker with its own clock just before printing it.
      const wait = s.h.call<{ match_line: string }>("read_output", { session_id: s.id, wait_for: `^MARK${i} `, timeout: 10 });
      await s.h.call("send_input", { session_id: s.id, input: `sleep 0.05; echo MARK${i} $(date +%s%N)`, timeout_ms: 0 });
      const r = await wait;
      s.m2.push(((performance.timeOrigin + performance.now()) * 1e6 - Number(r.match_line.split(" ")[1])) / 1e6);
      await s.h.call("read_output", { session_id: s.id, wait_for: "^\\$ $", timeout: 10 });
    }
  }
  for (const s of open) {
    s.build.m1.push(...s.m1);
    s.build.m2.push(...s.m2);
    s.build.trialM1.push(median(s.m1));
    s.build.trialM2.push(median(s.m2));
    await s.h.close();
  }
}
rmSync(dir, { recursive: true, force: true });
const floor = JSON.parse(Bun.spawnSync(["python3", join(import.meta.dir, "floor.py"), "60", "1000", "0.1"]).stdout.toString()) as { M1_ms: number; M2_ms: number };
const load = (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
console.log(`${trials} trials x ${rounds} rounds, interleaved, load ${load}; floor (Python pty): M1 ${floor.M1_ms.toFixed(3)} ms, M2 ${floor.M2_ms.toFixed(3)} ms`);
const ms = (values: number[]) => values.map((v) => v.toFixed(2)).join(" ");
for (const { name, binary, m1, m2, trialM1, trialM2 } of builds) {
  console.log(`${name} M1 ${median(m1).toFixed(3)} ms ${(median(m1) / floor.M1_ms).toFixed(1)}x (trials ${ms(trialM1)})  M2 ${median(m2).toFixed(3)} ms ${(median(m2) / floor.M2_ms).toFixed(2)}x (trials ${ms(trialM2)})  ${binary}`);
}
