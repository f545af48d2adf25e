// Drives the compiled binary over stdio with an official MCP SDK client, as an agent would.
// PTY_MCP_TEST_PROTOCOL picks the client and the generation it speaks:
//   2026-07-28 (default)  SDK v2 client (@modelcontextprotocol/client), pinned to the 2026-07-28 revision
//   2025-11-25            SDK v2 client, the 2025 `initialize` handshake
//   v1                    SDK v1 client (@modelcontextprotocol/sdk 1.x, what many clients still run), 2025-11-25
import { Client, type CallToolResult, type Tool } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport as V1StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { existsSync } from "node:fs";
import { join } from "node:path";

export const root = join(import.meta.dir, "../..");
export const binary = process.env.PTY_MCP_BINARY ?? join(root, "dist/pty-mcp");

export const PROTOCOLS = ["2026-07-28", "2025-11-25", "v1"] as const;
export type TestProtocol = (typeof PROTOCOLS)[number];
/** The generation this test run speaks (env PTY_MCP_TEST_PROTOCOL). */
export const protocol: TestProtocol = parseProtocol(process.env.PTY_MCP_TEST_PROTOCOL);

function parseProtocol(value: string | undefined): TestProtocol {
  if (value === undefined || value === "") return "2026-07-28";
  if ((PROTOCOLS as readonly string[]).includes(value)) return value as TestProtocol;
  throw new Error(`PTY_MCP_TEST_PROTOCOL=${value}: expected one of ${PROTOCOLS.join(", ")}`);
}

export interface ToolError {
  code: string;
  message: string;
  retryable: boolean;
  [key: string]: unknown;
}

/** What the tests use of a client; the v1 and v2 clients both have it. */
export interface HarnessClient {
  callTool(params: { name: string; arguments?: Record<string, unknown>; _meta?: Record<string, unknown> }, options?: CallOptions): Promise<unknown>;
  listTools(): Promise<{ tools: Tool[] }>;
  getServerVersion(): { name: string; version: string } | undefined;
  close(): Promise<void>;
}

export interface HarnessTransport {
  readonly pid: number | null;
}

export interface CallOptions {
  signal?: AbortSignal;
  onprogress?: (p: { progress: number; total?: number; message?: string }) => void;
  timeout?: number;
  resetTimeoutOnProgress?: boolean;
}

export interface StartOptions {
  env?: Record<string, string>;
  args?: string[];
  cwd?: string;
  /** Override PTY_MCP_TEST_PROTOCOL for this server. */
  protocol?: TestProtocol;
  /** Client capabilities (2025 generations: sent in initialize). */
  capabilities?: Record<string, unknown>;
}

export class McpHarness {
  readonly client: HarnessClient;
  readonly transport: HarnessTransport;
  readonly protocol: TestProtocol;
  stderr = "";

  private constructor(client: HarnessClient, transport: HarnessTransport, protocol: TestProtocol) {
    this.client = client;
    this.transport = transport;
    this.protocol = protocol;
  }

  static async start(options: StartOptions = {}): Promise<McpHarness> {
    if (!existsSync(binary)) throw new Error(`${binary} is missing: run \`npm run build\` (npm test does it first)`);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    env.SHELL = "/bin/bash";
    Object.assign(env, options.env ?? {});
    const which = options.protocol ?? protocol;
    const params = { command: binary, args: options.args ?? ["serve"], env, stderr: "pipe" as const, cwd: options.cwd };
    const info = { name: "pty-mcp-tests", version: "0.0.0" };
    if (which === "v1") {
      const transport = new V1StdioClientTransport(params);
      const client = new V1Client(info, { capabilities: options.capabilities ?? {} });
      // v1's callTool takes a result schema before the options.
      const adapter: HarnessClient = {
        callTool: (p, o) => client.callTool(p, undefined, o),
        listTools: async () => (await client.listTools()) as { tools: Tool[] },
        getServerVersion: () => client.getServerVersion(),
        close: () => client.close(),
      };
      const harness = new McpHarness(adapter, transport, which);
      transport.stderr?.on("data", (chunk: Buffer) => (harness.stderr += chunk.toString()));
      // The v1 client tells the transport the version it negotiated, and nobody else.
      (transport as { setProtocolVersion?: (v: string) => void }).setProtocolVersion = (v) => (harness.negotiatedVersion = v);
      await client.connect(transport);
      harness.#watchProgress(transport as never);
      return harness;
    }
    const transport = new StdioClientTransport(params);
    const client = new Client(info, {
      capabilities: options.capabilities ?? {},
      versionNegotiation: { mode: which === "2026-07-28" ? { pin: "2026-07-28" } : "legacy" },
    });
    const harness = new McpHarness(client as unknown as HarnessClient, transport, which);
    (transport.stderr as NodeJS.ReadableStream | null)?.on("data", (chunk: Buffer) => (harness.stderr += chunk.toString()));
    await client.connect(transport);
    harness.negotiatedVersion = client.getNegotiatedProtocolVersion();
    harness.#watchProgress(transport as never);
    return harness;
  }

