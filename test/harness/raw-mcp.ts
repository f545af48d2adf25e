// A bare JSON-RPC client over the binary's stdio, for what the SDK clients do not speak yet
// (the tasks extension of 2026-07-28): every message as sent and received, so tests can check
// them against the official validators.
import type { ConnectedMcpSessionPort } from "@modelcontextprotocol/ext-tasks/client";
import type { Subprocess } from "bun";
import { binary } from "./mcp.ts";

export const TASKS = "io.modelcontextprotocol/tasks";

export interface RawMessage {
  jsonrpc: "2.0";
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

export class RawMcp {
  readonly notifications: RawMessage[] = [];
  /** Every message received, in order. */
  readonly received: RawMessage[] = [];
  readonly #proc: Subprocess<"pipe", "pipe", "pipe">;
  readonly #pending = new Map<number, (m: RawMessage) => void>();
  #nextId = 1;
  #buffer = "";

  private constructor(proc: Subprocess<"pipe", "pipe", "pipe">, readonly generation: "2026-07-28" | "2025-11-25", readonly capabilities: Record<string, unknown>) {
    this.#proc = proc;
    void this.#read();
  }

  /** A connection in that generation; `capabilities` are the client's (tasks: `{ extensions: { [TASKS]: {} } }`). */
  static async start(generation: "2026-07-28" | "2025-11-25", capabilities: Record<string, unknown>, env: Record<string, string> = {}): Promise<RawMcp> {
    const proc = Bun.spawn([binary, "serve"], { stdin: "pipe", stdout: "pipe", stderr: "pipe", env: { ...process.env, SHELL: "/bin/bash", ...env } });
    const c = new RawMcp(proc, generation, capabilities);
    if (generation === "2026-07-28") {
      const discover = await c.request("server/discover", {});
      if (!discover.result) throw new Error(`server/discover failed: ${JSON.stringify(discover)}`);
    } else {
      const init = await c.request("initialize", { protocolVersion: "2025-11-25", capabilities, clientInfo: { name: "raw", version: "0" } });
      if (!init.result) throw new Error(`initialize failed: ${JSON.stringify(init)}`);
      c.notify("notifications/initialized", {});
    }
    return c;
  }

  /** Sends a request (2026-07-28: with the per-request envelope) and resolves with its response. */
  request(method: string, params: Record<string, unknown>): Promise<RawMessage> {
    const id = this.#nextId++;
    const response = new Promise<RawMessage>((resolve) => this.#pending.set(id, resolve));
    this.#send({ jsonrpc: "2.0", id, method, params: this.#framed(params) });
    return response;
  }

  /** Sends a request whose answer the test does not wait for (subscriptions/listen); returns its id. */
  send(method: string, params: Record<string, unknown>): number {
    const id = this.#nextId++;
    this.#send({ jsonrpc: "2.0", id, method, params: this.#framed(params) });
    return id;
  }

  /** The first received message (from now on or already there) that `match` accepts. */
  async next(match: (m: RawMessage) => boolean, timeoutMs = 30_000): Promise<RawMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no such message within ${timeoutMs} ms; received: ${JSON.stringify(this.received.slice(-5))}`);
      await Bun.sleep(20);
    }
  }

  notify(method: string, params: Record<string, unknown>): void {
    this.#send({ jsonrpc: "2.0", method, params });
  }

  /** tools/call's raw response; `progressToken` asks for progress. */
  callTool(name: string, args: Record<string, unknown>, progressToken?: string): Promise<RawMessage> {
    return this.request("tools/call", { name, arguments: args, ...(progressToken !== undefined && { _meta: { progressToken } }) });
  }

  /** A tool's structuredContent from a plain (non-task) call. */
  async call(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const r = await this.callTool(name, args);
    const result = r.result as { isError?: boolean; structuredContent?: Record<string, unknown>; resultType?: string } | undefined;
    if (!result || result.isError || result.resultType === "task") throw new Error(`${name}: ${JSON.stringify(r)}`);
    return result.structuredContent!;
  }

  /**
   * This connection as the session port of the official tasks requester
   * (@modelcontextprotocol/ext-tasks/client withTasks): it frames and sends what the requester
   * dispatches and hands back the raw responses.
   */
  taskPort(): ConnectedMcpSessionPort {
    return {
      endpointId: `pty-mcp-test-${process.pid}`,
      taskCapabilities: { generation: "v2", capabilities: {} },
      invalidated: false,
      dispatch: async (request) => {
        const { method, params } = request as { method: string; params?: Record<string, unknown> };
        const r = await this.request(method, params ?? {});
        return r.error ? { kind: "error", error: r.error as never } : { kind: "result", result: r.result as never };
      },
      onServerRequest: () => () => undefined,
      onNotification: () => () => undefined,
      onInvalidated: () => () => undefined,
    };
  }

  #framed(params: Record<string, unknown>): Record<string, unknown> {
    if (this.generation !== "2026-07-28") return params;
    const meta = (params._meta as Record<string, unknown> | undefined) ?? {};
    return {
      ...params,
      _meta: {
        ...meta,
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": { name: "raw", version: "0" },
        "io.modelcontextprotocol/clientCapabilities": this.capabilities,
      },
    };
  }

  #send(message: RawMessage): void {
    this.#proc.stdin.write(`${JSON.stringify(message)}\n`);
    void this.#proc.stdin.flush();
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of this.#proc.stdout) {
      this.#buffer += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = this.#buffer.indexOf("\n")) >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        if (!line.trim()) continue;
        const m = JSON.parse(line) as RawMessage;
        this.received.push(m);
        if (m.id !== undefined && m.method === undefined) {
          this.#pending.get(m.id)?.(m);
          this.#pending.delete(m.id);
        } else {
          this.notifications.push(m);
        }
      }
    }
  }

  async close(): Promise<void> {
    this.#proc.stdin.end();
    const exited = await Promise.race([this.#proc.exited, Bun.sleep(5000).then(() => undefined)]);
    if (exited === undefined) this.#proc.kill("SIGKILL");
    await this.#proc.exited;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
