// get_session_state / list_sessions view of a session (SPEC §3).
import { z } from "zod";
import { describedFacts } from "../session/description.ts";
import type { Session } from "../session/session.ts";

export const sessionStateShape = z.looseObject({
  session_id: z.string(),
  name: z.string().optional(),
  type: z.string(),
  target: z.string(),
  is_alive: z.boolean(),
  exit_code: z.number().nullable().optional(),
  exit_signal: z.string().optional(),
  exit_reason: z.string().optional(),
  cursor: z.number(),
  read_cursor: z.number(),
  state: z.enum(["at_prompt", "password_prompt", "confirmation", "pager", "running", "unknown"]),
  awaiting_secret: z.boolean(),
  last_prompt: z.string().optional(),
  cli_mode: z.string().optional(),
  echo_off: z.boolean().optional(),
  created_at: z.string(),
  last_used: z.string(),
  cols: z.number(),
  rows: z.number(),
  persistent: z.boolean(),
  auto_pager: z.boolean(),
  shell_integration: z.union([z.boolean(), z.string()]).describe('true: hooked (exact completion, exit codes); false: not asked for; "off: …": why not'),
  last_exit_code: z.number().optional(),
  connected: z.boolean().optional().describe("Persistent over SSH: whether the link to the remote daemon is up now (asking reconnects it when it is down)."),
  reconnect: z
    .object({
      since: z.string().describe("When the link was lost (ISO 8601)."),
      attempts: z.number().describe("Attempts to reconnect since then that failed (each tool call on the session starts another round)."),
      last_error: z.looseObject({ code: z.string(), message: z.string(), retryable: z.boolean() }).optional().describe("Why the last attempt failed (e.g. SSH_CONN_FAILED refused, SSH_HOST_KEY_MISMATCH with its fingerprint)."),
    })
    .optional()
    .describe("Only while connected is false: the link being brought back."),
});

export type SessionStateInfo = z.input<typeof sessionStateShape>;

export function sessionState(session: Session): SessionStateInfo {
  const c = session.classify();
  const { cols, rows } = session.size;
  const info: SessionStateInfo = {
    session_id: session.id,
    type: session.type,
    target: session.target,
    is_alive: session.isAlive,
    cursor: session.buffer.end,
    read_cursor: session.readMark,
    state: c.state,
    awaiting_secret: session.awaitingSecret,
    created_at: session.createdAt.toISOString(),
    last_used: session.lastUsed.toISOString(),
    cols,
    rows,
    persistent: session.persistent,
    auto_pager: session.autoPager,
    shell_integration: session.shell.active || (session.shell.off ?? false),
    ...describedFacts(session.description),
  };
  // A link that can drop and come back (a remote daemon): whether it is up now.
  const connected = session.transport.capabilities?.connected;
  if (connected) info.connected = connected();
  // While it is down: since when, the failed attempts to bring it back and why the last one failed.
  const down = info.connected === false ? session.transport.capabilities?.linkDown?.() : undefined;
  if (down) info.reconnect = down;
  // A serial line behind a network server (RFC 2217): what the server answers now.
  const lineSettings = session.transport.capabilities?.lineSettings;
  if (lineSettings) info.settings = lineSettings();
  if (session.name) info.name = session.name;
  const exit = session.exit;
  if (exit) {
    info.exit_code = exit.code;
    if (exit.signal) info.exit_signal = exit.signal;
    if (exit.reason) info.exit_reason = exit.reason;
  }
  const prompt = c.prompt ?? session.lastPrompt;
  if (prompt) info.last_prompt = prompt;
  if (c.cliMode) info.cli_mode = c.cliMode;
  const lastExit = session.shellIntegration.lastExitCode;
  if (lastExit !== undefined) info.last_exit_code = lastExit;
  if (c.echoOff !== undefined) info.echo_off = c.echoOff;
  return info;
}
