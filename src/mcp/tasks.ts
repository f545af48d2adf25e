// The tasks extension of MCP 2026-07-28 (io.modelcontextprotocol/tasks, SEP-2663), server side:
// a long tools/call that has not finished after a short grace period is answered with a task
// handle (resultType "task"); the client polls tasks/get (status, the last progress as
// statusMessage, then the tool's result), and tasks/cancel stops it. The SDK v2 has no server
// side for it, so this file is it. Only on a connection that speaks 2026-07-28 and only for a
// request whose client capabilities name the extension; otherwise the call blocks as before.
import { ProtocolError, ProtocolErrorCode, type CallToolResult, type Server } from "@modelcontextprotocol/server";
import { z } from "zod";

export const TASKS_EXTENSION = "io.modelcontextprotocol/tasks";
const CLIENT_CAPABILITIES_META = "io.modelcontextprotocol/clientCapabilities";

/** How long an eligible call runs as a plain call before it becomes a task (PTY_MCP_TASK_AFTER_MS). */
const GRACE_MS = Number(process.env.PTY_MCP_TASK_AFTER_MS ?? 1000);
const POLL_INTERVAL_MS = 1000;
/** A finished task is kept this long for the client to fetch its result. */
const KEEP_FINISHED_MS = 60 * 60 * 1000;
/** Most finished tasks kept at once (the oldest go first). */
const KEEP_FINISHED_MAX = 1000;

type Status = "working" | "completed" | "cancelled";

interface TaskRecord {
  taskId: string;
  status: Status;
  statusMessage?: string;
  createdAt: Date;
  lastUpdatedAt: Date;
  finishedAt?: Date;
  result?: CallToolResult;
  abort: AbortController;
  cancelRequested: boolean;
}

/** Whether this request's client declared the tasks extension (2026-07-28 per-request capabilities). */
export function clientSupportsTasks(envelope: Record<string, unknown> | undefined): boolean {
  const caps = envelope?.[CLIENT_CAPABILITIES_META] as { extensions?: Record<string, unknown> } | undefined;
  const ext = caps?.extensions?.[TASKS_EXTENSION];
  return typeof ext === "object" && ext !== null;
}

export interface TaskRun {
  /** Aborts when the client cancels (the request before it is a task; the task after). */
  signal: AbortSignal;
  /** Reports progress: to the request's progress token before, to the task's statusMessage after. */
  progress(update: { progress: number; total?: number; message?: string }): void;
}

/** The tasks of one connection. */
export class TaskStore {
  readonly #tasks = new Map<string, TaskRecord>();
  readonly #listeners = new Set<(task: Record<string, unknown>) => void>();

