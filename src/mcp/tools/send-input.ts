import { z } from "zod";
import { bool, budgetBytes, elided, int, num, patterns, sessionId, waitResultFields } from "../params.ts";
import { defineTool } from "../tool.ts";

export const sendInput = defineTool({
  name: "send_input",
  title: "Type into a session",
  description:
    "Run a command in a terminal session and get its output: type text into a session followed by Enter (the session's line ending; raw: true sends exactly the text), then return when the output is complete: " +
    "a prompt appeared after the command's output, or timeout_ms passed (is_complete: false — read more with read_output). " +
    "With wait_for, block until a line of output matches instead (the echo of your own input never counts). " +
    "Do not use for passwords (send_secret) or keys like ctrl+c (send_control).",
  meta: { alwaysLoad: true, searchHint: "run command type input terminal shell ssh serial console send keys execute" },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  task: (input) => input.wait_for !== undefined,
  input: z.object({
    session_id: sessionId,
    input: z.string().describe("Text to type. A newline inside is sent as the line ending."),
    raw: bool.optional().describe("Send exactly `input`, no line ending added (for single keystrokes or partial lines)."),
    timeout_ms: int(0, 86_400_000).optional().describe("How long to wait for the output to complete (default 5000)."),
    wait_for: patterns.optional(),
    wait_for_timeout: num(0, 86_400).optional().describe("Seconds to wait for wait_for (default 10, up to 24 h)."),
    context_lines: int(0, 1000).optional().describe("With wait_for: lines before and after the match to return."),
    tail_lines: int(0, 10_000).optional().describe("With wait_for: last lines of output to return as tail."),
    auto_pager: bool.optional().describe("Answer pagers (--More-- …) during this command."),
    max_bytes: budgetBytes,
  }),
  output: z.looseObject({
    output: z.string().optional(),
    cursor: z.number(),
    cursor_start: z.number(),
    cursor_end: z.number().optional(),
    is_alive: z.boolean(),
    is_complete: z.boolean().optional(),
    exit_code: z.number().optional(),
    state: z.string().optional(),
    completion: z.enum(["exact", "heuristic"]).optional(),
    ...waitResultFields,
    is_truncated: z.boolean().optional(),
    elided,
  }),
  async run(input, { sessions, signal, progress }) {
    const session = sessions.getOrThrow(input.session_id);
    return session.sendInput({
      input: input.input,
      raw: input.raw,
      timeoutMs: input.timeout_ms ?? 5000,
      waitFor: input.wait_for,
      waitForTimeoutMs: (input.wait_for_timeout ?? 10) * 1000,
      contextLines: input.context_lines,
      tailLines: input.tail_lines,
      autoPager: input.auto_pager,
      maxBytes: input.max_bytes,
      signal,
      progress,
    });
  },
});
