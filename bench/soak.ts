// bun bench/soak.ts — a soak of the compiled binary (issue #21), not a CI test. 50 workers, each
// with at most one session at a time, run mixed work for SOAK_SECONDS (default 600) on this
// machine: shells (exact echo round trips), floods (2 MB through wait_for), waits (a marker
// after a sleep), resizes (+ read_screen), and persistent sessions (create in the daemon, detach,
// reattach, read, close). Measured before the load, early in it, at its end and after every
// session closed: open fds, child processes and RSS of the server and the daemon, and a
// list_sessions round trip (p50/p99 over 20 calls) standing in for the server's event-loop
// delay (it answers from memory, so its time is the wait for the loop). "lost" counts every
// wrong output, error or missed wait; "leaked" compares after-close with before.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McpHarness, plainBash } from "../test/harness/mcp.ts";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const WORKERS = Number(process.env.SOAK_WORKERS ?? 50);
type Json = Record<string, unknown>;

const runtime = mkdtempSync(join(tmpdir(), `pty-mcp-soak-${process.pid}-`));
const env = { XDG_RUNTIME_DIR: runtime, HOME: runtime, PTY_MCP_DAEMON_RETENTION: "60" };

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

const h = await McpHarness.start({ env });
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

async function snapshot(label: string): Promise<Json> {
  const daemon = daemonPid();
  const open = ((await h.call<{ sessions: Json[] }>("list_sessions", {})).sessions ?? []).length;
  return { label, sessions: open, server: { fds: fds(serverPid), children: descendants(serverPid), rss_mb: rssMb(serverPid) }, daemon: { fds: fds(daemon), children: descendants(daemon), rss_mb: rssMb(daemon) }, list_sessions_ms: await roundTrips() };
}

const counts: Record<string, number> = { shell: 0, flood: 0, wait: 0, resize: 0, persistent: 0 };
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
const kinds = Object.keys(jobs);

// Warm up: the daemon starts with the first persistent session (the server then holds its
// connection), so "before" has it running and a leak is what grows from there.
await jobs.persistent!();
await jobs.shell!();
await Bun.sleep(1000);
const before = await snapshot("before");
console.error(JSON.stringify(before));
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
const sampler = (async () => {
  await Bun.sleep(Math.min(30_000, SECONDS * 100));
  early = await snapshot("early (load)");
  console.error(JSON.stringify(early));
  await Bun.sleep(Math.max(0, deadline - performance.now() - 20_000));
  end = await snapshot("end (load)");
  console.error(JSON.stringify(end));
})();
await Promise.all([...workers, sampler]);
// Ended sessions are kept until closed; every worker closed its own. Let the PTYs wind down.
await Bun.sleep(3000);
const after = await snapshot("after (all closed)");
console.error(JSON.stringify(after));

const leaked = {
  server_fds: (after.server as Json).fds as number - ((before.server as Json).fds as number),
  server_children: (after.server as Json).children as number - ((before.server as Json).children as number),
  daemon_children: (after.daemon as Json).children as number,
  sessions: after.sessions,
};
console.log(JSON.stringify({ seconds: SECONDS, workers: WORKERS, operations: counts, total: Object.values(counts).reduce((a, b) => a + b, 0), lost: lost.length, lost_examples: lost.slice(0, 5), leaked, before, early, end, after }, null, 2));
await h.close();
const daemon = daemonPid();
if (daemon) process.kill(daemon, "SIGTERM");
await Bun.sleep(500);
rmSync(runtime, { recursive: true, force: true });
