// Fields shared by several tools. Numbers and booleans are also accepted as strings ("5000",
// "true"): some MCP clients send them so (SPEC §2).
import { z } from "zod";

export const sessionId = z.string().min(1).describe("Session id returned by a create_* tool (list_sessions shows them).");

/** An integer in [min, max], given as a number or a numeric string. */
export function int(min: number, max: number) {
  return z
    .union([z.number(), z.string().trim().regex(/^-?\d+(?:\.\d+)?$/, "expected a number")])
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

/** A number in [min, max] (fractions allowed), given as a number or a numeric string. */
export function num(min: number, max: number) {
  return z
    .union([z.number(), z.string().trim().regex(/^-?\d+(?:\.\d+)?$/, "expected a number")])
    .transform(Number)
    .pipe(z.number().min(min).max(max));
}

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off", ""]);

/** A boolean, also from "true"/"false"/"1"/"0" (z.coerce.boolean would turn "false" into true). */
export const bool = z
  .union([z.boolean(), z.string().trim().toLowerCase().refine((s) => TRUE.has(s) || FALSE.has(s), "expected true or false")])
  .transform((v) => (typeof v === "boolean" ? v : TRUE.has(v)));

export const patterns = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1).max(32)])
  .describe("Regular expression (RE2 syntax, matched per line after ANSI stripping) or a list of them; the result's matched_index says which matched. An invalid regex is matched as plain text, with a warning.");

/** Fields of a wait result (SPEC §3 read_output wait mode), shared by read_output and send_input. */
export const waitResultFields = {
  matched: z.boolean().optional(),
  timed_out: z.boolean().optional(),
  match_line: z.string().optional(),
  matched_index: z.number().optional(),
  context: z.string().optional(),
  tail: z.string().optional(),
  warning: z.string().optional(),
  cancelled: z.boolean().optional(),
};

/** The middle of a result over its budget, left out (SPEC §11); the output has a line naming the read_output call that returns it. */
export const elided = z
  .object({ from_cursor: z.number(), to_cursor: z.number(), bytes: z.number(), lines: z.number() })
  .optional()
  .describe("Output left out of the middle of this result (it was over max_bytes): read it with read_output {since_cursor: from_cursor, max_bytes: bytes}.");

/** max_bytes of send_input, settle-mode read_output and run_dialog. */
export const budgetBytes = int(256, 16 * 1024 * 1024)
  .optional()
  .describe("Most output bytes to return (default 16384): beyond it the first 2 KiB and the end are returned, with a line saying what was left out and the read_output call that returns it (elided).");

/** Parameters every create_* tool takes (SPEC §2). */
export const createCommon = {
  name: z.string().max(200).optional().describe("A label for list_sessions."),
  cols: int(2, 1000).optional().describe("Terminal width in columns (default 120)."),
  rows: int(2, 1000).optional().describe("Terminal height in rows (default 40)."),
  log_file: z.string().min(1).optional().describe("Append the session's output, as plain text, to this file (created 0600)."),
  log_max_size: num(0, 1_000_000)
    .refine((mb) => mb === 0 || mb >= 0.01, "log_max_size is 0 (never rotate) or at least 0.01 MB")
    .optional()
    .describe("Rotate log_file when it exceeds this many MB (default 10; at least 0.01; 0 = never)."),
  log_max_files: int(1, 100).optional().describe("Log files kept in all, the live one included (default 3)."),
  record: z.string().min(1).optional().describe("Record the session as an asciicast v2 file at this path (created 0600; play it with `asciinema play`). Typed secrets are never in it."),
  auto_pager: bool.optional().describe("Answer pagers (--More--, -- MORE --, Press any key…) by itself so long outputs come back whole."),
};

export const DEFAULT_COLS = 120;
export const DEFAULT_ROWS = 40;

/** Spellings of a line ending that survive clients and prompts that cannot send a bare CR. */
const LINE_ENDING_NAMES: Record<string, string> = { cr: "\r", lf: "\n", crlf: "\r\n", none: "" };

/** "\r", "\r\n" as characters, the escaped forms `\r`/`\n` as typed in a prompt, or cr/lf/crlf/none; undefined when it is none of them. */
export function lineEnding(value: string): string | undefined {
  const named = LINE_ENDING_NAMES[value.trim().toLowerCase()];
  if (named !== undefined) return named;
  if (/^(?:\\[rn])+$/.test(value)) return value.replaceAll("\\r", "\r").replaceAll("\\n", "\n");
  if (/^[\r\n]*$/.test(value)) return value;
  return undefined;
}
