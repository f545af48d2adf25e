import type { z } from "zod";
import type { Progress } from "../session/wait-for.ts";
import type { SessionRegistry } from "../session/registry.ts";

export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** What a tool's `run` gets besides its parsed input. */
export interface ToolContext {
  sessions: SessionRegistry;
  /** Aborts when the client cancels the call or the server shuts down. */
  signal: AbortSignal;
  /** MCP progress notification; undefined when the client asked for none (no progress token, not a task). */
  progress?: Progress;
}

/**
 * How a client that loads tools on demand should treat the tool, sent as the tool's `_meta` in
 * tools/list under the keys Claude Code reads (`anthropic/…`, seen in 2.1.332; other clients ignore them).
 */
export interface ToolMeta {
  /** Never deferred behind the client's tool search: in the model's tool list from the start. */
  alwaysLoad?: true;
  /** Extra words the client's tool search matches (what an agent would type to find the tool). */
  searchHint?: string;
  /** The tool asks the human (a password dialog): a client may refuse it where nobody can answer. */
  requiresUserInteraction?: true;
  /** Results up to this many characters stay inline (Claude Code writes longer ones to a file). */
  maxResultSizeChars?: number;
}

/** The `_meta` object of a tool in tools/list. */
export function toolMeta(meta: ToolMeta): Record<string, unknown> {
  return {
    ...(meta.alwaysLoad ? { "anthropic/alwaysLoad": true } : {}),
    ...(meta.searchHint ? { "anthropic/searchHint": meta.searchHint } : {}),
    ...(meta.requiresUserInteraction ? { "anthropic/requiresUserInteraction": true } : {}),
    ...(meta.maxResultSizeChars ? { "anthropic/maxResultSizeChars": meta.maxResultSizeChars } : {}),
  };
}

export interface Tool<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  /** Starts with what the tool is for, in the words an agent searches with; at most 2,048 characters (clients cut longer ones). */
  description: string;
  annotations: ToolAnnotations;
  meta?: ToolMeta;
  input: I;
  output: O;
  /**
   * May this call run as a task (MCP 2026-07-28 tasks extension, SPEC §12)? "optional": every
   * call may; a function: the calls it says yes to (e.g. only waits). The server makes it a task
   * only where the client supports tasks and the call outlasts a short grace period.
   */
  task?: "optional" | ((input: z.output<I>) => boolean);
  run(input: z.output<I>, context: ToolContext): Promise<z.input<O>>;
}

/** Whether a call of `tool` with this input may become a task. */
export function runsAsTask(tool: Tool, input: unknown): boolean {
  return tool.task === "optional" || (typeof tool.task === "function" && tool.task(input as never));
}

/** Identity, typed so that `run` must return the declared `output` shape. */
export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(tool: Tool<I, O>): Tool<I, O> {
  return tool;
}
