// npm run bench — pty-mcp measured against the raw Bun PTY in the same run (machines are noisy:
// compare ratios, not absolute figures). BENCH_QUICK=1 shortens M3 and M4.
//   M1 round trip of `echo` at a bash prompt (send_input vs raw PTY write → prompt back)
//   M2 latency from a marker printed to wait_for returning (vs the raw PTY's data callback)
//   M3 CPU seconds of the server during a wait that never matches (vs an idle raw PTY holder)
//   M4 seconds and peak RSS growth for 100 MB of output (vs the raw PTY draining it)
//   M5 cold start of dist/pty-mcp to the initialize result (2025-11-25) and to the
//      server/discover result (2026-07-28) (vs a minimal compiled Bun binary)
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binary, McpHarness } from "../test/harness/mcp.ts";
import { echoRoundTrip, markerLatency, median } from "./round-trip.ts";

const quick = process.env.BENCH_QUICK === "1";
const bash = ["bash", "--norc", "--noprofile"];
const env = { ...process.env, PS1: "$ ", PROMPT_COMMAND: "", TERM: "xterm-256color" } as Record<string, string>;
const floodBytes = quick ? 20_000_000 : 100_000_000;
const idleSeconds = quick ? 5 : 20;

/** A raw Bun PTY running bash, with a promise for "this text appeared". */
function rawPty() {
  let text = "";
  let waiter: { needle: string; resolve: () => void } | undefined;
  let bytes = 0;
  const proc = Bun.spawn(bash, {
    env,
    terminal: {
      cols: 120,
      rows: 40,
      data(_t, chunk) {
        bytes += chunk.length;
        text = (text + new TextDecoder().decode(chunk).replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, "")).slice(-4096);
        if (waiter && text.includes(waiter.needle)) {
          const w = waiter;
          waiter = undefined;
          text = "";
          w.resolve();
        }
      },
    },
  });
  return {
    proc,
    get bytes() {
      return bytes;
    },
    until(needle: string): Promise<void> {
      return new Promise((resolve) => {
        if (text.includes(needle)) {
          text = "";
          resolve();
        } else waiter = { needle, resolve };
      });
    },
    write(s: string) {
      proc.terminal!.write(s);
    },
    close() {
      proc.kill("SIGKILL");
      proc.terminal!.close();
    },
  };
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100/s on Linux)
  return ticks / 100;
}

function rssKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
}

const results: Record<string, unknown> = {};
const line = (name: string, ours: string, base: string, ratio: string) => console.log(`${name.padEnd(44)} ${ours.padStart(14)} ${base.padStart(14)} ${ratio.padStart(9)}`);
console.log(`pty-mcp bench (${quick ? "quick" : "full"}), ${new Date().toISOString()}`);
line("measure", "pty-mcp", "raw Bun PTY", "ratio");

