/**
 * The environment pty-mcp gives the processes it starts (docs/security.md "Environment").
 * Children get the user's environment without pty-mcp's own secrets and settings: a session's
 * program could otherwise run the password lookup itself (PTY_MCP_SECRET_COMMAND) or forge audit
 * entries (PTY_MCP_AUDIT_TOKEN).
 */
type Env = Record<string, string | undefined>;

/** Hold a secret or a way to get one: no child process ever gets them, the daemon neither. */
export const SECRET_VARIABLES: readonly string[] = ["PTY_MCP_SECRET_COMMAND", "PTY_MCP_AUDIT_TOKEN", "PTY_MCP_SECRET_PROMPT"];

/** Every pty-mcp setting starts so; a session's program gets none of them (unless the agent passes one in `env`). */
export const OWN_VARIABLE_PREFIX = "PTY_MCP_";

function copyWithout(env: Env, drop: (name: string) => boolean): Record<string, string> {
  const copy: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined && !drop(name)) copy[name] = value;
  return copy;
}

/**
 * Bun runtime settings our own long-lived, mostly idle processes run with: the daemon (set here)
 * and the server as the plugin starts it (plugin/scripts/launch.sh exports the same; a test keeps
 * the two equal). Bun reads them once, when its VM starts, so the server cannot set them for
 * itself. BUN_GC_TIMER_DISABLE turns off Bun's own idle GC timer: a collection every second for
 * 30 s after start-up and after each heap growth, and full collections after 10 s, 2 min and 10 min
 * of quiet, ~0.03-0.05 CPU-s per 20 s in that window (bench M3); JSC's allocation-driven
 * collections still run. A session's program gets none of them (they tune pty-mcp, not the user's
 * programs) unless the agent passes one in `env`.
 */
export const RUNTIME_SETTINGS: Readonly<Record<string, string>> = { BUN_GC_TIMER_DISABLE: "1" };

/** For a session's program, local or in the daemon, and for the secret helper: no PTY_MCP_ variable, none of our runtime settings. */
export function sessionEnvironment(env: Env = process.env): Record<string, string> {
  return copyWithout(env, (name) => name.startsWith(OWN_VARIABLE_PREFIX) || Object.hasOwn(RUNTIME_SETTINGS, name));
}

/** For the daemon: our settings stay (it reads PTY_MCP_BUFFER_SIZE, PTY_MCP_DAEMON_RETENTION), our secrets do not; our runtime settings are added. */
export function daemonEnvironment(env: Env = process.env): Record<string, string> {
  return { ...copyWithout(env, (name) => SECRET_VARIABLES.includes(name)), ...RUNTIME_SETTINGS };
}
