import { z } from "zod";
import type { SessionInfo } from "../../daemon/protocol.ts";
import { int } from "../params.ts";
import { defineTool } from "../tool.ts";
import { localLink, sshLink } from "./persistent.ts";

const daemonSession = z.looseObject({
  session_id: z.string(),
  name: z.string().optional(),
  type: z.string(),
  target: z.string(),
  pid: z.number().optional(),
  is_alive: z.boolean(),
  exit_code: z.number().nullable().optional(),
  exit_signal: z.string().optional(),
  state: z.string(),
  created_at: z.string(),
  last_used: z.string(),
  exited_at: z.string().optional(),
  expires_at: z.string().optional(),
  cols: z.number(),
  rows: z.number(),
  cursor: z.number(),
  cursor_start: z.number(),
  clients: z.number(),
  attached_here: z.boolean(),
});

export const listRemoteSessions = defineTool({
  name: "list_remote_sessions",
  title: "List persistent sessions",
  description:
    "List persistent sessions to reattach a session after a disconnect: persistent sessions held by a pty-mcp daemon, running and recently ended (kept 24 h with their exit code), whoever started them. " +
    "Without host: the local daemon (nothing is started just to list); reattach with create_local_session {session_id}. " +
    "With host: that host's daemon over SSH (connecting like create_ssh_session, installing pty-mcp there if missing); reattach with create_ssh_session {host, session_id}.",
  meta: { searchHint: "persistent session reattach resume after disconnect daemon remote host tmux list" },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    host: z.string().min(1).optional().describe("Remote host (SSH) whose daemon to list; omit for the local daemon."),
    user: z.string().optional().describe("SSH user for host."),
    port: int(1, 65535).optional().describe("SSH port for host."),
    status: z.enum(["running", "exited", "all"]).optional().describe("Which sessions: running, exited or all (default)."),
  }),
  output: z.looseObject({ host: z.string(), daemon_running: z.boolean(), sessions: z.array(daemonSession) }),
  async run(input, { sessions: registry, signal }) {
    const status = input.status ?? "all";
    if (input.host !== undefined) {
      const link = (await sshLink()).remoteLink({ host: input.host, ...(input.user ? { user: input.user } : {}), ...(input.port !== undefined ? { port: input.port } : {}) });
      const client = await link.client(signal);
      const { sessions } = await client.request({ type: "list" });
      const chosen = sessions.filter((s) => status === "all" || (status === "running") === s.is_alive);
      return { host: link.facts?.target ?? input.host, daemon_running: true, sessions: chosen.map((s) => describe(s, registry.get(s.id) !== undefined, "ssh")) };
    }
    const { sessions, running } = await (await localLink()).listDaemonSessions();
    const chosen = sessions.filter((s) => status === "all" || (status === "running") === s.is_alive);
    return { host: "localhost", daemon_running: running, sessions: chosen.map((s) => describe(s, registry.get(s.id) !== undefined)) };
  },
});

function describe(info: SessionInfo, attachedHere: boolean, type: string = info.type): z.input<typeof daemonSession> {
  const out: z.input<typeof daemonSession> = {
    session_id: info.id,
    type,
    target: info.target,
    is_alive: info.is_alive,
    state: info.state,
    created_at: info.created_at,
    last_used: info.last_used,
    cols: info.cols,
    rows: info.rows,
    cursor: info.end,
    cursor_start: info.start,
    clients: info.clients,
    attached_here: attachedHere,
  };
  if (info.name) out.name = info.name;
  if (info.pid !== undefined) out.pid = info.pid;
  if (info.exit) {
    out.exit_code = info.exit.code;
    if (info.exit.signal) out.exit_signal = info.exit.signal;
  }
  if (info.exited_at) out.exited_at = info.exited_at;
  if (info.expires_at) out.expires_at = info.expires_at;
  return out;
}
