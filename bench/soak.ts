// bun bench/soak.ts — a soak of the compiled binary (issues #20, #21), not a CI test. 50 workers,
// each with at most one session at a time, run mixed work for SOAK_SECONDS (default 600): shells
// (exact echo round trips), floods (a 2 MB line through wait_for), waits (a marker after a sleep),
// patterns (20 wait_for calls with patterns never seen before), resizes (+ read_screen), persistent
// sessions (create in the daemon, detach, reattach, read, close), record (log file + recording + a
// wait with progress) and ssh (a real sshd on loopback). SOAK_AUDIT=1 adds an audit log.
//   SOAK_KINDS=shell,flood   only these workloads (to bisect a growth by workload)
//   SOAK_WORKERS, SOAK_SAMPLE seconds between samples (default 30), SOAK_GC=0 no forced GC under load
//   SOAK_ROUNDS=N (SOAK_ROUND_OPS, default 100)   instead of a timed run, N rounds of that many
//     operations, each followed by a GC'd report with every session closed and the object types
//     that grew since the round before
// Measured before the load, every SOAK_SAMPLE seconds during it, after every session closed and
// after 30 s idle: open fds, child processes, RSS and the JS heap after a full GC (the binary runs
// with PTY_MCP_DEBUG_MEMORY: SIGUSR2 → Bun.gc(true) → memory-<pid>.json, src/cli/memory-report.ts)
// of the server and the daemon, and a list_sessions round trip (p50/p99 over 20 calls) standing in
// for the server's event-loop delay (it answers from memory, so its time is the wait for the loop).
// A heap that stays flat while RSS grows is memory the allocator keeps, not a leak (docs/security.md,
// "Soak and memory"). "lost" counts every wrong output, error or missed wait; "leaked" compares
// after-close with before.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McpHarness, plainBash } from "../test/harness/mcp.ts";
import { knownHostsLine, makeKey, startSshd, type Sshd } from "../test/harness/sshd.ts";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const WORKERS = Number(process.env.SOAK_WORKERS ?? 50);
type Json = Record<string, unknown>;

const runtime = mkdtempSync(join(tmpdir(), `pty-mcp-soak-${process.pid}-`));
const env = { XDG_RUNTIME_DIR: runtime, HOME: runtime, PTY_MCP_DAEMON_RETENTION: "60", PTY_MCP_DEBUG_MEMORY: runtime };
const SAMPLE_SECONDS = Number(process.env.SOAK_SAMPLE ?? 30);
/** SOAK_GC=0: no forced GC while the load runs (RSS as the runtime leaves it; heap only before and after). */
const GC_UNDER_LOAD = process.env.SOAK_GC !== "0";

