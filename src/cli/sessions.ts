// `pty-mcp sessions [--json] [--socket P]` (alias `ai-tmux list`): the daemon's sessions for
// humans, or as JSON for scripts. Never starts a daemon: none running means no sessions.
import { connectDaemon, isNotRunning } from "../daemon-client/client.ts";
import type { SessionInfo } from "../daemon/protocol.ts";
import { errorMessage } from "../errors.ts";
import { VERSION } from "../version.ts";
import { parseOptions, SOCKET_OPTION, socketPathOf } from "./options.ts";

const USAGE = "usage: pty-mcp sessions [--json] [--socket PATH]\n";

export async function main(args: string[]): Promise<number> {
  const parsed = parseOptions("sessions", USAGE, args, { flags: { json: ["--json"] }, values: SOCKET_OPTION });
  if (typeof parsed === "number") return parsed;
  const socketPath = socketPathOf(parsed.values);
  const json = parsed.flags.json;
  let sessions: SessionInfo[];
  try {
    const client = await connectDaemon({ socketPath, autostart: false, client: `pty-mcp ${VERSION} sessions` });
    ({ sessions } = await client.request({ type: "list" }));
    client.close();
  } catch (err) {
    if (!isNotRunning(err)) {
      process.stderr.write(`pty-mcp sessions: ${errorMessage(err)}\n`);
      return 1;
    }
    if (json) process.stdout.write(`${JSON.stringify({ daemon_running: false, sessions: [] })}\n`);
    else process.stdout.write(`No pty-mcp daemon is running (${socketPath}).\n`);
    return 0;
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ daemon_running: true, sessions })}\n`);
    return 0;
  }
  if (sessions.length === 0) {
    process.stdout.write("No persistent sessions.\n");
    return 0;
  }
  const rows = [["ID", "NAME", "STATUS", "CLIENTS", "SIZE", "CREATED", "COMMAND"]];
  for (const s of sessions) {
    rows.push([s.id, s.name ?? "", status(s), String(s.clients), `${s.cols}x${s.rows}`, s.created_at.replace("T", " ").slice(0, 19), s.target]);
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  for (const r of rows) process.stdout.write(`${r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!))).join("  ")}\n`);
  return 0;
}

function status(s: SessionInfo): string {
  if (s.is_alive) return s.state === "unknown" ? "running" : `running (${s.state})`;
  if (!s.exit) return "ended";
  return s.exit.signal ? `ended (${s.exit.signal})` : `ended (exit ${s.exit.code})`;
}
