// MCP glue: tools/list and tools/call on the SDK v2 low-level Server (one instance per
// connection, built by serveStdio for the generation the client negotiates: 2026-07-28 or
// 2025-11-25). Parses input (failure → INVALID_ARGUMENT naming the fields), passes an
// AbortSignal and progress(), returns JSON text plus structuredContent, and is the one place
// errors become results.
import { Server, type CallToolResult, type Tool as McpTool } from "@modelcontextprotocol/server";
import { z } from "zod";
import { PtyError } from "../errors.ts";
import { heldSecrets } from "../secrets/held-secrets.ts";
import type { SessionRegistry } from "../session/registry.ts";
import type { Progress } from "../session/wait-for.ts";
import { VERSION } from "../version.ts";
import { clientSupportsTasks, TASKS_EXTENSION, TaskStore } from "./tasks.ts";
import { runsAsTask, type Tool } from "./tool.ts";

const INSTRUCTIONS = `pty-mcp gives you real terminals: local shells and REPLs, SSH, serial consoles.
Create a session, then send_input (returns when the command's output is complete) and read_output.
Never sleep to wait for output: use wait_for (send_input or read_output) — it blocks server-side until a line matches.
read_screen shows full-screen programs (top, vim, less) as a human sees them. send_control sends keys (ctrl+c, up, f1, break).
Passwords: send_secret asks the human; you never see the secret.`;

/**
 * One server for one connection. `era` is the generation serveStdio picked: only a 2026-07-28
 * (modern) connection offers the tasks extension. `tools` loads the tools on the first tools/call;
 * `listed` is what tools/list shows (built at build time from the same tools: tool-list.ts).
 */
export function createServer(options: { tools: () => Promise<readonly Tool[]>; listed: () => Promise<McpTool[]>; sessions: SessionRegistry; shutdown: AbortSignal; era?: "modern" | "legacy"; tasks?: TaskStore }): Server {
  const modern = options.era === "modern";
  const server = new PtyServer(
    { name: "pty-mcp", title: "pty-mcp", version: VERSION },
    { capabilities: { tools: {}, ...(modern && { extensions: { [TASKS_EXTENSION]: {} } }) }, instructions: INSTRUCTIONS },
  );
  const tasks = modern ? (options.tasks ?? new TaskStore()) : undefined;
  tasks?.install(server);
  let byName: Promise<Map<string, Tool>> | undefined;
  server.setRequestHandler("tools/list", async () => ({ tools: await options.listed() }));

  server.setRequestHandler("tools/call", async (request, ctx) => {
    const tools = await (byName ??= options.tools().then((all) => new Map(all.map((t) => [t.name, t]))));
    const tool = tools.get(request.params.name);
    if (!tool) return errorResult(new PtyError("INVALID_ARGUMENT", `Unknown tool "${request.params.name}". Tools: ${[...tools.keys()].join(", ")}.`));
    const parsed = tool.input.safeParse(request.params.arguments ?? {});
    if (!parsed.success) return errorResult(new PtyError("INVALID_ARGUMENT", describeZodError(parsed.error)));
    const progressToken = ctx.mcpReq._meta?.progressToken;
    // No token, no progress function: a tool then arms no progress timer (an idle wait_for wakes only at its deadline).
    const progress: Progress | undefined =
      progressToken === undefined
        ? undefined
        : (update) => {
            void ctx.mcpReq
              .notify({ method: "notifications/progress", params: { progressToken, ...redactMessage(update) } })
              .catch(() => undefined);
          };
    const run = async (signal: AbortSignal, report: Progress | undefined): Promise<CallToolResult> => {
      try {
        // Last line of defense: a secret a device echoed never reaches the agent (SPEC §3 send_secret).
        const output = heldSecrets.redactValue((await tool.run(parsed.data, { sessions: options.sessions, signal: AbortSignal.any([signal, options.shutdown]), progress: report })) as Record<string, unknown>);
        return { content: [{ type: "text", text: JSON.stringify(output) }], structuredContent: output };
      } catch (err) {
        return errorResult(err);
      }
    };
    if (tasks && runsAsTask(tool, parsed.data) && clientSupportsTasks(ctx.mcpReq.envelope as Record<string, unknown> | undefined)) {
      // A CreateTaskResult (resultType "task") is not in the SDK's CallToolResult type.
      return (await tasks.run((t) => run(t.signal, (u) => t.progress(redactMessage(u))), { signal: ctx.mcpReq.signal, progress: progress ?? (() => undefined) })) as CallToolResult;
    }
    return run(ctx.mcpReq.signal, progress);
  });
  return server;
}

/**
 * The SDK's Server, less its second pass over tools/call: its wrapper validated the request again (the
 * handler's registration already has) and the result against the wire schema (zod, jitless) — a result
 * built in one place, createServer's run/errorResult, always of that shape. ~0.09 ms of M1 and of M2
 * (README, Benchmark). Everything else (initialize, tools/list, tasks) keeps the SDK's wrapper.
 */
class PtyServer extends Server {
  protected override _wrapHandler(method: string, handler: Parameters<Server["_wrapHandler"]>[1]): ReturnType<Server["_wrapHandler"]> {
    return method === "tools/call" ? handler : super._wrapHandler(method, handler);
  }
}

/** Progress messages quote output: a held secret never reaches the client through them either. */
function redactMessage<T extends { message?: string }>(update: T): T {
  return update.message === undefined ? update : { ...update, message: heldSecrets.redactText(update.message) };
}

function describeZodError(error: z.ZodError): string {
  const parts = error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.join(".") : "arguments";
    if (issue.code === "invalid_union") return `${field}: ${unionMessage(issue)}`;
    return `${field}: ${issue.message}`;
  });
  return `Invalid arguments — ${parts.join("; ")}.`;
}

function unionMessage(issue: z.core.$ZodIssueInvalidUnion): string {
  const inner = issue.errors.flat().map((i) => i.message);
  return [...new Set(inner)].join(" or ") || issue.message;
}

export function errorPayload(err: unknown): { code: string; message: string; retryable: boolean; [key: string]: unknown } {
  if (err instanceof PtyError) return { ...(err.details ?? {}), code: err.code, message: err.message, retryable: err.retryable };
  console.error("pty-mcp: internal error:", err instanceof Error ? (err.stack ?? err.message) : err);
  const message = err instanceof Error ? err.message : String(err);
  return { code: "INTERNAL_ERROR", message: `Internal error: ${message}. This is a bug in pty-mcp; the session may still be usable.`, retryable: false };
}

function errorResult(err: unknown): CallToolResult {
  return { isError: true, content: [{ type: "text", text: JSON.stringify(heldSecrets.redactValue(errorPayload(err))) }] };
}
