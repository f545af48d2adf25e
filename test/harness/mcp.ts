// Drives the compiled binary over stdio with the official MCP SDK client, as an agent would.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { existsSync } from "node:fs";
import { join } from "node:path";

export const root = join(import.meta.dir, "../..");
export const binary = process.env.PTY_MCP_BINARY ?? join(root, "dist/pty-mcp");

export interface ToolError {
  code: string;
  message: string;
  retryable: boolean;
  [key: string]: unknown;
}

export class McpHarness {
  readonly client: Client;
  readonly transport: StdioClientTransport;
  stderr = "";

  private constructor(client: Client, transport: StdioClientTransport) {
    this.client = client;
    this.transport = transport;
  }

  static async start(options: { env?: Record<string, string>; args?: string[]; cwd?: string } = {}): Promise<McpHarness> {
    if (!existsSync(binary)) throw new Error(`${binary} is missing: run \`npm run build\` (npm test does it first)`);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    env.SHELL = "/bin/bash";
    Object.assign(env, options.env ?? {});
    const transport = new StdioClientTransport({ command: binary, args: options.args ?? ["serve"], env, stderr: "pipe", cwd: options.cwd });
    const client = new Client({ name: "pty-mcp-tests", version: "0.0.0" });
    const harness = new McpHarness(client, transport);
    transport.stderr?.on("data", (chunk: Buffer) => (harness.stderr += chunk.toString()));
    await client.connect(transport);
    return harness;
  }

  /** Raw tools/call result. */
  async callRaw(name: string, args: Record<string, unknown> = {}, options: { signal?: AbortSignal; onprogress?: (p: { progress: number; total?: number }) => void; timeout?: number } = {}): Promise<CallToolResult> {
    return (await this.client.callTool({ name, arguments: args }, undefined, {
      signal: options.signal,
      onprogress: options.onprogress,
      timeout: options.timeout ?? 120_000,
      resetTimeoutOnProgress: true,
    })) as CallToolResult;
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

function textOf(result: CallToolResult): string {
  const first = result.content[0];
  return first && first.type === "text" ? first.text : JSON.stringify(result.content);
}

/** A bash with a fixed, recognizable prompt and no user rc files. */
export const plainBash = { command: "bash --norc --noprofile", env: { PS1: "$ ", PROMPT_COMMAND: "" } };
