// temporary A/B (not committed): two servers, interleaved send_input echo rounds.
import { McpHarness } from "../test/harness/mcp.ts";
import { median } from "./round-trip.ts";
const rounds = Number(process.argv[2] ?? 200);
const kinds = ["old", "new"] as const;
const hs = {} as Record<string, McpHarness>;
const ids = {} as Record<string, string>;
for (const k of kinds) {
  hs[k] = await McpHarness.start({ env: { PMBIN: `/tmp/pm_hf/pty-mcp-${k}` } });
  const s = await hs[k]!.call<{ session_id: string }>("create_local_session", { command: "bash --norc --noprofile", env: { PS1: "$ " } });
  await hs[k]!.call("read_output", { session_id: s.session_id, wait_for: "^\\$ $", timeout: 10 });
  ids[k] = s.session_id;
}
const t = { old: [] as number[], new: [] as number[], mcp: [] as number[] };
for (let i = 0; i < rounds; i++) {
  for (const k of i % 2 ? kinds : [...kinds].reverse()) {
    const a = performance.now();
    const r = await hs[k]!.call<{ output: string; completion: string }>("send_input", { session_id: ids[k], input: `echo m${i}` });
    t[k].push(performance.now() - a);
    if (r.output !== `m${i}\n$ ` || r.completion !== "exact") throw new Error(`${k}: ${JSON.stringify(r)}`);
  }
  const a = performance.now();
  await hs.new!.call("list_sessions", {});
  t.mcp.push(performance.now() - a);
}
const floor = JSON.parse(Bun.spawnSync(["python3", "bench/floor.py", "60", "1000", "0.1"]).stdout.toString()).M1_ms as number;
console.log(JSON.stringify({ rounds, floor_ms: floor, old_ms: median(t.old), new_ms: median(t.new), mcp_ms: median(t.mcp), old_x: median(t.old) / floor, new_x: median(t.new) / floor }));
for (const k of kinds) await hs[k]!.close();
