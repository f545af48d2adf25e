// The tasks extension of MCP 2026-07-28 (SPEC §12, SEP-2663): a long wait becomes a task the
// client polls and cancels; a finished task's result is the wait's result; without the
// extension (or on 2025-11-25) the call blocks with progress as before. Every tasks message is
// checked against the official validators (@modelcontextprotocol/ext-tasks/core/v2).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CallToolResultV2Schema,
  CancelTaskResultV2Schema,
  CreateTaskResultV2Schema,
  GetTaskResultV2Schema,
  hasTaskServerCapabilityV2,
  isCreateTaskResultV2,
  isToolCallTaskResultV2,
  readAcceptedTaskIdsV2,
  TaskStatusNotificationV2Schema,
  TaskSubscriptionAcknowledgedNotificationsV2Schema,
} from "@modelcontextprotocol/ext-tasks/core/v2";
import { resultFromTaskOutcome, withTasks } from "@modelcontextprotocol/ext-tasks/client";
import { runsAsTask, type Tool } from "../src/mcp/tool.ts";
import { tools } from "../src/mcp/tools/index.ts";
import { plainBash } from "./harness/mcp.ts";
import { RawMcp, TASKS, type RawMessage } from "./harness/raw-mcp.ts";

const withTasksCaps = { extensions: { [TASKS]: {} } };

// Programs that go on when the test says so (a file appears), not after a sleep: whether a wait
// outlasts the 1 s grace period, and which line is the last at a progress tick, must not depend on
// how fast a loaded machine starts the program or delivers the call.
const gates = mkdtempSync(join(tmpdir(), `pty-mcp-tasks-${process.pid}-`));
afterAll(() => rmSync(gates, { recursive: true, force: true }));
let gateCount = 0;
function gate(): { path: string; open(): void } {
  const path = join(gates, `gate-${++gateCount}`);
  return { path, open: () => writeFileSync(path, "") };
}
const waitGate = (path: string) => `while [ ! -e ${path} ]; do sleep 0.05; done`;

async function bash(c: RawMcp, extra: Record<string, unknown> = {}): Promise<string> {
  const { session_id } = await c.call("create_local_session", { ...plainBash, ...extra });
  await c.call("read_output", { session_id: session_id as string, wait_for: "^\\$ $", timeout: 10 });
  return session_id as string;
}

/** Checks a message against an official validator and returns it as parsed. */
function valid<T>(schema: { safeParse(v: unknown): { success: boolean; error?: unknown } }, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new Error(`not valid per ext-tasks: ${JSON.stringify(value)}: ${String(r.error)}`);
  return value as T;
}

