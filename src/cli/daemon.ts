// `pty-mcp daemon [--socket P] [--foreground] [--retention SECONDS]` (alias `ai-tmux server`):
// the persistent-session daemon. Without --foreground it starts one in the background
// (detached, logging to daemon.log beside the socket) and returns once it listens.
import { dirname, join } from "node:path";
import { isNotRunning, openDaemonSocket, startDaemon } from "../daemon-client/client.ts";
import { Daemon, DaemonRunning } from "../daemon/daemon.ts";
import { ensureSocketDirectory, LOG_NAME, readDaemonPid } from "../daemon/socket-path.ts";
import { errorMessage } from "../errors.ts";
import { installMemoryReport } from "./memory-report.ts";
import { parseOptions, SOCKET_OPTION, socketPathOf } from "./options.ts";

const USAGE = "usage: pty-mcp daemon [--socket PATH] [--foreground] [--retention SECONDS]\n";
/** Exit status of `--foreground` when another daemon holds the socket (client.ts waits for that one). */
export const EXIT_ALREADY_RUNNING = 3;

export async function main(args: string[]): Promise<number> {
  const parsed = parseOptions("daemon", USAGE, args, {
    flags: { foreground: ["--foreground", "-f"] },
    values: { ...SOCKET_OPTION, retention: { names: ["--retention"], valid: /^\d+(\.\d+)?$/ } },
  });
  if (typeof parsed === "number") return parsed;
  const socketPath = socketPathOf(parsed.values);
  const foreground = parsed.flags.foreground;
  const retentionMs = parsed.values.retention !== undefined ? Number(parsed.values.retention) * 1000 : retentionFromEnv();
  return foreground ? runForeground(socketPath, retentionMs) : startBackground(socketPath);
}

/** PTY_MCP_DAEMON_RETENTION: seconds an ended session is kept (default 24 h). */
function retentionFromEnv(): number | undefined {
  const value = process.env.PTY_MCP_DAEMON_RETENTION;
  return value && /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : undefined;
}

async function runForeground(socketPath: string, retentionMs: number | undefined): Promise<number> {
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({ socketPath, retentionMs, log });
  } catch (err) {
    if (err instanceof DaemonRunning) {
      process.stderr.write(`pty-mcp daemon: already running (pid ${readDaemonPid(socketPath) ?? "?"}) on ${socketPath}\n`);
      return EXIT_ALREADY_RUNNING;
    }
    process.stderr.write(`pty-mcp daemon: ${errorMessage(err)}\n`);
    return 1;
  }
  installMemoryReport("daemon", () => daemon.counts());
  // The line a starter waits for (client.ts startDaemon): from here the socket accepts connections.
  process.stdout.write(`pty-mcp daemon listening on ${socketPath} (pid ${process.pid})\n`);
  // Nothing else goes to stdout: a starter stops reading it.
  process.stdout.on("error", () => undefined);
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log(`${signal}: stopping`);
      void daemon.stop().then(() => resolve(0));
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGHUP", () => stop("SIGHUP"));
  });
}

async function startBackground(socketPath: string): Promise<number> {
  try {
    const socket = await openDaemonSocket({ socketPath, autostart: false });
    socket.destroy();
    process.stdout.write(`pty-mcp daemon: already running (pid ${readDaemonPid(socketPath) ?? "?"}) on ${socketPath}\n`);
    return 0;
  } catch (err) {
    if (!isNotRunning(err)) {
      process.stderr.write(`pty-mcp daemon: ${errorMessage(err)}\n`);
      return 1;
    }
  }
  try {
    ensureSocketDirectory(socketPath, { create: true });
    const socket = await startDaemon(socketPath);
    socket.destroy();
  } catch (err) {
    process.stderr.write(`pty-mcp daemon: ${errorMessage(err)}\n`);
    return 1;
  }
  process.stdout.write(`pty-mcp daemon started (pid ${readDaemonPid(socketPath) ?? "?"}) on ${socketPath}; log: ${join(dirname(socketPath), LOG_NAME)}\n`);
  return 0;
}
