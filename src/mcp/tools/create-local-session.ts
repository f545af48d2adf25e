import { z } from "zod";
import { openLocalSession } from "../../local/open-local.ts";
import { buildSinks } from "../../record/sinks.ts";
import type { Session } from "../../session/session.ts";
import { bool, createCommon, DEFAULT_COLS, DEFAULT_ROWS } from "../params.ts";
import { defineTool } from "../tool.ts";
import { localLink } from "./persistent.ts";

export const createLocalSession = defineTool({
  name: "create_local_session",
  title: "Start a local terminal",
  description:
    "Run commands in an interactive terminal on this machine and keep the session: a shell (default: the user's login shell), " +
    "a REPL (python, node, psql, mysql), or any program, on a local pseudo-terminal (PTY) that stays open between calls. " +
    '`command` may be a whole command line ("ping -c 3 127.0.0.1"): words are split like a shell splits them, without expansion; ' +
    "a line with pipes or redirections runs under /bin/sh -c. Returns the session_id the other tools take. " +
    "persistent: true runs it in the local pty-mcp daemon: it survives this server's exit, a human can watch it with `pty-mcp attach ID`, " +
    "and session_id reattaches to it later (cursors stay valid: read_output since_cursor continues where you were).",
  meta: { alwaysLoad: true, searchHint: "terminal shell bash zsh pty interactive command line repl console run execute local session tmux" },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input: z.object({
    command: z.string().optional().describe('Program or command line to run (default: $SHELL). Example: "python3", "ping -c 3 host", "tail -f /var/log/syslog".'),
    args: z.array(z.string()).optional().describe("Extra arguments, passed as they are."),
    cwd: z.string().optional().describe("Working directory (default: the server's)."),
    env: z.record(z.string(), z.string()).optional().describe("Extra environment variables."),
    persistent: bool.optional().describe("Run in the local daemon so the session survives this server's exit (started on demand)."),
    shell_integration: bool.optional().describe("Hook bash/zsh/fish so send_input knows exactly when a command ended and its exit_code (default true; false = prompt heuristics only)."),
    session_id: z.string().min(1).optional().describe("Reattach to a persistent session by id (list_remote_sessions lists them); the other parameters are ignored then."),
    ...createCommon,
  }),
  output: z.looseObject({
    session_id: z.string(),
    type: z.literal("local"),
    target: z.string(),
    name: z.string().optional(),
    cols: z.number(),
    rows: z.number(),
    pid: z.number().optional(),
    persistent: z.boolean().optional(),
    reattached: z.boolean().optional(),
    cursor: z.number().optional().describe("Persistent sessions: cursor after the newest output byte."),
    cursor_start: z.number().optional().describe("Persistent sessions: oldest output cursor held (read_output since_cursor works from here)."),
    read_cursor: z.number().optional(),
    is_alive: z.boolean().optional(),
    exit_code: z.number().nullable().optional(),
  }),
  async run(input, { sessions }) {
    if (input.session_id) {
      const { session, reattached } = await (await localLink()).reattachPersistent(sessions, input.session_id);
      return { ...persistentResult(session), reattached };
    }
    const cols = input.cols ?? DEFAULT_COLS;
    const rows = input.rows ?? DEFAULT_ROWS;
    const local = {
      command: input.command,
      args: input.args,
      cwd: input.cwd,
      env: input.env,
      name: input.name,
      cols,
      rows,
      autoPager: input.auto_pager,
      shellIntegration: input.shell_integration,
    };
    if (input.persistent) {
      const session = await (await localLink()).createPersistentLocal(sessions, { ...local, logFile: input.log_file, logMaxSize: input.log_max_size, logMaxFiles: input.log_max_files, record: input.record });
      return persistentResult(session);
    }
    const session = await openLocalSession(sessions, { ...local, sinks: () => buildSinks({ ...input, cols, rows }) });
    const result = { session_id: session.id, type: "local" as const, target: session.target, cols, rows, pid: localPid(session) as number };
    return input.name ? { ...result, name: input.name } : result;
  },
});

function persistentResult(session: Session) {
  const result: {
    session_id: string;
    type: "local";
    target: string;
    name?: string;
    cols: number;
    rows: number;
    pid?: number;
    persistent: true;
    cursor: number;
    cursor_start: number;
    read_cursor: number;
    is_alive: boolean;
    exit_code?: number | null;
  } = {
    session_id: session.id,
    type: "local",
    target: session.target,
    ...session.size,
    persistent: true,
    cursor: session.buffer.end,
    cursor_start: session.buffer.start,
    read_cursor: session.readMark,
    is_alive: session.isAlive,
  };
  if (session.name) result.name = session.name;
  const pid = localPid(session);
  if (pid !== undefined) result.pid = pid;
  if (session.exit) result.exit_code = session.exit.code;
  return result;
}

function localPid(session: Session): number | undefined {
  return session.description.type === "local" ? session.description.pid : undefined;
}
