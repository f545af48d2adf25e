// What a long-running server holds comes back to its baseline once sessions are closed (issue #20/#21
// soak: RSS grew, the heap after a full GC did not). The binary runs with PTY_MCP_DEBUG_MEMORY: on
// SIGUSR2 it collects and writes memory-<pid>.json (src/cli/memory-report.ts) with the counts of
// everything a leak would pile up in — registry sessions and listeners, held secrets, tasks, the
// daemon link's pending requests and subscribers; the daemon its sessions, hosted entries and
// connections. After a warm-up round of every kind of use, 8 more rounds must leave every count
// exactly where the warm-up left it. Exact counts only: memory figures are for bench/soak.ts.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { cleanupDaemons, daemonPid, runtimeDir, server, until } from "./harness/daemon.ts";
import { plainBash, type McpHarness } from "./harness/mcp.ts";

afterEach(cleanupDaemons);

type Json = Record<string, unknown>;

/** SIGUSR2 → the process's report (after a full GC); waits for the file it writes. */
async function report(runtime: string, pid: number): Promise<{ counts: Record<string, number>; object_count: number; role: string }> {
  const file = join(runtime, `memory-${pid}.json`);
  rmSync(file, { force: true });
  process.kill(pid, "SIGUSR2");
  await until(() => existsSync(file), `memory report of ${pid}`, 60_000);
  return JSON.parse(readFileSync(file, "utf8"));
}

async function bash(h: McpHarness, extra: Json = {}): Promise<string> {
  const s = await h.call<{ session_id: string }>("create_local_session", { ...plainBash, ...extra });
  const ready = await h.call<Json>("read_output", { session_id: s.session_id, wait_for: "^\\$ $", timeout: 60 });
  expect(ready.matched).toBe(true);
  return s.session_id;
}

/** One round of every kind of use; returns what each step answered (exact values only). */
async function round(h: McpHarness, n: number): Promise<unknown[]> {
  const seen: unknown[] = [];
  // A shell: exact completion, a wait with patterns never seen before, resize, the screen, a wait that times out.
  const id = await bash(h);
  seen.push((await h.call<Json>("send_input", { session_id: id, input: `echo r-${n}` })).output);
  seen.push((await h.call<Json>("send_input", { session_id: id, input: `echo p-${n}-end`, wait_for: [`^p-${n}-(end|x)$`, `never-${n}`], timeout_ms: 30_000 })).match_line);
  await h.call("resize_session", { session_id: id, cols: 100 + n, rows: 30 });
  seen.push(((await h.call<{ lines: string[] }>("read_screen", { session_id: id })).lines ?? []).length > 0);
  seen.push((await h.call<Json>("read_output", { session_id: id, wait_for: `absent-${n}`, timeout: 0.2 })).timed_out);
  // A wait the client cancels once the server reported progress on it (the SDK's request maps, our abort listeners).
  const abort = new AbortController();
  const cancelled = h.callRaw("read_output", { session_id: id, wait_for: `never-${n}`, timeout: 60 }, { signal: abort.signal, onprogress: () => abort.abort() }).then(
    () => "finished",
    () => "cancelled",
  );
  seen.push(await cancelled);
  await h.call("close_session", { session_id: id });
  // A program that exits by itself, closed after its exit.
  const exits = await h.call<{ session_id: string }>("create_local_session", { command: "bash", args: ["-c", `echo bye-${n}`] });
  seen.push((await h.call<Json>("read_output", { session_id: exits.session_id, wait_for: `^bye-${n}$`, timeout: 60 })).matched);
  await until(async () => (await h.call<Json>("get_session_state", { session_id: exits.session_id })).is_alive === false, "the program's exit");
  await h.call("close_session", { session_id: exits.session_id });
  // A persistent session: created in the daemon, detached, reattached, closed.
  const p = await bash(h, { persistent: true });
  seen.push((await h.call<Json>("send_input", { session_id: p, input: `export M=m-${n}` })).is_complete);
  await h.call("detach_session", { session_id: p });
  await h.call("create_local_session", { session_id: p });
  seen.push((await h.call<Json>("send_input", { session_id: p, input: "echo $M" })).output);
  await h.call("close_session", { session_id: p });
  return seen;
}

const expected = (n: number) => [`r-${n}\n$ `, `p-${n}-end`, true, true, "cancelled", true, true, `m-${n}\n$ `];

describe("memory baseline", () => {
  test("8 rounds of shells, waits, cancels, exits and persistent sessions after a warm-up: every count of the server and the daemon is back to the warm-up's", async () => {
    const runtime = runtimeDir();
    const h = await server(runtime, { PTY_MCP_DEBUG_MEMORY: runtime, PTY_MCP_DAEMON_RETENTION: "60" });
    const pid = h.transport.pid!;
    expect(await round(h, 0)).toEqual(expected(0));
    const daemon = daemonPid(runtime)!;
    const baseline = { server: (await report(runtime, pid)).counts, daemon: (await report(runtime, daemon)).counts };
    const answers: unknown[] = [];
    for (let n = 1; n <= 8; n++) answers.push(await round(h, n));
    const after = { server: (await report(runtime, pid)).counts, daemon: (await report(runtime, daemon)).counts };
    expect({ answers, after }).toEqual({ answers: Array.from({ length: 8 }, (_, i) => expected(i + 1)), after: baseline });
    // The baseline itself: nothing open, one connection (the server's) to the daemon.
    expect(baseline).toEqual({
      server: { sessions: 0, added_listeners: 0, input_hooks: 0, fleet_hooks: 0, held_secrets: 0, tasks: 0, task_listeners: 1, pending: 0, subscribed_sessions: 0, subscribers: 0, close_listeners: 0 },
      daemon: { sessions: 0, hosted: 0, connections: 1 },
    });
  }, 300_000);
});