async function poll(c: RawMcp, taskId: string, until: (task: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  for (;;) {
    const r = await c.request("tasks/get", { taskId });
    const task = valid<Record<string, unknown>>(GetTaskResultV2Schema, r.result);
    if (until(task)) return r.result!;
    await Bun.sleep(200);
  }
}

test("the long calls of SPEC §12 are the ones that may become tasks", () => {
  const eligible = (name: string, input: Record<string, unknown>) => runsAsTask((tools as readonly Tool[]).find((t) => t.name === name)!, input);
  expect({
    waitRead: eligible("read_output", { session_id: "s", wait_for: "x" }),
    settleRead: eligible("read_output", { session_id: "s" }),
    waitSend: eligible("send_input", { session_id: "s", input: "x", wait_for: "x" }),
    plainSend: eligible("send_input", { session_id: "s", input: "x" }),
    always: ["run_dialog", "reconnect_session", "run_on_hosts", "transfer_file"].filter((n) => eligible(n, {})),
    never: (tools as readonly Tool[]).filter((t) => !["read_output", "send_input", "run_dialog", "reconnect_session", "run_on_hosts", "transfer_file"].includes(t.name) && t.task !== undefined).map((t) => t.name),
  }).toEqual({ waitRead: true, settleRead: false, waitSend: true, plainSend: false, always: ["run_dialog", "reconnect_session", "run_on_hosts", "transfer_file"], never: [] });
});

describe("tasks (2026-07-28 with the tasks extension)", () => {
  test("server/discover names the extension", async () => {
    await using c = await RawMcp.start("2026-07-28", withTasksCaps);
    const d = await c.request("server/discover", {});
    expect(hasTaskServerCapabilityV2(d.result!.capabilities)).toBe(true);
  });

  test("a wait-mode read_output becomes a task: polled, its progress carries the last line, cancelled", async () => {
    await using c = await RawMcp.start("2026-07-28", withTasksCaps);
    const id = await bash(c);
    // A program at work: its last line is what the task's progress shows.
    const typed = await c.call("send_input", { session_id: id, input: "printf 'compiling step 3 of 9\\n'; cat", timeout_ms: 500 });
    // The line is there (after 500 ms on a loaded machine it may not be yet) before the wait whose progress shows it;
    // looked for with incremental reads, which never become tasks.
    while (!String((await c.call("read_output", { session_id: id, since_cursor: typed.cursor_start })).output).includes("\ncompiling step 3 of 9\n")) await Bun.sleep(50);
    const created = await c.callTool("read_output", { session_id: id, wait_for: "^NEVER$", timeout: 60 }, "p1");
    expect(isToolCallTaskResultV2("tools/call", created.result)).toBe(true);
    const task = valid<{ taskId: string; status: string; pollIntervalMs?: number; ttlMs: number | null }>(CreateTaskResultV2Schema, created.result);
    expect({ status: task.status, ttlMs: task.ttlMs, pollIntervalMs: task.pollIntervalMs }).toEqual({ status: "working", ttlMs: null, pollIntervalMs: 1000 });

    const working = await poll(c, task.taskId, (t) => typeof t.statusMessage === "string");
    expect({ status: working.status, statusMessage: working.statusMessage, resultType: working.resultType }).toEqual({
      status: "working",
      statusMessage: 'waiting for "^NEVER$"; last line: compiling step 3 of 9',
      resultType: "complete",
    });
    // The session answers other calls while its wait runs as a task.
    expect((await c.call("get_session_state", { session_id: id })).is_alive).toBe(true);

    const ack = await c.request("tasks/cancel", { taskId: task.taskId });
    valid(CancelTaskResultV2Schema, ack.result);
    const cancelled = await poll(c, task.taskId, (t) => t.status !== "working");
    expect({ status: cancelled.status, result: cancelled.result }).toEqual({ status: "cancelled", result: undefined });
    // Cancelled means the wait returned; the session goes on.
    await c.call("send_control", { session_id: id, key: "ctrl+c" });
    await c.call("read_output", { session_id: id, wait_for: "^\\$ $", timeout: 10 });
    expect((await c.call("send_input", { session_id: id, input: "echo after-$((40+2))" })).output).toBe("after-42\n$ ");
    // A task's progress goes to its statusMessage, not to the request's (answered) progress token.
    const answeredAt = c.received.indexOf(created);
    expect(c.received.slice(answeredAt).filter((m) => m.method === "notifications/progress")).toEqual([]);
    await c.call("close_session", { session_id: id });
  });

  test("a task that completes has the wait's result as its result", async () => {
    await using c = await RawMcp.start("2026-07-28", withTasksCaps);
    const go = gate();
    const { session_id } = await c.call("create_local_session", { command: `sh -c 'echo started; ${waitGate(go.path)}; echo FINISHED; sleep 60'` });
    const created = await c.callTool("read_output", { session_id, wait_for: "^FINISHED$", timeout: 30, context_lines: 1 });
    const task = valid<{ taskId: string }>(CreateTaskResultV2Schema, created.result);
    go.open();
    const done = await poll(c, task.taskId, (t) => t.status !== "working");
    expect(done.status).toBe("completed");
    const result = valid<{ structuredContent: Record<string, unknown>; content: { type: string; text: string }[] }>(CallToolResultV2Schema, done.result);
    expect(result.structuredContent).toMatchObject({ matched: true, timed_out: false, match_line: "FINISHED", context: "started\nFINISHED", is_alive: true });
    expect(JSON.parse(result.content[0]!.text)).toEqual(result.structuredContent);
    expect(typeof done.ttlMs).toBe("number");
    await c.call("close_session", { session_id: session_id as string });
  });

  test("send_input with wait_for becomes a task too; a wait that ends within the grace period is a plain result", async () => {
    await using c = await RawMcp.start("2026-07-28", withTasksCaps);
    const id = await bash(c);
    // A wait whose line is already in the buffer ends at once, however loaded the machine (a send_input's
    // echo QUICK needs the shell to answer within the 1 s grace period).
    const typed = await c.call("send_input", { session_id: id, input: "echo QUICK" });
    const quick = await c.callTool("read_output", { session_id: id, wait_for: "^QUICK$", since_cursor: typed.cursor_start });
    expect({ resultType: quick.result!.resultType, matched: (quick.result!.structuredContent as Record<string, unknown>).matched }).toEqual({ resultType: "complete", matched: true });
    const slow = await c.callTool("send_input", { session_id: id, input: "sleep 2; echo SLOW", wait_for: "^SLOW$" });
    const task = valid<{ taskId: string }>(CreateTaskResultV2Schema, slow.result);
    const done = await poll(c, task.taskId, (t) => t.status !== "working");
    expect({ status: done.status, line: ((done.result as Record<string, unknown>).structuredContent as Record<string, unknown>).match_line }).toEqual({ status: "completed", line: "SLOW" });
    // Calls that are not waits never become tasks.
    const plain = await c.callTool("send_input", { session_id: id, input: "sleep 1.5; echo plain", timeout_ms: 5000 });
    expect(isCreateTaskResultV2(plain.result)).toBe(false);
    await c.call("close_session", { session_id: id });
  });

  test("the official tasks requester (ext-tasks withTasks) runs waits as tasks: one settles with the wait's result, one is cancelled", async () => {
    await using c = await RawMcp.start("2026-07-28", withTasksCaps);
    const session = withTasks(c.taskPort());
    const go = gate();
    const { session_id } = await c.call("create_local_session", { command: `sh -c 'echo started; ${waitGate(go.path)}; echo FINISHED; sleep 60'` });
    const finishing = await session.callTool("read_output", { session_id: session_id as string, wait_for: "^FINISHED$", timeout: 30 });
    const never = await session.callTool("read_output", { session_id: session_id as string, wait_for: "^NEVER$", timeout: 60 });
    expect([finishing.kind, never.kind]).toEqual(["task", "task"]);
    go.open();
    const { outcome } = await finishing.settle();
    const result = resultFromTaskOutcome(outcome) as { structuredContent: Record<string, unknown> };
    expect(result.structuredContent).toMatchObject({ matched: true, timed_out: false, match_line: "FINISHED" });
    await never.cancel();
    expect((await never.settle()).outcome.status).toBe("cancelled");
    await session.close();
    await c.call("close_session", { session_id: session_id as string });
  });

  test("subscriptions/listen with taskIds: acknowledged, then notifications/tasks as the task changes and when it completes", async () => {
    await using c = await RawMcp.start("2026-07-28", withTasksCaps);
    const [half, finish] = [gate(), gate()];
    const { session_id } = await c.call("create_local_session", { command: `sh -c 'echo started; ${waitGate(half.path)}; echo halfway; ${waitGate(finish.path)}; echo FINISHED; sleep 60'` });
    const created = await c.callTool("read_output", { session_id, wait_for: "^FINISHED$", timeout: 30 });
    const { taskId } = valid<{ taskId: string }>(CreateTaskResultV2Schema, created.result);
    const listen = c.send("subscriptions/listen", { notifications: { taskIds: [taskId, "not-a-task"] } });
    const ack = await c.next((m) => m.method === "notifications/subscriptions/acknowledged");
    valid(TaskSubscriptionAcknowledgedNotificationsV2Schema, ack.params!.notifications);
    expect(readAcceptedTaskIdsV2(ack.params)).toEqual([taskId]);
    // halfway, then (once a progress tick has shown it) FINISHED.
    half.open();
    await c.next((m) => m.method === "notifications/tasks" && m.params?.statusMessage === 'waiting for "^FINISHED$"; last line: halfway');
    finish.open();
    const done = await c.next((m) => m.method === "notifications/tasks" && m.params?.status === "completed");
    valid(TaskStatusNotificationV2Schema, done);
    expect(done.params!._meta).toEqual({ "io.modelcontextprotocol/subscriptionId": listen });
    expect(((done.params!.result as Record<string, unknown>).structuredContent as Record<string, unknown>).match_line).toBe("FINISHED");
    // On the way: the state at subscription time and each new progress line, all for this task.
    const pushed = c.received.filter((m) => m.method === "notifications/tasks");
    for (const n of pushed) valid(TaskStatusNotificationV2Schema, n);
    expect(pushed.map((n) => n.params!.taskId)).toEqual(pushed.map(() => taskId));
    expect(pushed.map((n) => n.params!.statusMessage)).toContain('waiting for "^FINISHED$"; last line: halfway');
    c.notify("notifications/cancelled", { requestId: listen });
    await c.call("close_session", { session_id: session_id as string });
  });

  test("subscriptions/listen for tasks without the extension declared is -32021", async () => {
    await using c = await RawMcp.start("2026-07-28", {});
    const id = c.send("subscriptions/listen", { notifications: { taskIds: ["x"] } });
    const answer = await c.next((m) => m.id === id);
    expect(answer.error).toMatchObject({ code: -32021, data: { requiredCapabilities: { extensions: { [TASKS]: {} } } } });
  });

  test("an unknown task id is a JSON-RPC error", async () => {
    await using c = await RawMcp.start("2026-07-28", withTasksCaps);
    const responses: RawMessage[] = await Promise.all(["tasks/get", "tasks/cancel"].map((m) => c.request(m, { taskId: "no-such-task" })));
    expect(responses.map((r) => r.error?.code)).toEqual([-32602, -32602]);
  });
});

describe("without the tasks extension the call blocks, with progress", () => {
  for (const [name, generation, capabilities] of [
    ["2026-07-28 client without the extension", "2026-07-28", {}],
    ["2025-11-25 client (the extension is not defined there)", "2025-11-25", withTasksCaps],
  ] as const) {
    test(name, async () => {
      await using c = await RawMcp.start(generation, capabilities);
      const id = await bash(c);
      // The program says "building", then finishes once the test has seen the wait's first progress (a gate,
      // not a time): the call gets exactly one progress notification, the first tick (after 1 s; the next one
      // is 5 s later, and the wait has matched "done" by then), whatever the load.
      const done = gate();
      const typed = await c.call("send_input", { session_id: id, input: `echo building; ${waitGate(done.path)}; echo done`, timeout_ms: 500 });
      while (!String((await c.call("read_output", { session_id: id, since_cursor: typed.cursor_start })).output).includes("\nbuilding\n")) await Bun.sleep(50);
      const progressOf = () => c.notifications.filter((n) => n.method === "notifications/progress").map((n) => n.params as Record<string, unknown>);
      const call = c.callTool("read_output", { session_id: id, wait_for: "^done$", timeout: 60 }, "p2");
      while (progressOf().length === 0) await Bun.sleep(50);
      done.open();
      const r = await call;
      const result = r.result as { structuredContent: Record<string, unknown>; resultType?: string };
      expect({ structured: result.structuredContent, resultType: result.resultType }).toEqual({
        structured: { matched: true, timed_out: false, match_line: "done", cursor: expect.any(Number), is_alive: true },
        resultType: generation === "2026-07-28" ? "complete" : undefined,
      });
      // `progress` is the seconds waited, rounded, at the tick: 1 on a quiet machine, more if the tick ran late.
      const progress = progressOf();
      expect(progress.map((p): Record<string, unknown> => ({ ...p, progress: Number.isInteger(p.progress) && (p.progress as number) >= 1 }))).toEqual([
        { progressToken: "p2", progress: true, total: 60, message: 'waiting for "^done$"; last line: building' },
      ]);
      await c.call("close_session", { session_id: id });
    });
  }
});
