/**
 * transfer_file's work (SPEC §10): an upload to many hosts at once or a download from one (or
 * from several, to a local path naming `{host}`), over SFTP on the pooled connections; the
 * result per host, progress in bytes over all hosts.
 */
import { PtyError } from "../errors.ts";
import { downloadFile, localFileSize, uploadFile } from "../ssh/sftp.ts";
import type { ConnectionPool } from "../ssh/pool.ts";
import { hostFailure } from "./failure.ts";
import type { FleetHost } from "./targets.ts";

export interface TransferRequest {
  direction: "upload" | "download";
  localPath: string;
  remotePath: string;
  hosts: readonly FleetHost[];
  mode?: number;
  concurrency: number;
  pool: ConnectionPool;
  signal?: AbortSignal;
  progress?: (update: { progress: number; total?: number; message: string }) => void;
}

export interface HostTransfer {
  host: string;
  ok: boolean;
  bytes?: number;
  sha256?: string;
  local_path?: string;
  code?: string;
  message?: string;
}

export interface TransferResult {
  direction: "upload" | "download";
  summary: { hosts: number; ok: number; failed: number; bytes: number; elapsed_ms: number };
  results: HostTransfer[];
}

export async function transferFile(request: TransferRequest): Promise<TransferResult> {
  const started = performance.now();
  const many = request.hosts.length > 1;
  if (request.direction === "download" && many && !request.localPath.includes("{host}"))
    throw new PtyError("INVALID_ARGUMENT", `Downloading from ${request.hosts.length} hosts needs "{host}" in local_path (e.g. "/tmp/logs/{host}.log"), so the copies do not overwrite each other.`);
  let total: number | undefined;
  let mode = request.mode;
  if (request.direction === "upload") {
    const local = await localFileSize(request.localPath);
    total = local.size * request.hosts.length;
    mode ??= local.mode;
  }
  let done = 0;
  let lastReport = 0;
  const onBytes = (n: number): void => {
    done += n;
    const now = performance.now();
    if (now - lastReport > 200) {
      lastReport = now;
      request.progress?.({ progress: done, ...(total === undefined ? {} : { total }), message: `${done} bytes${total === undefined ? "" : ` of ${total}`}` });
    }
  };
  const results = new Map<string, HostTransfer>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < request.hosts.length) {
      const host = request.hosts[next++] as FleetHost;
      if (request.signal?.aborted) {
        results.set(host.name, { host: host.name, ok: false, code: "INVALID_ARGUMENT", message: "Cancelled before it started." });
        continue;
      }
      results.set(host.name, await transferOne(host, request, mode, onBytes));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(request.concurrency, request.hosts.length)) }, worker));
  const list = request.hosts.map((h) => results.get(h.name) as HostTransfer);
  const ok = list.filter((r) => r.ok).length;
  return {
    direction: request.direction,
    summary: { hosts: list.length, ok, failed: list.length - ok, bytes: done, elapsed_ms: Math.round(performance.now() - started) },
    results: list,
  };
}

async function transferOne(host: FleetHost, request: TransferRequest, mode: number | undefined, onBytes: (n: number) => void): Promise<HostTransfer> {
  let lease;
  try {
    if (host.problem !== undefined) throw new PtyError("INVALID_ARGUMENT", host.problem);
    lease = await request.pool.acquire(host.connect);
  } catch (err) {
    return failed(host, err);
  }
  try {
    if (request.direction === "upload") {
      const outcome = await uploadFile(lease.connection, request.localPath, request.remotePath, { mode: mode ?? 0o644, onBytes });
      return { host: host.name, ok: true, ...outcome };
    }
    const localPath = request.localPath.replaceAll("{host}", host.name.replace(/[/\0]/g, "_"));
    const outcome = await downloadFile(lease.connection, request.remotePath, localPath, { ...(mode === undefined ? {} : { mode }), onBytes });
    return { host: host.name, ok: true, ...outcome, local_path: localPath };
  } catch (err) {
    return failed(host, err);
  } finally {
    lease.release();
  }
}

function failed(host: FleetHost, err: unknown): HostTransfer {
  const { fingerprint: _fingerprint, ...failure } = hostFailure(host, err);
  return { ...failure, ok: false };
}
