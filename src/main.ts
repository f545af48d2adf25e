// One binary, many roles (SPEC §1): argv picks the role and only that role's code is loaded.
import { writeSync } from "node:fs";
import { basename } from "node:path";
import { VERSION } from "./version.ts";

const USAGE = `pty-mcp ${VERSION} — interactive terminals (local, SSH, serial, persistent) for AI agents over MCP

Usage:
  pty-mcp [serve]                         MCP server on stdio (register it with your MCP client)
  pty-mcp daemon [--socket P] [--foreground]
                                          persistent-session daemon
  pty-mcp client [--socket P]             bridge stdin/stdout to the daemon
  pty-mcp sessions [--json]               list the daemon's sessions
  pty-mcp attach ID                       attach your terminal to a persistent session
                                          (detach: ctrl+] then d)
  pty-mcp deploy HOST [--user U] [--port N] [--path P]
                                          copy this binary to a host over SSH
  pty-mcp audit init|enable|disable|serve|verify
  pty-mcp ai-tmux server|client|list      compatibility aliases
  pty-mcp --version | --help

Register with Claude Code:  claude mcp add pty-mcp -- /path/to/pty-mcp
`;

/** To stdout without process.stdout, whose first use loads node:stream (~9 ms, most of a --version). */
function print(text: string): void {
  const bytes = Buffer.from(text);
  let written = 0;
  try {
    written = writeSync(1, bytes);
  } catch {}
  // A short write, or a non-blocking stdout that is full: the rest the slow, sure way.
  if (written < bytes.length) process.stdout.write(bytes.subarray(written));
}

type Role = (args: string[]) => Promise<number>;

const ROLES: Record<string, () => Promise<Role>> = {
  serve: async () => (await import("./cli/serve.ts")).main,
  audit: async () => (await import("./cli/audit.ts")).main,
  daemon: async () => (await import("./cli/daemon.ts")).main,
  client: async () => (await import("./cli/client.ts")).main,
  sessions: async () => (await import("./cli/sessions.ts")).main,
  attach: async () => (await import("./cli/attach.ts")).main,
  deploy: async () => (await import("./cli/deploy.ts")).main,
};

/** Roles named in SPEC §1 that this build does not have yet. */
const PLANNED = new Set<string>([]);

async function run(argv: string[]): Promise<number> {
  let args = argv;
  // Invoked through a link named ai-tmux: behave as `pty-mcp ai-tmux …`.
  if (basename(process.argv0) === "ai-tmux" || basename(process.execPath) === "ai-tmux") args = ["ai-tmux", ...args];
  if (args[0] === "ai-tmux") {
    const alias: Record<string, string> = { server: "daemon", client: "client", list: "sessions" };
    const target = args[1] ? alias[args[1]] : undefined;
    if (!target) {
      process.stderr.write("usage: pty-mcp ai-tmux server|client|list\n");
      return 2;
    }
    args = [target, ...args.slice(2)];
  }
  // The Go original took its audit flags without a verb: `pty-mcp --audit-url URL`.
  if (args[0]?.startsWith("--audit-")) args = ["serve", ...args];
  const verb = args[0] ?? "serve";
  if (verb === "--version" || verb === "-V" || verb === "version") {
    print(`pty-mcp ${VERSION}\n`);
    return 0;
  }
  if (verb === "--help" || verb === "-h" || verb === "help") {
    print(USAGE);
    return 0;
  }
  const role = ROLES[verb];
  if (role) return (await role())(args.slice(1));
  if (PLANNED.has(verb)) {
    process.stderr.write(`pty-mcp: "${verb}" is not available in this build yet.\n`);
    return 2;
  }
  process.stderr.write(`pty-mcp: unknown command "${verb}".\n\n${USAGE}`);
  return 2;
}

process.exitCode = await run(process.argv.slice(2));
// Roles that finish their work return; anything still holding the loop (timers, sockets) must not keep us alive.
process.exit(process.exitCode);
