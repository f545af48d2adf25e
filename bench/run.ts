// npm run bench [-- --quick] — pty-mcp against the native floor (Python's pty + select(), bench/floor.py)
// and the raw Bun PTY, all in the same run (machines are noisy: compare ratios, not absolute figures).
// --quick (or BENCH_QUICK=1): fewer rounds, a 20 MB flood and 5 s idle waits (the output says so).
//   M1 `echo` round trip at a bash prompt, one send_input (exact with shell integration; heuristic without)
//   M2 latency from a marker printed (stamped by the program's clock) to wait_for returning
//   M3 CPU seconds of the server during a wait that never matches, alone and beside 50 idle sessions;
//      raw column: a bare SDK v2 server compiled like ours, idle in the same window (Bun's own idle
//      GC timer: 1 Hz collections for 30 s after the heap last grew, a full one after 10 s of quiet);
//      more rows: the 50 sessions 35 s into a long wait (Bun's timer then fires every 30 s); after
//      ordinary activity in a server past its first minute; the server as the plugin starts it
//      (RUNTIME_SETTINGS: Bun's timer off), alone and beside 49 sessions; a persistent session's
//      wait (the daemon's CPU and the server's)
//   M4 seconds for a flood of output under a wait (ratio: floor's time / ours) and peak RSS growth
//   M5 spawn of dist/pty-mcp → initialize result (2025-11-25), → server/discover (2026-07-28),
//      → tools/list result, and `--version`; floors: a bare SDK v2 serveStdio server (bench/bare-server.ts)
//      and a minimal compiled Bun binary, built with the same flags (on process.stdin/stdout, and on
//      Bun's own fd I/O); `--against OLD_BINARY` adds an earlier build to the same interleaved runs
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile, compileFlags } from "../scripts/build.ts";
import { RUNTIME_SETTINGS } from "../src/child-env.ts";
import { cleanupDaemons, daemonPid, runtimeDir } from "../test/harness/daemon.ts";
import { binary, McpHarness } from "../test/harness/mcp.ts";
import { echoRoundTrip, markerLatency, median } from "./round-trip.ts";

const quick = process.argv.includes("--quick") || process.env.BENCH_QUICK === "1";
const only = new Set(process.argv.filter((a) => /^M[1-5]$/.test(a))); // e.g. `bun bench/run.ts M1 M5`
const runs = (m: string) => only.size === 0 || only.has(m);
const bash = ["bash", "--norc", "--noprofile"];
const env = { ...process.env, PS1: "$ ", PROMPT_COMMAND: "", TERM: "xterm-256color" } as Record<string, string>;
const floodBytes = quick ? 20_000_000 : 100_000_000;
const idleSeconds = quick ? 5 : 20;
const rounds = quick ? 30 : 60;
const idleSessions = 49; // + the waiting one = 50, the server's session limit

