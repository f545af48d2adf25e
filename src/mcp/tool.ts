import type { z } from "zod";
import type { Progress } from "../session/session.ts";
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
  /** MCP progress notification (sent only when the client asked for progress). */
  progress: Progress;
}

export interface Tool<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  annotations: ToolAnnotations;
  input: I;
  output: O;
  run(input: z.output<I>, context: ToolContext): Promise<z.input<O>>;
}

/** Identity, typed so that `run` must return the declared `output` shape. */
export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(tool: Tool<I, O>): Tool<I, O> {
  return tool;
}
