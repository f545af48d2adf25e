// create_local_session's work: the argv from `command`/`args`, the PTY, the session.
import { basename } from "node:path";
import { PtyError } from "../errors.ts";
import type { LocalDescription } from "../session/description.ts";
import { openSession } from "../session/open-session.ts";
import type { SessionRegistry } from "../session/registry.ts";
import type { Session } from "../session/session.ts";
import type { OutputSink } from "../session/sink.ts";
import type { Transport } from "../session/transport.ts";
import { splitCommandLine } from "./command-line.ts";
import { LocalTransport } from "./local-transport.ts";
import { instrumentShell } from "./shell-integration.ts";

export interface OpenLocalOptions {
  command?: string;
  args?: string[];
  cwd?: string;
  env?: Record<string, string>;
  name?: string;
  cols: number;
  rows: number;
  autoPager?: boolean;
  /** Opened once the program runs (see openSession). */
  sinks?: () => OutputSink[];
  /** Hook bash/zsh/fish for exact completion and exit codes (default true). */
  shellIntegration?: boolean;
  /** Hosted by the daemon (SPEC §5). */
  persistent?: boolean;
  /** Wraps the PTY before the session sees it (the daemon redacts held secrets from its output). */
  wrapTransport?: (transport: Transport) => Transport;
}

/** The user's login shell: $SHELL, else /bin/bash, else /bin/sh. */
export function defaultShell(): string {
  const shell = process.env.SHELL;
  if (shell && shell.startsWith("/")) return shell;
  return Bun.which("bash") ?? "/bin/sh";
}

/**
 * argv for a command line. Words are split like a POSIX shell splits them, without expansion
 * (SPEC §2). A line that uses shell syntax outside quotes (pipes, redirections, `$VAR`, `;`)
 * cannot mean anything as plain words, so it runs under `/bin/sh -c` as written.
 */
export function commandArgv(command: string | undefined, args: string[] | undefined): string[] {
  if (command === undefined || command.trim() === "") return [defaultShell(), ...(args ?? [])];
  const split = splitCommandLine(command);
  if (split.hasShellSyntax && !args?.length) return ["/bin/sh", "-c", command];
  if (split.words.length === 0) throw new PtyError("INVALID_ARGUMENT", "command is empty.");
  return [...split.words, ...(args ?? [])];
}

export async function openLocalSession(registry: SessionRegistry, options: OpenLocalOptions): Promise<Session> {
  let program = "";
  let hooked: ReturnType<typeof instrumentShell>;
  const { session } = await openSession(registry, {
    open: () => {
      const argv = commandArgv(options.command, options.args);
      program = basename(argv[0] ?? "");
      hooked = options.shellIntegration === false ? undefined : instrumentShell(argv, options.env);
      let transport: LocalTransport;
      try {
        transport = new LocalTransport({ argv: hooked?.argv ?? argv, cwd: options.cwd, env: { ...options.env, ...hooked?.env }, cols: options.cols, rows: options.rows });
      } catch (err) {
        hooked?.cleanup();
        throw err;
      }
      const instrumented = hooked;
      if (instrumented) transport.onExit(() => instrumented.cleanup());
      const target = options.command?.trim() ? [options.command.trim(), ...(options.args ?? [])].join(" ") : argv.join(" ");
      const description: LocalDescription = { type: "local", target, pid: transport.pid };
      if (hooked) description.shell = hooked.shell;
      return { transport: options.wrapTransport ? options.wrapTransport(transport) : transport, description };
    },
    sinks: options.sinks,
    name: options.name,
    size: { cols: options.cols, rows: options.rows },
    autoPager: options.autoPager,
    persistent: options.persistent,
  });
  // The shell was started with the hook: its first prompt will carry the marks.
  if (hooked && !session.shell.active) session.shell.pending = true;
  if (options.shellIntegration !== false) {
    session.shell.off = hooked
      ? "off: no prompt with the hook's marks drawn yet (the shell's rc files may replace the hook)"
      : `off: ${program} is not an interactive bash, zsh or fish`;
  }
  return session;
}
