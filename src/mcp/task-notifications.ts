// Task status pushed to the client (tasks extension, SEP-2663 "Task Status Notifications"): a
// 2026-07-28 client that opens `subscriptions/listen` with `notifications.taskIds` gets the
// acknowledged ids back and then a `notifications/tasks` (the whole task, as tasks/get shows it)
// each time one of them changes, and once at once. The SDK's listen router knows only its own
// filters, so this wraps the stdio wire under serveStdio: it takes `taskIds` out of the listen
// request before the router sees it, puts the accepted ones into the router's acknowledgement, and
// sends the task notifications on that subscription.
import { SUBSCRIPTION_ID_META_KEY, type JSONRPCMessage, type Transport, type TransportSendOptions } from "@modelcontextprotocol/server";
import { clientSupportsTasks, TASKS_EXTENSION, type TaskStore } from "./tasks.ts";

type Message = { id?: string | number; method?: string; params?: Record<string, unknown> };

export class TaskNotifyingTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport["onmessage"];
  /** Listen request id → the task ids it follows. */
  readonly #subscriptions = new Map<string | number, string[]>();
  /** Listen requests whose acknowledgement is still to be sent, with their accepted ids. */
  readonly #pendingAcks = new Map<string | number, string[]>();
  readonly #unsubscribe: () => void;

  constructor(
    private readonly wire: Transport,
    private readonly tasks: TaskStore,
  ) {
    wire.onmessage = (message, extra) => this.#inbound(message as Message, extra);
    wire.onclose = () => this.onclose?.();
    wire.onerror = (error) => this.onerror?.(error);
    this.#unsubscribe = tasks.onChange((task) => this.#push(task));
  }

  get setProtocolVersion(): Transport["setProtocolVersion"] {
    return this.wire.setProtocolVersion?.bind(this.wire);
  }

  start(): Promise<void> {
    return this.wire.start();
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    await this.wire.close();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const m = message as Message;
    if (m.method === "notifications/subscriptions/acknowledged") {
      const id = (m.params?._meta as Record<string, unknown> | undefined)?.[SUBSCRIPTION_ID_META_KEY] as string | number | undefined;
      const taskIds = id === undefined ? undefined : this.#pendingAcks.get(id);
      if (id !== undefined && taskIds) {
        this.#pendingAcks.delete(id);
        this.#subscriptions.set(id, taskIds);
        const notifications = { ...(m.params!.notifications as Record<string, unknown>), taskIds };
        await this.wire.send({ ...message, params: { ...m.params, notifications } } as JSONRPCMessage, options);
        // The current state at once: a task that ended before the subscription is not missed.
        for (const taskId of taskIds) {
          const task = this.tasks.view(taskId);
          if (task) await this.#notify(id, task);
        }
        return;
      }
    }
    if ("id" in m && m.id !== undefined && m.method === undefined) this.#subscriptions.delete(m.id); // a listen closed by the server
    return this.wire.send(message, options);
  }

  #inbound(message: Message, extra: Parameters<NonNullable<Transport["onmessage"]>>[1]): void {
    if (message.method === "subscriptions/listen" && message.id !== undefined) {
      const notifications = message.params?.notifications as Record<string, unknown> | undefined;
      const requested = notifications?.taskIds;
      if (Array.isArray(requested)) {
        if (!clientSupportsTasks(message.params?._meta as Record<string, unknown> | undefined)) {
          void this.wire.send({
            jsonrpc: "2.0",
            id: message.id,
            error: { code: -32021, message: "Missing required client capability", data: { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } } },
          } as JSONRPCMessage);
          return;
        }
        const { taskIds: _taken, ...rest } = notifications!;
        this.#pendingAcks.set(message.id, [...new Set(requested.filter((t): t is string => typeof t === "string" && this.tasks.view(t) !== undefined))]);
        message = { ...message, params: { ...message.params, notifications: rest } };
      }
    } else if (message.method === "notifications/cancelled") {
      const id = message.params?.requestId as string | number | undefined;
      if (id !== undefined) {
        this.#subscriptions.delete(id);
        this.#pendingAcks.delete(id);
      }
    }
    this.onmessage?.(message as JSONRPCMessage, extra);
  }

  #push(task: Record<string, unknown>): void {
    for (const [id, taskIds] of this.#subscriptions) {
      if (taskIds.includes(task.taskId as string)) void this.#notify(id, task).catch((error: unknown) => this.onerror?.(error as Error));
    }
  }

  #notify(subscriptionId: string | number, task: Record<string, unknown>): Promise<void> {
    return this.wire.send({
      jsonrpc: "2.0",
      method: "notifications/tasks",
      params: { ...task, _meta: { [SUBSCRIPTION_ID_META_KEY]: subscriptionId } },
    } as JSONRPCMessage);
  }
}
