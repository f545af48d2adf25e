// bun bench/ab.ts A_BINARY B_BINARY [ROUNDS] — M1 (exact `echo` round trip in `bash --norc`, one
// send_input) of two builds of pty-mcp, interleaved round by round (a shared machine's load drifts;
// interleaving gives both builds the same), with the native floor (bench/floor.py) of the same run.
// E.g. a change to a shell hook: build before it, copy dist/pty-mcp away, build after it, compare.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { echoRoundTrip, median } from "./round-trip.ts";

const [a, b] = process.argv.slice(2, 4).map((p) => resolve(p));
const rounds = Number(process.argv[4] ?? 200);
if (!a || !b) throw new Error("usage: bun bench/ab.ts A_BINARY B_BINARY [ROUNDS]");
// The harness starts the binary PTY_MCP_BINARY names when it is imported: one launcher for both builds.
const dir = mkdtempSync(join(tmpdir(), "pty-mcp-ab-"));
const launcher = join(dir, "launch");
writeFileSync(launcher, '#!/bin/sh\nexec "$PTY_MCP_AB_BINARY" "$@"\n');
chmodSync(launcher, 0o755);
process.env.PTY_MCP_BINARY = launcher;
const { McpHarness } = await import("../test/harness/mcp.ts");

const builds = [
  { name: "A", binary: a, times: [] as number[] },
  { name: "B", binary: b, times: [] as number[] },
];
const open = await Promise.all(
  builds.map(async (build) => {
    const h = await McpHarness.start({ env: { PTY_MCP_AB_BINARY: build.binary } });
    const { session_id } = await h.call<{ session_id: string }>("create_local_session", { command: "bash --norc --noprofile", env: { PS1: "$ " } });
    await h.call("read_output", { session_id, wait_for: "^\\$ $", timeout: 10 });
    return { h, id: session_id, build };
  }),
);
for (let i = 0; i < rounds; i++) {
  for (const s of i % 2 ? open : [...open].reverse()) {
    const t = performance.now();
    await echoRoundTrip(s.h, s.id, 1, "exact");
    s.build.times.push(performance.now() - t);
  }
}
for (const s of open) await s.h.close();
rmSync(dir, { recursive: true, force: true });
const floor = (JSON.parse(Bun.spawnSync(["python3", join(import.meta.dir, "floor.py"), "60", "1000", "0.1"]).stdout.toString()) as { M1_ms: number }).M1_ms;
console.log(`M1 exact, ${rounds} interleaved rounds, load ${(await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ")}; floor (Python pty, bash --norc) ${floor.toFixed(3)} ms`);
for (const { name, binary, times } of builds) console.log(`${name} ${median(times).toFixed(3)} ms  ${(median(times) / floor).toFixed(1)}x floor  ${binary}`);