/** A raw Bun PTY running bash, with a promise for "this text appeared". */
function rawPty() {
  let text = "";
  let waiter: { needle: string; resolve: () => void } | undefined;
  const decoder = new TextDecoder();
  const proc = Bun.spawn(bash, {
    env,
    terminal: {
      cols: 120,
      rows: 40,
      data(_t, chunk) {
        text = (text + decoder.decode(chunk).replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, "")).slice(-4096);
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

/**
 * CPU seconds all threads of `pid` use while `during` runs. /proc/PID/stat counts 10 ms ticks, too
 * coarse for a 0.02 CPU-s goal: this sums each thread's schedstat (ns), sampled every 50 ms so that
 * threads that start or end meanwhile (the GC's helpers) count too (less their last < 50 ms).
 */
async function cpuDuring(pid: number, during: Promise<unknown>): Promise<number> {
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  const sample = (initial: boolean) => {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      let ns: number;
      try {
        ns = Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        continue; // the thread ended between the listing and the read
      }
      if (!first.has(task)) first.set(task, initial ? ns : 0);
      last.set(task, ns);
    }
  };
  sample(true);
  let done = false;
  void during.finally(() => (done = true));
  while (!done) {
    await Bun.sleep(50);
    sample(false);
  }
  await during;
  let ns = 0;
  for (const [task, at] of last) ns += at - first.get(task)!;
  return ns / 1e9;
}

/** Compiles bench/bare-server.ts (the SDK alone) with our flags into `dir`; returns its path. */
function compileBare(dir: string): string {
  const out = join(dir, "bare");
  compile({ entry: join(import.meta.dir, "bare-server.ts"), outfile: out, flags: compileFlags });
  return out;
}
const initializeMessages = (protocolVersion: string) =>
  `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion, capabilities: {}, clientInfo: { name: "bench", version: "0" } } })}\n` +
  `${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n${JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list", params: {} })}\n`;

function rssKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
}

const results: Record<string, number> = {};
const fmt = (v: number | undefined, unit: string, digits = 2) => (v === undefined ? "-" : `${v.toFixed(digits)} ${unit}`);
const header = () => console.log(`${"measure".padEnd(46)} ${"floor".padStart(12)} ${"raw Bun PTY".padStart(12)} ${"pty-mcp".padStart(12)} ${"ratio".padStart(8)}  goal`);
/** One row; ratio = ours / floor (or floor / ours for throughput: `higherIsBetter`), or ours / `ratioTo` when given. */
function line(name: string, floor: number | undefined, raw: number | undefined, ours: number, unit: string, goal: string, higherIsBetter = false, digits = 2, ratioTo = floor) {
  const ratio = ratioTo === undefined || ratioTo === 0 ? "-" : `${(higherIsBetter ? ratioTo / ours : ours / ratioTo).toFixed(2)}x`;
  console.log(`${name.padEnd(46)} ${fmt(floor, unit, digits).padStart(12)} ${fmt(raw, unit, digits).padStart(12)} ${fmt(ours, unit, digits).padStart(12)} ${ratio.padStart(8)}  ${goal}`);
}

console.log(`pty-mcp bench (${quick ? `QUICK: ${rounds} rounds, ${floodBytes / 1e6} MB flood, ${idleSeconds} s idle waits` : `full: ${rounds} rounds, ${floodBytes / 1e6} MB flood, ${idleSeconds} s idle waits`}), ${new Date().toISOString()}, load ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);

// ---- the native floor (one Python process, before anything else runs) -------------------
const floor = (() => {
  if (!runs("M1") && !runs("M2") && !runs("M3") && !runs("M4")) return undefined;
  const p = Bun.spawnSync(["python3", join(import.meta.dir, "floor.py"), String(rounds), String(runs("M4") ? floodBytes : 0), String(runs("M3") ? idleSeconds : 0)], { env, stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`bench/floor.py failed: ${p.stderr.toString()}`);
  return JSON.parse(p.stdout.toString()) as { M1_ms: number; M2_ms: number; M3_cpu_s: number; M4_s: number; M4_cpu_s: number };
})();
header();

if (floor) {
  // ---- raw Bun PTY: M1, M2, M3, M4 --------------------------------------------------------
  const raw: { M1?: number; M2?: number; M3?: number; M4?: number; M4_rss?: number; M4_cpu?: number } = {};
  const r = rawPty();
  await r.until("$ ");
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    r.write(`echo r${i}\r`);
    await r.until(`r${i}\r\n$ `);
    times.push(performance.now() - t);
  }
  raw.M1 = median(times);
  const lat: number[] = [];
  for (let i = 0; i < rounds / 2; i++) {
    lat.push(
      await new Promise<number>((resolve) => {
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
      }),
    );
  }
  raw.M2 = median(lat);
  if (runs("M3")) {
    // Bun's floor: the SDK alone, compiled like ours, initialized and listed, then idle in the same window as ours.
    const dir = mkdtempSync(join(tmpdir(), `pty-mcp-bench-m3-${process.pid}-`));
    const bare = Bun.spawn([compileBare(dir)], { stdin: "pipe", stdout: "pipe", stderr: "ignore" });
    bare.stdin.write(initializeMessages("2025-11-25"));
    await bare.stdin.flush();
    const reader = bare.stdout.getReader();
    for (let text = ""; !text.includes('"id":2'); ) {
      const { value, done } = await reader.read();
      if (done) throw new Error("M3: the bare server ended before answering tools/list");
      text += new TextDecoder().decode(value);
    }
    await Bun.sleep(2000);
    raw.M3 = await cpuDuring(bare.pid, Bun.sleep(idleSeconds * 1000));
    bare.kill();
    await bare.exited;
    rmSync(dir, { recursive: true, force: true });
  }
  if (runs("M4")) {
    writeFileSync(`/proc/${process.pid}/clear_refs`, "5");
    const rss = rssKb(process.pid, "VmRSS");
    const t = performance.now();
    r.write(`head -c ${floodBytes} /dev/zero | tr '\\0' x | fold -w 99; echo; echo FLOOD_DONE\r`);
    const done = r.until("\r\nFLOOD_DONE\r\n").then(() => performance.now()); // the end, not the sampler's next 50 ms tick
    raw.M4_cpu = await cpuDuring(process.pid, done);
    raw.M4 = ((await done) - t) / 1000;
    raw.M4_rss = (rssKb(process.pid, "VmHWM") - rss) / 1024; // this bench process, decoding each chunk
  }
  r.close();

  // ---- pty-mcp ----------------------------------------------------------------------------
  const h = await McpHarness.start();
  const pid = h.transport.pid!;
  const openIn = async (harness: McpHarness, integration = true, persistent = false) => {
    const s = await harness.call<{ session_id: string }>("create_local_session", { command: "bash --norc --noprofile", env: { PS1: "$ " }, shell_integration: integration, persistent });
    await harness.call("read_output", { session_id: s.session_id, wait_for: "^\\$ $", timeout: 10 });
    return s.session_id;
  };
  const open = (integration: boolean) => openIn(h, integration);
  if (runs("M1")) {
    const mcp: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t = performance.now();
      await h.call("list_sessions", {});
      mcp.push(performance.now() - t);
    }
    results.M1_mcp_round_trip_ms = median(mcp);
    line("M1 … of it: one MCP round trip (list_sessions)", undefined, undefined, median(mcp), "ms", "-");
    for (const integration of [true, false]) {
      const id = await open(integration);
      const ours = await echoRoundTrip(h, id, rounds, integration ? "exact" : "heuristic");
      results[`M1_${integration ? "exact" : "heuristic"}_ms`] = ours;
      line(`M1 echo round trip (${integration ? "exact" : "heuristic"})`, floor.M1_ms, raw.M1, ours, "ms", integration ? "≤ 2 ms, exact" : "≤ 25 ms");
      await h.call("close_session", { session_id: id });
    }
  }
  const id = await open(true);
  if (runs("M2")) {
    const ours = await markerLatency(h, id, rounds / 2);
    results.M2_ms = ours;
    line("M2 marker printed → wait_for returns", floor.M2_ms, raw.M2, ours, "ms", "≤ 1.5 ms, ≤ 3.5x");
  }
  if (runs("M3")) {
    const idleWait = (harness: McpHarness, session: string) => harness.call("read_output", { session_id: session, wait_for: "never-printed", timeout: idleSeconds });
    await Bun.sleep(2000); // what the measures before left (timers, collection) settles first
    const one = await cpuDuring(pid, idleWait(h, id));
    const idle: string[] = [];
    for (let i = 0; i < idleSessions; i++) idle.push(await open(true));
    await Bun.sleep(1000); // their start-up output settles
    const many = await cpuDuring(pid, idleWait(h, id));
    // Later in a long wait (watching a log for an hour): after 30 ticks without heap growth Bun's timer
    // runs every 30 s instead of every second. The window starts 35 s into the wait.
    const long = h.call("read_output", { session_id: id, wait_for: "never-printed", timeout: 35 + idleSeconds });
    await Bun.sleep(35_000);
    const steady = await cpuDuring(pid, long);
    for (const s of idle) await h.call("close_session", { session_id: s });
    // Past its first minute, after ordinary activity (M1's echo round trips, a session opened and closed): Bun's timer
    // stays at 30 s, as only heap growth of more than 2 MB in a second puts it back to 1 Hz.
    await echoRoundTrip(h, id, 20, "exact");
    await h.call("close_session", { session_id: await open(true) });
    await Bun.sleep(2000);
    const aged = await cpuDuring(pid, idleWait(h, id));
    // The same two waits as the plugin starts the server (plugin/scripts/launch.sh: our RUNTIME_SETTINGS, Bun's timer off).
    const plugin = await McpHarness.start({ env: { ...RUNTIME_SETTINGS } });
    const pluginPid = plugin.transport.pid!;
    const pluginId = await openIn(plugin);
    await Bun.sleep(2000);
    const pluginOne = await cpuDuring(pluginPid, idleWait(plugin, pluginId));
    for (let i = 0; i < idleSessions; i++) await openIn(plugin);
    await Bun.sleep(1000);
    const pluginMany = await cpuDuring(pluginPid, idleWait(plugin, pluginId));
    await plugin.close();
    // A persistent session: the wait runs in a fresh daemon (started with RUNTIME_SETTINGS), the server relays.
    const runtime = runtimeDir("pty-mcp-bench-m3-");
    const p = await McpHarness.start({ env: { XDG_RUNTIME_DIR: runtime } });
    const persistentId = await openIn(p, true, true);
    await Bun.sleep(2000);
    const daemon = daemonPid(runtime)!;
    const wait = idleWait(p, persistentId);
    const [persistentDaemon, persistentServer] = await Promise.all([cpuDuring(daemon, wait), cpuDuring(p.transport.pid!, wait)]);
    await p.close();
    await cleanupDaemons();
    results.M3_cpu_s = one;
    results.M3_50_cpu_s = many;
    results.M3_50_steady_cpu_s = steady;
    results.M3_aged_cpu_s = aged;
    results.M3_plugin_cpu_s = pluginOne;
    results.M3_plugin_50_cpu_s = pluginMany;
    results.M3_persistent_daemon_cpu_s = persistentDaemon;
    results.M3_persistent_server_cpu_s = persistentServer;
    const per20 = (v: number) => (v * 20) / idleSeconds;
    const rawM3 = raw.M3 === undefined ? undefined : per20(raw.M3);
    // Ratios against the bare SDK server (the Python floor is ~0: nothing to divide by).
    const row = (name: string, v: number) => line(name, per20(floor.M3_cpu_s), undefined, per20(v), "CPU-s", "≤ 0.02 CPU-s", false, 3, rawM3);
    line(`M3 server CPU, ${idleSeconds} s wait (per 20 s), new server`, per20(floor.M3_cpu_s), rawM3, per20(one), "CPU-s", "≤ 0.02 CPU-s", false, 3, rawM3);
    row(`M3 … beside ${idleSessions} idle sessions`, many);
    row(`M3 … the same, 35 s into a long wait`, steady);
    row(`M3 … after activity, server past its first minute`, aged);
    row(`M3 … as the plugin starts it (Bun's GC timer off)`, pluginOne);
    row(`M3 … the same beside ${idleSessions} idle sessions`, pluginMany);
    row(`M3 … persistent session: the daemon's CPU`, persistentDaemon);
    row(`M3 … persistent session: the server's CPU`, persistentServer);
  }
  if (runs("M4")) {
    // The peak so far (M3's 50 sessions) is not the flood's: reset the high-water mark (Linux ≥ 4.0).
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    const rssBefore = rssKb(pid, "VmRSS");
    const t = performance.now();
    const flood = h
      .call<{ matched: boolean }>("send_input", { session_id: id, input: `head -c ${floodBytes} /dev/zero | tr '\\0' x | fold -w 99; echo; echo FLOOD_DONE`, wait_for: "^FLOOD_DONE$", wait_for_timeout: 600 })
      .then((result) => ({ result, at: performance.now() }));
    const cpu = await cpuDuring(pid, flood);
    const { result: fr, at } = await flood;
    const ours = (at - t) / 1000;
    if (!fr.matched) throw new Error("M4: flood did not finish");
    const growth = (rssKb(pid, "VmHWM") - rssBefore) / 1024;
    results.M4_s = ours;
    results.M4_cpu_s = cpu;
    results.M4_rss_growth_MB = growth;
    line(`M4 ${floodBytes / 1e6} MB flood under a wait (speed vs floor)`, floor.M4_s, raw.M4, ours, "s", "≥ 0.95x", true);
    line("M4 server peak RSS growth", undefined, raw.M4_rss, growth, "MB", "≤ 100 MB", false, 1);
    // What the server's CPU takes from the flood's producer (head | tr | fold) on a busy machine; the raw column is the bench process.
    line("M4 … server CPU during the flood", floor.M4_cpu_s, raw.M4_cpu, cpu, "CPU-s", "-");
  }
  await h.close();
  Object.assign(results, Object.fromEntries(Object.entries(floor).map(([k, v]) => [`floor_${k}`, v])), Object.fromEntries(Object.entries(raw).map(([k, v]) => [`raw_${k}`, v])));
}

// ---- M5 -----------------------------------------------------------------------------------
if (runs("M5")) {
  const msg = (id: number, method: string, params: unknown) => `${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`;
  const init = msg(1, "initialize", { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "bench", version: "0" } });
  const envelope = { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientInfo": { name: "bench", version: "0" }, "io.modelcontextprotocol/clientCapabilities": {} };
  const discover = msg(1, "server/discover", { _meta: envelope });
  const list = init + `${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n` + msg(2, "tools/list", {});
  /** ms from spawn to `until` on stdout (all input written at once). */
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
    if (!text.includes(until)) throw new Error(`M5: ${cmd.join(" ")} ended without ${until}`);
    return ms;
  };
  const dir = mkdtempSync(join(tmpdir(), `pty-mcp-bench-${process.pid}-`));
  writeFileSync(join(dir, "hello.ts"), `process.stdin.once("data", () => { process.stdout.write('{"result":{}}\\n'); process.exit(0); });\n`);
  compile({ entry: join(dir, "hello.ts"), outfile: join(dir, "hello"), flags: compileFlags });
  // The same on Bun's own fd I/O (what the server uses, src/mcp/stdio.ts): without node:stream's ~9 ms.
  writeFileSync(join(dir, "hello-native.ts"), `import { writeSync } from "node:fs";\nawait Bun.stdin.stream().getReader().read();\nwriteSync(1, '{"result":{}}\\n');\nprocess.exit(0);\n`);
  compile({ entry: join(dir, "hello-native.ts"), outfile: join(dir, "hello-native"), flags: compileFlags });
  compileBare(dir);
  const m: Record<string, number[]> = { hello: [], helloNative: [], bareInit: [], bareList: [], init: [], discover: [], list: [], version: [] };
  // `--against OLD_BINARY`: an earlier build in the same interleaved runs (A/B on a shared machine).
  const against = process.argv.includes("--against") ? process.argv[process.argv.indexOf("--against") + 1] : undefined;
  if (against) Object.assign(m, { oldInit: [], oldDiscover: [], oldList: [], oldVersion: [] });
  const n = quick ? 15 : 31;
  for (let i = 0; i < n; i++) {
    // Interleaved, so load changes hit every column alike.
    m.hello!.push(await startOnce([join(dir, "hello")], init, '"result"'));
    m.helloNative!.push(await startOnce([join(dir, "hello-native")], init, '"result"'));
    m.bareInit!.push(await startOnce([join(dir, "bare")], init, '"id":1'));
    m.bareList!.push(await startOnce([join(dir, "bare")], list, '"id":2'));
    const builds = against ? ([[binary, ""], [against, "old"]] as const) : ([[binary, ""]] as const);
    for (const [bin, prefix] of i % 2 ? [...builds].reverse() : builds) { // which goes first alternates
      const key = (k: string) => (prefix ? `${prefix}${k[0]!.toUpperCase()}${k.slice(1)}` : k);
      m[key("init")]!.push(await startOnce([bin, "serve"], init, '"id":1'));
      m[key("discover")]!.push(await startOnce([bin, "serve"], discover, '"id":1'));
      m[key("list")]!.push(await startOnce([bin, "serve"], list, '"id":2'));
      m[key("version")]!.push(await startOnce([bin, "--version"], "", "pty-mcp "));
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const md = (k: string) => median(m[k]!);
  for (const k of Object.keys(m)) results[`M5_${k}_ms`] = md(k);
  console.log(`M5 (median of ${n}, interleaved; floor = bare SDK v2 serveStdio server; raw = minimal compiled Bun binary)`);
  line("M5 spawn → initialize result", md("bareInit"), md("hello"), md("init"), "ms", "-", false, 1);
  line("M5 spawn → server/discover result", md("bareInit"), md("hello"), md("discover"), "ms", "-", false, 1);
  line("M5 spawn → tools/list result", md("bareList"), md("hello"), md("list"), "ms", "≤ 50 ms", false, 1);
  line("M5 spawn → --version printed", undefined, md("hello"), md("version"), "ms", "-", false, 1);
  line("M5 (raw: empty binary on Bun's own stdio)", undefined, md("helloNative"), md("init"), "ms", "-", false, 1, md("helloNative"));
  if (against) {
    console.log(`M5 before (--against ${against}), same runs:`);
    line("M5 before: spawn → initialize result", md("bareInit"), md("hello"), md("oldInit"), "ms", "-", false, 1);
    line("M5 before: spawn → server/discover result", md("bareInit"), md("hello"), md("oldDiscover"), "ms", "-", false, 1);
    line("M5 before: spawn → tools/list result", md("bareList"), md("hello"), md("oldList"), "ms", "≤ 50 ms", false, 1);
    line("M5 before: spawn → --version printed", undefined, md("hello"), md("oldVersion"), "ms", "-", false, 1);
  }
}

mkdirSync(join(import.meta.dir, "results"), { recursive: true });
writeFileSync(join(import.meta.dir, "results", `bench-${Date.now()}.json`), JSON.stringify({ quick, ...results }, null, 2));
process.exit(0);