function fds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}
function rssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 102.4) / 10;
  } catch {
    return 0;
  }
}
/** Every descendant of `pid`. */
function descendants(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const parent = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone
    }
  }
  let count = 0;
  const walk = (p: number) => {
    for (const [child, pp] of parent) if (pp === p) (count++, walk(child));
  };
  walk(pid);
  return count;
}
function daemonPid(): number | undefined {
  try {
    return Number(readFileSync(join(runtime, "pty-mcp", "daemon.pid"), "utf8").trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** The process's memory after a full GC (its report file, written on SIGUSR2), in MB; undefined when it did not answer in 30 s. */
async function heapAfterGc(pid: number | undefined): Promise<Json | undefined> {
  if (pid === undefined) return undefined;
  const file = join(runtime, `memory-${pid}.json`);
  const mtime = () => {
    try {
      return statSync(file).mtimeMs;
    } catch {
      return 0;
    }
  };
  const previous = mtime();
  const asked = Date.now();
  try {
    process.kill(pid, "SIGUSR2");
  } catch {
    return undefined;
  }
  while (mtime() === previous || mtime() < asked - 1000) {
    if (Date.now() - asked > 30_000) return undefined;
    await Bun.sleep(20);
  }
  const r = JSON.parse(readFileSync(file, "utf8")) as Json;
  const mb = (n: unknown) => Math.round((n as number) / 104857.6) / 10;
  const types = Object.entries(r.object_types as Record<string, number>).slice(0, 8);
  allTypes.set(pid, r.object_types as Record<string, number>);
  return { rss_mb: mb(r.rss), heap_mb: mb(r.heap_size), extra_mb: mb(r.extra_memory), array_buffers_mb: mb(r.array_buffers), objects: r.object_count, protected: r.protected_objects, counts: r.counts, top_types: Object.fromEntries(types) };
}
/** The last report's object counts by type, per pid (rounds mode diffs them). */
const allTypes = new Map<number, Record<string, number>>();
/** Types whose count changed most from `a` to `b`. */
function typeGrowth(a: Record<string, number> | undefined, b: Record<string, number> | undefined): Record<string, number> {
  if (!a || !b) return {};
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  const delta = [...names].map((n) => [n, (b[n] ?? 0) - (a[n] ?? 0)] as const).filter(([, d]) => d !== 0);
  return Object.fromEntries(delta.sort((x, y) => Math.abs(y[1]) - Math.abs(x[1])).slice(0, 12));
}

const ALL_KINDS = ["shell", "flood", "wait", "patterns", "resize", "persistent", "record", "ssh"];
const kinds = process.env.SOAK_KINDS ? process.env.SOAK_KINDS.split(",") : ALL_KINDS;
// ssh: a real sshd on loopback (the test harness's), the soak's HOME trusting its key.
let sshd: Sshd | undefined;
if (kinds.includes("ssh")) {
  sshd = await startSshd();
  mkdirSync(join(runtime, ".ssh"), { recursive: true, mode: 0o700 });
  sshd.authorize(makeKey(join(runtime, ".ssh", "id_ed25519")).pub);
  writeFileSync(join(runtime, ".ssh", "known_hosts"), `${knownHostsLine(sshd)}\n`);
}
// SOAK_AUDIT=1: the server keeps an audit log (every input and output goes through it).
const h = await McpHarness.start({ env: { ...env, SSH_AUTH_SOCK: "" }, args: process.env.SOAK_AUDIT ? ["serve", "--audit-log", join(runtime, "audit.log")] : ["serve"] });
const serverPid = h.transport.pid!;

async function roundTrips(): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const start = performance.now();
    await h.call("list_sessions", {});
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { p50: Math.round(times[9]! * 10) / 10, p99: Math.round(times[19]! * 10) / 10 };
}

async function snapshot(label: string, gc = true): Promise<Json> {
  const daemon = daemonPid();
  const open = ((await h.call<{ sessions: Json[] }>("list_sessions", {})).sessions ?? []).length;
  const server = { fds: fds(serverPid), children: descendants(serverPid), rss_mb: rssMb(serverPid), after_gc: gc ? await heapAfterGc(serverPid) : undefined };
  return { label, at_s: Math.round((performance.now() - started) / 1000), operations: Object.values(counts).reduce((a, b) => a + b, 0), sessions: open, server, daemon: { fds: fds(daemon), children: descendants(daemon), rss_mb: rssMb(daemon), after_gc: gc ? await heapAfterGc(daemon) : undefined }, list_sessions_ms: await roundTrips() };
}

const started = performance.now();
const counts: Record<string, number> = {};
const lost: string[] = [];
const check = (what: string, ok: boolean, detail: unknown) => {
  if (!ok) lost.push(`${what}: ${JSON.stringify(detail).slice(0, 300)}`);
};

/** A bash at its first prompt (input typed before it would come back with the prompt and its echo). */
async function shell(extra: Json = {}): Promise<unknown> {
  const s = await h.call<Json>("create_local_session", { ...plainBash, ...extra });
  const ready = await h.call<Json>("read_output", { session_id: s.session_id, wait_for: "^\\$ $", timeout: 60 });
  check("prompt", ready.matched === true, ready);
  return s.session_id;
}

const jobs: Record<string, () => Promise<void>> = {
  async shell() {
    const id = await shell();
    for (let i = 0; i < 5; i++) {
      const n = Math.floor(Math.random() * 1e6);
      const r = await h.call<Json>("send_input", { session_id: id, input: `echo soak-${n}` });
      check("shell", r.output === `soak-${n}\n$ `, r);
    }
    await h.call("close_session", { session_id: id });
  },
  async flood() {
    const id = await shell();
    const r = await h.call<Json>("send_input", { session_id: id, input: "head -c 2000000 /dev/zero | tr '\\0' x; echo; echo FLOOD-END", wait_for: "^FLOOD-END$", wait_for_timeout: 120 });
    check("flood", r.matched === true, { matched: r.matched, timed_out: r.timed_out });
    await h.call("close_session", { session_id: id });
  },
  async wait() {
    const id = await shell();
    await h.call("send_input", { session_id: id, input: "sleep 1; echo WAITED-$((6*7))", timeout_ms: 100 });
    const r = await h.call<Json>("read_output", { session_id: id, wait_for: "^WAITED-42$", timeout: 60 });
    check("wait", r.matched === true, r);
    await h.call("close_session", { session_id: id });
  },
  async patterns() {
    const id = await shell();
    for (let i = 0; i < 20; i++) {
      const n = Math.floor(Math.random() * 1e9);
      const r = await h.call<Json>("send_input", { session_id: id, input: `echo p-${n}-end`, wait_for: [`^p-${n}-(end|x)$`, `never-${n}`], timeout_ms: 30_000 });
      check("patterns", r.match_line === `p-${n}-end`, r);
    }
    await h.call("close_session", { session_id: id });
  },
  async record() {
    // A log file and a recording (sinks), and a wait reporting progress (a progress token per call).
    const n = Math.floor(Math.random() * 1e9);
    const files = [join(runtime, `log-${n}.txt`), join(runtime, `rec-${n}.cast`)];
    const id = await shell({ log_file: files[0], record: files[1] });
    let progress = 0;
    const r = await h.call<Json>("send_input", { session_id: id, input: "for i in 1 2 3; do echo tick-$i; sleep 0.4; done; echo REC-END", wait_for: "^REC-END$", timeout_ms: 30_000 }, { onprogress: () => progress++ });
    check("record", r.matched === true, r);
    await h.call("close_session", { session_id: id });
    for (const f of files) rmSync(f, { force: true });
  },
  async ssh() {
    const s = await h.call<Json>("create_ssh_session", { host: "127.0.0.1", port: sshd!.port, user: "root", command: "env PS1='$ ' PROMPT_COMMAND= bash --norc --noprofile" });
    const ready = await h.call<Json>("read_output", { session_id: s.session_id, wait_for: "^\\$ $", timeout: 60 });
    check("prompt", ready.matched === true, ready);
    for (let i = 0; i < 3; i++) {
      const n = Math.floor(Math.random() * 1e6);
      const r = await h.call<Json>("send_input", { session_id: s.session_id, input: `echo ssh-${n}`, wait_for: `^ssh-${n}$`, timeout_ms: 30_000 });
      check("ssh", r.match_line === `ssh-${n}`, r);
    }
    await h.call("close_session", { session_id: s.session_id });
  },
  async resize() {
    const id = await shell();
    for (let i = 0; i < 3; i++) {
      const cols = 40 + Math.floor(Math.random() * 160);
      const rows = 10 + Math.floor(Math.random() * 50);
      await h.call("resize_session", { session_id: id, cols, rows });
      // wait_for, not completion: bash redraws its prompt on SIGWINCH, and a heuristic
      // completion took that redraw for the command's end (output "$ "; see the issue #21 note).
      const r = await h.call<Json>("send_input", { session_id: id, input: "stty size", wait_for: "^\\d+ \\d+$", timeout_ms: 30_000 });
      check("resize", r.match_line === `${rows} ${cols}`, { want: `${rows} ${cols}`, got: r.match_line ?? r.output });
    }
    await h.call("read_screen", { session_id: id });
    await h.call("close_session", { session_id: id });
  },
  async persistent() {
    const id = await shell({ persistent: true });
    const n = Math.floor(Math.random() * 1e6);
    const r1 = await h.call<Json>("send_input", { session_id: id, input: `export MARK=m-${n}` });
    check("persistent", r1.is_complete === true, r1);
    await h.call("detach_session", { session_id: id });
    await h.call("create_local_session", { session_id: id });
    const r2 = await h.call<Json>("send_input", { session_id: id, input: "echo $MARK" });
    check("persistent", r2.output === `m-${n}\n$ `, r2);
    await h.call("close_session", { session_id: id });
  },
};
for (const kind of kinds) {
  if (!jobs[kind]) throw new Error(`SOAK_KINDS: no workload "${kind}" (${Object.keys(jobs).join(", ")})`);
  counts[kind] = 0;
}

// Warm up: the daemon starts with the first persistent session (the server then holds its
// connection), so "before" has it running and a leak is what grows from there.
await jobs.persistent!();
await jobs.shell!();
await Bun.sleep(1000);
const before = await snapshot("before");
console.error(JSON.stringify(before));
const ROUNDS = Number(process.env.SOAK_ROUNDS ?? 0);
if (ROUNDS > 0) {
  // Rounds mode (bisecting a growth): SOAK_ROUND_OPS operations of the chosen kinds per round, all
  // sessions closed, then a GC'd report. A leak grows the same amount every round; a warm-up
  // (code compiled on first use, caches filling to their caps) grows only in the first.
  const perRound = Number(process.env.SOAK_ROUND_OPS ?? 100);
  const reports: Json[] = [before];
  const typesAt: (Record<string, number> | undefined)[] = [allTypes.get(serverPid)];
  for (let round = 1; round <= ROUNDS; round++) {
    let next = 0;
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (next < perRound) {
          const kind = kinds[next++ % kinds.length]!;
          try {
            await jobs[kind]!();
            counts[kind]!++;
          } catch (err) {
            lost.push(`${kind}: ${err instanceof Error ? err.message.slice(0, 300) : String(err)}`);
          }
        }
      }),
    );
    await Bun.sleep(1000);
    const r = await snapshot(`after round ${round}`);
    reports.push(r);
    typesAt.push(allTypes.get(serverPid));
    const g = (r.server as Json).after_gc as Json;
    console.error(`round ${round}: ${r.operations} ops, server heap ${g.heap_mb} MB, objects ${g.objects}, rss after gc ${g.rss_mb} MB; growth since round ${round - 1}: ${JSON.stringify(typeGrowth(typesAt[round - 1], typesAt[round]))}`);
  }
  console.log(JSON.stringify({ kinds, workers: WORKERS, per_round: perRound, operations: counts, lost: lost.length, lost_examples: lost.slice(0, 5), growth_last_round: typeGrowth(typesAt.at(-2), typesAt.at(-1)), reports }, null, 2));
  await finish();
  process.exit(0);
}
const deadline = performance.now() + SECONDS * 1000;
let early: Json | undefined;
let end: Json | undefined;
const workers = Array.from({ length: WORKERS }, async (_, w) => {
  while (performance.now() < deadline) {
    const kind = kinds[(w + Math.floor(Math.random() * kinds.length)) % kinds.length]!;
    try {
      await jobs[kind]!();
      counts[kind]!++;
    } catch (err) {
      lost.push(`${kind}: ${err instanceof Error ? err.message.slice(0, 300) : String(err)}`);
    }
  }
});
const samples: Json[] = [];
const sampler = (async () => {
  while (performance.now() + SAMPLE_SECONDS * 1000 < deadline - 5000) {
    await Bun.sleep(SAMPLE_SECONDS * 1000);
    const sample = await snapshot("load", GC_UNDER_LOAD);
    samples.push(sample);
    early ??= sample;
    console.error(JSON.stringify(sample));
  }
  end = samples.at(-1);
})();
await Promise.all([...workers, sampler]);
// Ended sessions are kept until closed; every worker closed its own. Let the PTYs wind down.
await Bun.sleep(3000);
const after = await snapshot("after (all closed)");
console.error(JSON.stringify(after));
// What the allocator gives back by itself: the same after 30 s of idling.
await Bun.sleep(30_000);
const idle = await snapshot("after 30 s idle");
console.error(JSON.stringify(idle));

