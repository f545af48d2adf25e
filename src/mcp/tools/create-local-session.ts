import { z } from "zod";
import { openLocalSession } from "../../local/open-local.ts";
import { buildSinks } from "../../record/sinks.ts";
import { PtyError } from "../../errors.ts";
import { bool, createCommon, DEFAULT_COLS, DEFAULT_ROWS } from "../params.ts";
import { defineTool } from "../tool.ts";

export const createLocalSession = defineTool({
  name: "create_local_session",
  title: "Start a local terminal",
  description:
    "Start a program on a local pseudo-terminal: a shell (default: the user's login shell), a REPL, or any command. " +
    '`command` may be a whole command line ("ping -c 3 127.0.0.1"): words are split like a shell splits them, without expansion; ' +
    "a line with pipes or redirections runs under /bin/sh -c. Returns the session_id the other tools take.",
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input: z.object({
    command: z.string().optional().describe('Program or command line to run (default: $SHELL). Example: "python3", "ping -c 3 host", "tail -f /var/log/syslog".'),
    args: z.array(z.string()).optional().describe("Extra arguments, passed as they are."),
    cwd: z.string().optional().describe("Working directory (default: the server's)."),
    env: z.record(z.string(), z.string()).optional().describe("Extra environment variables."),
    persistent: bool.optional().describe("Run in the local daemon so the session survives this server's exit."),
    session_id: z.string().optional().describe("Reattach to a persistent session by id."),
    shell_integration: bool.optional().describe("Hook bash/zsh so send_input knows exactly when a command ended and its exit_code (default true; false = prompt heuristics only)."),
    ...createCommon,
  }),
  output: z.looseObject({
    session_id: z.string(),
    type: z.literal("local"),
    target: z.string(),
    name: z.string().optional(),
    cols: z.number(),
    rows: z.number(),
    pid: z.number(),
  }),
  async run(input, { sessions }) {
    if (input.persistent || input.session_id) {
      throw new PtyError("INVALID_ARGUMENT", "Persistent sessions (persistent, session_id) need the pty-mcp daemon, which this build does not include yet. Omit them to run the session in this server.");
    }
    const cols = input.cols ?? DEFAULT_COLS;
    const rows = input.rows ?? DEFAULT_ROWS;
    const session = openLocalSession(sessions, {
      command: input.command,
      args: input.args,
      cwd: input.cwd,
      env: input.env,
      name: input.name,
      cols,
      rows,
      autoPager: input.auto_pager,
      shellIntegration: input.shell_integration,
      sinks: buildSinks({ ...input, cols, rows }),
    });
    const result = { session_id: session.id, type: "local" as const, target: session.target, cols, rows, pid: session.details.pid as number };
    return input.name ? { ...result, name: input.name } : result;
  },
});