  /** Tasks kept (working and finished) and change listeners: for the memory report (cli/memory-report.ts). */
  counts(): { tasks: number; task_listeners: number } {
    return { tasks: this.#tasks.size, task_listeners: this.#listeners.size };
  }

  /** Called with the task as tasks/get shows it whenever its status or status message changes. */
  onChange(listener: (task: Record<string, unknown>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The task as tasks/get shows it, or undefined for an unknown id. */
  view(taskId: string): Record<string, unknown> | undefined {
    const task = this.#tasks.get(taskId);
    return task && this.#view(task);
  }

  #changed(task: TaskRecord): void {
    if (this.#listeners.size === 0) return;
    const view = this.#view(task);
    for (const listener of this.#listeners) listener(view);
  }

  /** Handlers for tasks/get, tasks/update, tasks/cancel on this server. */
  install(server: Server): void {
    const byId = z.looseObject({ taskId: z.string() });
    const anyResult = z.looseObject({});
    server.setRequestHandler("tasks/get", { params: byId, result: anyResult }, async ({ taskId }) => this.#view(this.#get(taskId)));
    server.setRequestHandler("tasks/update", { params: byId, result: anyResult }, async ({ taskId }) => {
      this.#get(taskId); // no task of ours ever needs input: nothing to take
      return {};
    });
    server.setRequestHandler("tasks/cancel", { params: byId, result: anyResult }, async ({ taskId }) => {
      const task = this.#get(taskId);
      if (task.status === "working") {
        task.cancelRequested = true;
        task.abort.abort(new Error("the task was cancelled"));
      }
      return {};
    });
  }

  /**
   * Runs `work`; if it is still running after the grace period, the call's answer is a task
   * handle and the work goes on as that task. `requestSignal`/`requestProgress` are the
   * tools/call request's own, used until then.
   */
  async run(
    work: (run: TaskRun) => Promise<CallToolResult>,
    request: { signal: AbortSignal; progress: TaskRun["progress"] },
  ): Promise<CallToolResult | Record<string, unknown>> {
    const abort = new AbortController();
    let task: TaskRecord | undefined;
    const onRequestAbort = () => abort.abort(request.signal.reason);
    request.signal.addEventListener("abort", onRequestAbort, { once: true });
    if (request.signal.aborted) onRequestAbort();
    let lastMessage: string | undefined;
    const progress: TaskRun["progress"] = (update) => {
      if (!task) {
        lastMessage = update.message ?? lastMessage;
        return request.progress(update);
      }
      if (update.message === undefined || update.message === task.statusMessage) return;
      task.statusMessage = update.message;
      task.lastUpdatedAt = new Date();
      this.#changed(task);
    };
    const done = work({ signal: abort.signal, progress });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const graceOver = new Promise<"grace">((resolve) => (timer = setTimeout(() => resolve("grace"), GRACE_MS)));
    const first = await Promise.race([done, graceOver]);
    clearTimeout(timer);
    if (first !== "grace") {
      request.signal.removeEventListener("abort", onRequestAbort);
      return first;
    }
    // From here the request is answered; only tasks/cancel (or shutdown) stops the work.
    request.signal.removeEventListener("abort", onRequestAbort);
    this.#purge();
    const now = new Date();
    // A task starts with the last progress its call reported, if any.
    task = { taskId: crypto.randomUUID(), status: "working", statusMessage: lastMessage, createdAt: now, lastUpdatedAt: now, abort, cancelRequested: false };
    this.#tasks.set(task.taskId, task);
    const t = task;
    void done.then((result) => {
      t.finishedAt = t.lastUpdatedAt = new Date();
      t.status = t.cancelRequested ? "cancelled" : "completed";
      t.result = result;
      if (t.status === "cancelled") t.statusMessage = "cancelled by the client";
      this.#changed(t);
    });
    return { resultType: "task", ...this.#base(t) };
  }

  #get(taskId: string): TaskRecord {
    this.#purge();
    const task = this.#tasks.get(taskId);
    if (!task) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown task ${JSON.stringify(taskId)} (finished tasks are kept for an hour).`);
    return task;
  }

  #base(task: TaskRecord) {
    return {
      taskId: task.taskId,
      status: task.status,
      ...(task.statusMessage !== undefined && { statusMessage: task.statusMessage }),
      createdAt: task.createdAt.toISOString(),
      lastUpdatedAt: task.lastUpdatedAt.toISOString(),
      // Unlimited while it works (a wait may last 24 h); an hour past its end once finished.
      ttlMs: task.finishedAt ? task.finishedAt.getTime() - task.createdAt.getTime() + KEEP_FINISHED_MS : null,
      pollIntervalMs: POLL_INTERVAL_MS,
    };
  }

  #view(task: TaskRecord): Record<string, unknown> {
    const base = this.#base(task);
    // The result is what tools/call would have returned on this generation.
    return task.status === "completed" ? { ...base, result: { resultType: "complete", ...task.result } } : base;
  }

  #purge(): void {
    const now = Date.now();
    const finished = [...this.#tasks.values()].filter((t) => t.finishedAt);
    for (const t of finished) if (now - t.finishedAt!.getTime() > KEEP_FINISHED_MS) this.#tasks.delete(t.taskId);
    const left = finished.filter((t) => this.#tasks.has(t.taskId));
    for (const t of left.slice(0, Math.max(0, left.length - KEEP_FINISHED_MAX))) this.#tasks.delete(t.taskId);
  }
}
