import { z } from "zod";
import { PtyError } from "../../errors.ts";
import { elided, int, num, patterns, sessionId, waitResultFields } from "../params.ts";
import { defineTool } from "../tool.ts";

export const readOutput = defineTool({
  name: "read_output",
  title: "Read output",
  description:
    "Read a terminal session's output, or wait until a line matching a pattern appears (tail a log until an error, wait for a prompt or boot message). " +
    "ANSI stripped. Three modes: settle (default) returns what is new once output pauses; " +
    "incremental (since_cursor, with max_bytes) reads from an absolute cursor; wait (wait_for) blocks until a line matches " +
    "— use it instead of sleeping: it watches for up to 24 h, sends progress, stops on cancel, and returns at once if the program exits.",
  meta: { alwaysLoad: true, maxResultSizeChars: 100_000, searchHint: "read output wait until line match pattern tail log watch expect prompt terminal console" },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  task: (input) => input.wait_for !== undefined,
  input: z.object({
    session_id: sessionId,
    timeout: num(0, 86_400).optional().describe("Seconds: wait mode default 30 (up to 24 h); settle mode default 5 (the most it waits for output to pause)."),
    wait_for: patterns.optional(),
    context_lines: int(0, 1000).optional().describe("Wait mode: lines before and after the matching line to return."),
    tail_lines: int(0, 10_000).optional().describe("Wait mode: last lines of output to return as tail."),
    since_cursor: int(0, Number.MAX_SAFE_INTEGER).optional().describe("Incremental mode: read from this cursor (from an earlier result)."),
    max_bytes: int(1, 16 * 1024 * 1024).optional().describe(
      "Most output bytes to return. Incremental mode: exact bytes from since_cursor, default 65536, has_more says if there is more. " +
        "Settle mode: default 16384; beyond it the first 2 KiB and the end, with a line naming the read_output call for the middle (elided).",
    ),
  }),
  output: z.looseObject({
    output: z.string().optional(),
    cursor: z.number(),
    cursor_start: z.number().optional(),
    has_more: z.boolean().optional(),
    is_truncated: z.boolean().optional(),
    is_alive: z.boolean(),
    state: z.string().optional(),
    ...waitResultFields,
    elided,
    exit_code: z.number().nullable().optional(),
  }),
  async run(input, { sessions, signal, progress }) {
    const session = sessions.getOrThrow(input.session_id);
    const withExit = <T extends object>(result: T) => (session.exit ? { ...result, exit_code: session.exit.code } : result);
    if (input.since_cursor !== undefined && input.since_cursor > session.buffer.end) throw cursorError(input.since_cursor, session.buffer.end);
    if (input.wait_for !== undefined) {
      return withExit(
        await session.waitFor({
          waitFor: input.wait_for,
          from: input.since_cursor,
          timeoutMs: (input.timeout ?? 30) * 1000,
          contextLines: input.context_lines,
          tailLines: input.tail_lines,
          signal,
          progress,
        }),
      );
    }
    if (input.since_cursor !== undefined) {
      return withExit(session.read({ since: input.since_cursor, maxBytes: input.max_bytes }));
    }
    return withExit(await session.readSettled({ timeoutMs: (input.timeout ?? 5) * 1000, maxBytes: input.max_bytes, signal }));
  },
});

function cursorError(cursor: number, end: number): PtyError {
  return new PtyError("INVALID_ARGUMENT", `since_cursor ${cursor} is beyond the end of the output (${end}). Use a cursor from an earlier result.`);
}
