/**
 * One command on many hosts (SPEC §10 run_on_hosts): an exec channel per host on the pooled
 * connection (a PTY only when asked), at most `concurrency` hosts at a time, a deadline per host
 * (connecting included), progress `k/N hosts`, and cancellation that stops the hosts not done.
 * Hosts whose output and exit status are identical form one group (clush -b, dshbak -c), the
 * biggest group first; hosts that could not be reached are failures with the SSH error code.
 */
import { PtyError } from "../errors.ts";
import { ChannelOpenError, openExec } from "../ssh/exec.ts";
import { BoundedCapture } from "./capture.ts";
import { hostFailure, type HostFailure } from "./failure.ts";
import type { ConnectionPool, Lease } from "../ssh/pool.ts";
import type { FleetHost } from "./targets.ts";

export interface RunRequest {
  hosts: readonly FleetHost[];
  command: string;
  timeoutMs: number;
  concurrency: number;
  pty: boolean;
  pool: ConnectionPool;
  signal?: AbortSignal;
  progress?: (update: { progress: number; total: number; message: string }) => void;
}

export interface RunGroup {
  hosts: string[];
  exit_code: number | null;
  output: string;
  signal?: string;
  timed_out?: boolean;
  output_bytes: number;
  /** Set when this group's output was cut to its start because the result reached its size budget. */
  output_shortened?: true;
}

/**
 * All groups' output together (SPEC §11: a result the client cannot show is worse than a short
 * one; Claude Code moves results over ~25 000 tokens out of the model's view). Groups are filled
 * biggest first; past the budget a group keeps the start of its output and says how to see it.
 */
export const RESULT_OUTPUT_BUDGET = 96 * 1024;
const SHORTENED_BYTES = 256;

export type RunFailure = HostFailure;

export interface RunResult {
  summary: { hosts: number; ok: number; failed: number; unreachable: number; elapsed_ms: number; cancelled?: number };
  groups: RunGroup[];
  failures: RunFailure[];
  cancelled?: string[];
}

interface HostOutcome {
  exitCode: number | null;
  signal?: string;
  timedOut: boolean;
  capture: BoundedCapture;
}

export async function runOnHosts(request: RunRequest): Promise<RunResult> {
  const started = performance.now();
  const total = request.hosts.length;
  const outcomes = new Map<string, HostOutcome>();
  const failures = new Map<string, RunFailure>();
  const cancelled = new Set<string>();
  let done = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const host = request.hosts[next++] as FleetHost;
      if (request.signal?.aborted) {
        cancelled.add(host.name);
        continue;
      }
      try {
        outcomes.set(host.name, await runOne(host, request));
      } catch (err) {
        if (err instanceof Cancelled) cancelled.add(host.name);
        else failures.set(host.name, hostFailure(host, err));
      }
      done++;
      request.progress?.({ progress: done, total, message: `${done}/${total} hosts` });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(request.concurrency, total)) }, worker));

  const byKey = new Map<string, { group: RunGroup; first: number }>();
  request.hosts.forEach((host, index) => {
    const o = outcomes.get(host.name);
    if (o === undefined) return;
    const key = JSON.stringify([o.capture.digest(), o.exitCode, o.signal, o.timedOut]);
    const existing = byKey.get(key);
    if (existing !== undefined) existing.group.hosts.push(host.name);
    else {
      const { output } = o.capture.text();
      const group: RunGroup = { hosts: [host.name], exit_code: o.exitCode, output, output_bytes: o.capture.bytes };
      if (o.signal !== undefined) group.signal = o.signal;
      if (o.timedOut) group.timed_out = true;
      byKey.set(key, { group, first: index });
    }
  });
  const groups = [...byKey.values()].sort((a, b) => b.group.hosts.length - a.group.hosts.length || a.first - b.first).map((g) => g.group);
  let budget = RESULT_OUTPUT_BUDGET;
  for (const g of groups) {
    const size = Buffer.byteLength(g.output);
    if (size <= budget) {
      budget -= size;
      continue;
    }
    let start = "";
    let startBytes = 0;
    for (const ch of g.output) {
      startBytes += Buffer.byteLength(ch);
      if (startBytes > SHORTENED_BYTES) break;
      start += ch;
    }
    g.output = `${start}\n[… output shortened: this result is at its size budget; run_on_hosts {hosts: ${JSON.stringify(g.hosts.slice(0, 1))}} shows this group's output]`;
    g.output_shortened = true;
    budget = 0;
  }
  const ok = [...outcomes.values()].filter((o) => o.exitCode === 0 && !o.timedOut).length;
  const result: RunResult = {
    summary: { hosts: total, ok, failed: outcomes.size - ok, unreachable: failures.size, elapsed_ms: Math.round(performance.now() - started) },
    groups,
    failures: request.hosts.filter((h) => failures.has(h.name)).map((h) => failures.get(h.name) as RunFailure),
  };
  if (cancelled.size > 0) {
    result.summary.cancelled = cancelled.size;
    result.cancelled = request.hosts.filter((h) => cancelled.has(h.name)).map((h) => h.name);
  }
  return result;
}