// ---- M1 ---------------------------------------------------------------------------------
{
  const raw = rawPty();
  await raw.until("$ ");
  const rawTimes: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    raw.write(`echo r${i}\r`);
    await raw.until(`r${i}\r\n$ `);
    rawTimes.push(performance.now() - t);
  }
  raw.close();
  const h = await McpHarness.start();
  for (const integration of [true, false]) {
    const s = await h.call<{ session_id: string }>("create_local_session", { command: "bash --norc --noprofile", env: { PS1: "$ " }, shell_integration: integration });
    await h.call("read_output", { session_id: s.session_id, wait_for: "^\\$ $", timeout: 10 });
    const ours = await echoRoundTrip(h, s.session_id, 30);
    const base = median(rawTimes);
    results[`M1_${integration ? "exact" : "heuristic"}_ms`] = ours;
    line(`M1 echo round trip (${integration ? "shell integration" : "prompt heuristic"})`, `${ours.toFixed(2)} ms`, `${base.toFixed(2)} ms`, `${(ours / base).toFixed(1)}x`);
  }
  results.M1_raw_ms = median(rawTimes);

  // ---- M2 -------------------------------------------------------------------------------
  const s = await h.call<{ session_id: string }>("create_local_session", { command: "bash --norc --noprofile", env: { PS1: "$ " } });
  await h.call("read_output", { session_id: s.session_id, wait_for: "^\\$ $", timeout: 10 });
  // The program stamps the marker with its own clock just before printing it.
  const latency = await markerLatency(h, s.session_id, 15);
  const rawLat: number[] = [];
  // Raw floor: a one-shot program printing its stamp, read by a raw PTY data callback.
  for (let i = 0; i < 15; i++) {
    const t = await new Promise<number>((resolve) => {
      let buf = "";
      Bun.spawn(["bash", "-c", "sleep 0.05; echo STAMP $(date +%s%N)"], {
        terminal: {
          data(_t, chunk) {
            buf += new TextDecoder().decode(chunk);
            const m = /STAMP (\d+)\r\n/.exec(buf);
            if (m) resolve(((performance.timeOrigin + performance.now()) * 1e6 - Number(m[1])) / 1e6);
          },
        },
      });
    });
    rawLat.push(t);
  }
  results.M2_ms = latency;
  results.M2_raw_ms = median(rawLat);
  line("M2 marker printed → wait_for returns", `${latency.toFixed(2)} ms`, `${median(rawLat).toFixed(2)} ms`, `${(latency / median(rawLat)).toFixed(1)}x`);

  // ---- M3 -------------------------------------------------------------------------------
  const pid = h.transport.pid!;
  const before = cpuSeconds(pid);
  await h.call("read_output", { session_id: s.session_id, wait_for: "never-printed", timeout: idleSeconds });
  const cpu = cpuSeconds(pid) - before;
  const idle = rawPty();
  const idlePid = process.pid;
  const rawBefore = cpuSeconds(idlePid);
  await Bun.sleep(idleSeconds * 1000);
  const rawCpu = cpuSeconds(idlePid) - rawBefore;
  idle.close();
  results.M3_cpu_s = cpu;
  results.M3_raw_cpu_s = rawCpu;
  line(`M3 CPU during a ${idleSeconds} s wait`, `${cpu.toFixed(2)} CPU-s`, `${rawCpu.toFixed(2)} CPU-s`, "-");

  // ---- M4 -------------------------------------------------------------------------------
  const rssBefore = rssKb(pid, "VmRSS");
  const flood = `head -c ${floodBytes} /dev/zero | tr '\\0' x | fold -w 99; echo; echo FLOOD_DONE`;
  let t = performance.now();
  const fr = await h.call<{ matched: boolean }>("send_input", { session_id: s.session_id, input: flood, wait_for: "^FLOOD_DONE$", wait_for_timeout: 600 });
  const oursS = (performance.now() - t) / 1000;
  if (!fr.matched) throw new Error("M4: flood did not finish");
  const peakGrowthMb = (rssKb(pid, "VmHWM") - rssBefore) / 1024;
  const raw4 = rawPty();
  await raw4.until("$ ");
  t = performance.now();
  raw4.write(`${flood}\r`);
  await raw4.until("\r\nFLOOD_DONE\r\n");
  const rawS = (performance.now() - t) / 1000;
  raw4.close();
  const mb = floodBytes / 1e6;
  results.M4_MBps = mb / oursS;
  results.M4_raw_MBps = mb / rawS;
  results.M4_rss_growth_MB = peakGrowthMb;
  line(`M4 ${mb} MB flood throughput`, `${(mb / oursS).toFixed(1)} MB/s`, `${(mb / rawS).toFixed(1)} MB/s`, `${(rawS / oursS).toFixed(2)}x`);
  line("M4 server peak RSS growth", `${peakGrowthMb.toFixed(1)} MB`, "-", "-");
  await h.close();
}

// ---- M5 ---------------------------------------------------------------------------------
{
  const init = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "bench", version: "0" } } }) + "\n";
  const envelope = { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientInfo": { name: "bench", version: "0" }, "io.modelcontextprotocol/clientCapabilities": {} };
  const discover = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "server/discover", params: { _meta: envelope } }) + "\n";
  const startOnce = async (cmd: string[], input: string, until: string): Promise<number> => {
    const t = performance.now();
    const proc = Bun.spawn(cmd, { stdin: "pipe", stdout: "pipe", stderr: "ignore" });
    proc.stdin.write(input);
    await proc.stdin.flush();
    const reader = proc.stdout.getReader();
    let text = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
      if (text.includes(until)) break;
    }
    const ms = performance.now() - t;
    proc.kill();
    await proc.exited;
    return ms;
  };
  const dir = mkdtempSync(join(tmpdir(), "pty-mcp-bench-"));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "hello.ts"), `process.stdin.once("data", () => { process.stdout.write('{"result":{}}\\n'); process.exit(0); });\n`);
  const build = Bun.spawnSync([process.execPath, "build", "--compile", "--minify", "--bytecode", "--format=esm", join(dir, "hello.ts"), "--outfile", join(dir, "hello")], { stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`M5 baseline build failed: ${build.stderr.toString()}`);
  const ours: number[] = [];
  const ours2026: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < 15; i++) {
    ours.push(await startOnce([binary, "serve"], init, '"result"'));
    ours2026.push(await startOnce([binary, "serve"], discover, '"result"'));
    base.push(await startOnce([join(dir, "hello")], init, '"result"'));
  }
  rmSync(dir, { recursive: true, force: true });
  results.M5_ms = median(ours);
  results.M5_raw_ms = median(base);
  results.M5_2026_ms = median(ours2026);
  line("M5 cold start → initialize result", `${median(ours).toFixed(1)} ms`, `${median(base).toFixed(1)} ms`, `${(median(ours) / median(base)).toFixed(1)}x`);
  line("M5 cold start → server/discover result", `${median(ours2026).toFixed(1)} ms`, `${median(base).toFixed(1)} ms`, `${(median(ours2026) / median(base)).toFixed(1)}x`);
}

mkdirSync(join(import.meta.dir, "results"), { recursive: true });
writeFileSync(join(import.meta.dir, "results", `bench-${Date.now()}.json`), JSON.stringify(results, null, 2));
process.exit(0);
