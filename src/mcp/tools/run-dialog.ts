import { z } from "zod";
import { resolveLineEnding, sendSecret } from "../../secrets/secret-input.ts";
import { MAX_DIALOG_STEPS, runDialog as run } from "../../session/dialog.ts";
import { bool, budgetBytes, elided, int, num, sessionId } from "../params.ts";
import { defineTool } from "../tool.ts";

const pattern = z.string().min(1);

const step = z.object({
  expect: z
    .union([pattern, z.array(pattern).min(1).max(32)])
    .describe("Wait for this regular expression (RE2, matched per line after ANSI stripping, like wait_for), or a list of them."),
  send: z
    .union([z.string(), z.array(z.string()).min(1).max(32)])
    .optional()
    .describe('Then type this and the line ending ("" presses Enter). With a list of expect patterns, a list of the same length answers by the pattern that matched.'),
  key: z.string().min(1).optional().describe('Then press this send_control key instead ("ctrl+c", "enter", "space", "break"…).'),
  secret: bool.optional().describe("Then type a secret the human enters (as send_secret): for password prompts. Never put a password in send."),
  optional: bool.optional().describe("Skip this step when its prompt does not appear within its timeout, or when the next step's prompt appears first."),
  timeout: num(0, 86_400).optional().describe("Seconds to wait for this step's pattern (default 30)."),
});

export const runDialog = defineTool({
  name: "run_dialog",
  title: "Run an expect-style dialog",
  description:
    "Answer a terminal dialog's prompts in one call (an expect script): walk it server-side, like expect/pexpect: a login on a console or over ssh (Username:, Password:, enable), an installer's questions, a yes/no confirmation. " +
    "Each step waits until its expect pattern appears in the session's output (never the echo of what the dialog typed, never output from before the step), then types send (plus Enter), presses key, or types a secret from the human (secret: true). " +
    "expect may be a list with send a list of the same length: the answer for whichever matched. " +
    "Optional steps are skipped when their prompt does not come. Stops at the first step not seen in time: the result names failed_step and shows tail (what the program showed then). " +
    "The first step also sees the prompt the program is waiting at now.",
  meta: { searchHint: "expect dialog prompts answer login username password enable installer confirm console ssh telnet" },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  task: "optional",
  input: z.object({
    session_id: sessionId,
    steps: z.array(step).min(1).max(MAX_DIALOG_STEPS).describe("The dialog, in order: [{expect, send?|key?|secret?, optional?, timeout?}]."),
    timeout: num(0, 86_400).optional().describe("Seconds for the whole dialog (default 300)."),
    max_bytes: budgetBytes,
  }),
  output: z.object({
    completed: z.boolean(),
    failed_step: z.number().optional(),
    steps: z.array(
      z.object({
        index: z.number(),
        matched: z.boolean(),
        matched_index: z.number().optional(),
        match_line: z.string().optional(),
        skipped: z.boolean().optional(),
        elapsed_ms: z.number(),
      }),
    ),
    output: z.string(),
    cursor: z.number(),
    cursor_start: z.number(),
    state: z.string(),
    is_alive: z.boolean(),
    timed_out: z.boolean().optional(),
    cancelled: z.boolean().optional(),
    tail: z.string().optional(),
    error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean() }).optional(),
    warning: z.string().optional(),
    is_truncated: z.boolean().optional(),
    elided,
  }),
  async run(input, { sessions, signal, progress }) {
    const session = sessions.getOrThrow(input.session_id);
    return run(session, {
      steps: input.steps.map((s) => ({
        expect: s.expect,
        send: s.send,
        key: s.key,
        secret: s.secret,
        optional: s.optional,
        timeoutMs: s.timeout === undefined ? undefined : s.timeout * 1000,
      })),
      timeoutMs: (input.timeout ?? 300) * 1000,
      maxBytes: input.max_bytes,
      signal,
      progress,
      typeSecret: (target, abort) => sendSecret(target, { lineEnding: resolveLineEnding(target, undefined), signal: abort }),
    });
  },
});