class Cancelled extends Error {}

/** Connect (or reuse), run, collect; the deadline covers both. Throws PtyError for an unreachable host, Cancelled. */
async function runOne(host: FleetHost, request: RunRequest): Promise<HostOutcome> {
  if (host.problem !== undefined) throw new PtyError("INVALID_ARGUMENT", host.problem);
  const deadline = performance.now() + request.timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const lease = await withDeadline(request.pool.acquire(host.connect), deadline, request.signal, host, request.timeoutMs);
    try {
      return await execOnLease(lease, request, deadline);
    } catch (err) {
      // A reused connection may have died without our noticing (sshd restarted): one fresh try.
      if (err instanceof ChannelOpenError && lease.reused && attempt === 0) {
        lease.discard();
        continue;
      }
      if (err instanceof ChannelOpenError) {
        lease.discard();
        throw new PtyError("SSH_CONN_FAILED", `${host.name} refused an exec channel: ${err.message}. sshd may limit sessions (MaxSessions) or the connection broke; retry.`, true);
      }
      throw err;
    } finally {
      lease.release();
    }
  }
}

function withDeadline<T extends Lease>(promise: Promise<T>, deadline: number, signal: AbortSignal | undefined, host: FleetHost, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (): void => {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = (): void => {
      if (settled) return;
      finish();
      reject(new Cancelled());
    };
    const timer = setTimeout(() => {
      if (settled) return;
      finish();
      reject(new PtyError("SSH_CONN_FAILED", `Connecting to ${host.name} (${host.user}@${host.hostname}:${host.port}) did not finish within the ${timeoutMs / 1000} s timeout. Check that the host is up and reachable.`, true));
    }, Math.max(0, deadline - performance.now()));
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (lease) => {
        // Too late: give the connection back to the pool for the next call.
        if (settled) lease.release();
        else {
          finish();
          resolve(lease);
        }
      },
      (err: unknown) => {
        if (settled) return;
        finish();
        reject(err);
      },
    );
  });
}

/** Runs the command on the lease's connection until it exits, the deadline passes or the call is cancelled. */
async function execOnLease(lease: Lease, request: RunRequest, deadline: number): Promise<HostOutcome> {
  const capture = new BoundedCapture();
  const exec = await openExec(lease.connection, request.command, { pty: request.pty, onData: (bytes) => capture.write(bytes) });
  let timedOut = false;
  let cancelled = false;
  let giveUp: () => void = () => {};
  // A server that never answers the close: stop waiting for the channel 2 s after stopping it.
  const abandoned = new Promise<undefined>((resolve) => (giveUp = () => setTimeout(() => resolve(undefined), 2000).unref?.()));
  const timer = setTimeout(() => {
    timedOut = true;
    exec.stop();
    giveUp();
  }, Math.max(0, deadline - performance.now()));
  const onAbort = (): void => {
    cancelled = true;
    exec.stop();
    giveUp();
  };
  request.signal?.addEventListener("abort", onAbort, { once: true });
  if (request.signal?.aborted) onAbort();
  try {
    const exit = await Promise.race([exec.done, abandoned]);
    if (cancelled && !timedOut) throw new Cancelled();
    if (timedOut || exit === undefined) return { exitCode: null, timedOut: true, capture };
    return { exitCode: exit.code, ...(exit.signal === undefined ? {} : { signal: exit.signal }), timedOut: false, capture };
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener("abort", onAbort);
  }
}

/** A few lines saying how a run went (the audit log's output entry): counts, then each group's hosts and exit. */
export function runOutcome(result: RunResult): string {
  const s = result.summary;
  const lines = [`${s.ok} ok, ${s.failed} failed, ${s.unreachable} unreachable of ${s.hosts}${s.cancelled ? `, ${s.cancelled} cancelled` : ""}`];
  for (const g of result.groups) lines.push(`${g.timed_out ? "timed out" : `exit ${g.exit_code}`}: ${g.hosts.join(",")}`);
  for (const f of result.failures) lines.push(`${f.code}: ${f.host}`);
  return lines.join("\n");
}