const leaked = {
  server_fds: (after.server as Json).fds as number - ((before.server as Json).fds as number),
  server_children: (after.server as Json).children as number - ((before.server as Json).children as number),
  daemon_children: (after.daemon as Json).children as number,
  sessions: after.sessions,
};
/** One line per sample: the figures a reader compares (RSS vs heap after GC). */
const table = [before, ...samples, after, idle].map((x) => {
  const sv = x.server as Json;
  const dm = x.daemon as Json;
  const g = (sv.after_gc ?? {}) as Json;
  const dg = (dm.after_gc ?? {}) as Json;
  const gc = g.heap_mb === undefined ? "(no forced GC)" : `(after gc ${g.rss_mb}) heap ${g.heap_mb} MB objects ${g.objects}`;
  return `${String(x.at_s).padStart(5)} s ${String(x.operations).padStart(6)} ops  server rss ${sv.rss_mb} MB ${gc}  daemon rss ${dm.rss_mb} MB${dg.heap_mb === undefined ? "" : ` heap ${dg.heap_mb} MB`}  ${x.label}`;
});
console.error(table.join("\n"));
console.log(JSON.stringify({ seconds: SECONDS, workers: WORKERS, operations: counts, total: Object.values(counts).reduce((a, b) => a + b, 0), lost: lost.length, lost_examples: lost.slice(0, 5), leaked, before, early, end, after, idle, table }, null, 2));
await finish();

async function finish(): Promise<void> {
  await h.close();
  const daemon = daemonPid();
  if (daemon) process.kill(daemon, "SIGTERM");
  await sshd?.stop();
  await Bun.sleep(500);
  rmSync(runtime, { recursive: true, force: true });
}