  /** The protocol revision the connection negotiated. */
  negotiatedVersion: string | undefined;

  readonly #progress = new Map<string, (p: { progress: number; total?: number; message?: string }) => void>();
  #nextToken = 0;

  /**
   * Progress straight off the wire, in order. The SDK clients (v1 and v2) hand notifications to
   * their handlers a microtask later but settle a response at once, so a progress notification
   * that arrives in the same read as the result was dropped.
   */
  #watchProgress(transport: { onmessage?: (message: never, extra?: never) => void }): void {
    const deliver = transport.onmessage;
    transport.onmessage = (message, extra) => {
      const m = message as { method?: string; params?: { progressToken?: unknown; progress: number; total?: number; message?: string } };
      if (m.method === "notifications/progress" && typeof m.params?.progressToken === "string") {
        const report = this.#progress.get(m.params.progressToken);
        if (report) {
          const { progressToken: _token, ...update } = m.params;
          report(update);
          return;
        }
      }
      deliver?.(message, extra);
    };
  }

  /** Raw tools/call result. */
  async callRaw(name: string, args: Record<string, unknown> = {}, options: { signal?: AbortSignal; onprogress?: (p: { progress: number; total?: number; message?: string }) => void; timeout?: number } = {}): Promise<CallToolResult> {
    const token = options.onprogress ? `harness-${++this.#nextToken}` : undefined;
    if (token) this.#progress.set(token, options.onprogress!);
    try {
      return (await this.client.callTool({ name, arguments: args, ...(token && { _meta: { progressToken: token } }) }, {
        signal: options.signal,
        timeout: options.timeout ?? 120_000,
      })) as CallToolResult;
    } finally {
      if (token) this.#progress.delete(token);
    }
  }

  /** A successful call's structured result; throws with the error payload otherwise. */
  async call<T = Record<string, unknown>>(name: string, args: Record<string, unknown> = {}, options: Parameters<McpHarness["callRaw"]>[2] = {}): Promise<T> {
    const result = await this.callRaw(name, args, options);
    if (result.isError) throw new Error(`${name} failed: ${textOf(result)}`);
    return result.structuredContent as T;
  }

  /** A failing call's `{code, message, retryable}`; throws if the call succeeded. */
  async callError(name: string, args: Record<string, unknown> = {}): Promise<ToolError> {
    const result = await this.callRaw(name, args);
    if (!result.isError) throw new Error(`${name} unexpectedly succeeded: ${textOf(result)}`);
    return JSON.parse(textOf(result)) as ToolError;
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** get_session_state, asked again (each call also starts a reconnect round when none runs) until `ok` holds of it (at most ~60 s). */
export async function untilState(h: McpHarness, id: string, ok: (state: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  let state = await h.call<Record<string, unknown>>("get_session_state", { session_id: id });
  for (let i = 0; !ok(state) && i < 1200; i++) {
    await Bun.sleep(50);
    state = await h.call<Record<string, unknown>>("get_session_state", { session_id: id });
  }
  return state;
}

export function textOf(result: CallToolResult): string {
  const first = result.content[0];
  return first && first.type === "text" ? first.text : JSON.stringify(result.content);
}

/** A bash with a fixed, recognizable prompt and no user rc files. */
export const plainBash = { command: "bash --norc --noprofile", env: { PS1: "$ ", PROMPT_COMMAND: "" } };

/** Asks the terminal for the cursor position and the device attributes; prints the answers; then shows nothing more came. */
export const ASK_TERMINAL = String.raw`printf '\e[5;10H\e[6n'; IFS= read -rs -d R cpr; printf '\e[c'; IFS= read -rs -d c da; IFS= read -rs -t 0.3 -n 1 more; printf '%q %q [%s]\n' "$cpr" "$da" "$more"`;
