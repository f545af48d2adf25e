// Child processes get the user's environment without pty-mcp's own secrets and settings
// (issue #21 item 3, docs/security.md "Environment"): local sessions, the daemon, and daemon sessions.
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { cleanupDaemons, daemonPid, runtimeDir, server } from "./harness/daemon.ts";

afterEach(cleanupDaemons);

type Json = Record<string, unknown>;
type Harness = Awaited<ReturnType<typeof server>>;

/** Everything the session printed up to ENV-DONE. */
async function envOutput(h: Harness, sessionId: unknown): Promise<string> {
  await h.call<Json>("read_output", { session_id: sessionId, wait_for: "^ENV-DONE", timeout: 20 });
  const all = await h.call<Json>("read_output", { session_id: sessionId, since_cursor: 0, max_bytes: 262144 });
  return all.output as string;
}

const ours = {
  PTY_MCP_SECRET_COMMAND: "echo the-password-lookup",
  PTY_MCP_AUDIT_TOKEN: "b".repeat(64),
  PTY_MCP_SECRET_PROMPT: "not ours to pass on",
  PTY_MCP_BUFFER_SIZE: "1048576",
  PTY_MCP_DAEMON_RETENTION: "600",
  PTY_MCP_RELEASE_DIR: "/nonexistent/releases",
  USER_SETTING_KEPT: "kept-1",
};

function environOf(pid: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of readFileSync(`/proc/${pid}/environ`, "latin1").split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** The PTY_MCP_ variables and our marker as the child's `env` printed them. */
const printed = (output: string) => output.split("\n").filter((line) => /^(PTY_MCP_|USER_SETTING_KEPT=)/.test(line)).sort();

describe("child environment", () => {
  test("a local session, a persistent session and the daemon get the user's environment without pty-mcp's secrets; sessions get no PTY_MCP_ setting", async () => {
    const rt = runtimeDir();
    const h = await server(rt, ours);
    const local = await h.call<Json>("create_local_session", { command: "sh -c 'env; echo ENV-DONE; sleep 30'" });
    const localOut = await envOutput(h, local.session_id);
    const persistent = await h.call<Json>("create_local_session", { command: "sh -c 'env; echo ENV-DONE; sleep 30'", persistent: true });
    const persistentOut = await envOutput(h, persistent.session_id);
    const daemonEnv = environOf(daemonPid(rt)!);
    const daemonOurs = Object.keys(daemonEnv).filter((k) => k.startsWith("PTY_MCP_") || k === "USER_SETTING_KEPT").sort();
    expect({
      local: printed(localOut),
      persistent: printed(persistentOut),
      daemon: daemonOurs,
    }).toEqual({
      local: ["USER_SETTING_KEPT=kept-1"],
      persistent: ["USER_SETTING_KEPT=kept-1"],
      // The daemon keeps its own settings (buffer size, retention, release dir) and nothing secret.
      daemon: ["PTY_MCP_BUFFER_SIZE", "PTY_MCP_DAEMON_RETENTION", "PTY_MCP_RELEASE_DIR", "USER_SETTING_KEPT"],
    });
  }, 60_000);

  test("an env given to create_local_session is passed as given, PTY_MCP_ names too (the agent asked for it)", async () => {
    const rt = runtimeDir();
    const h = await server(rt, ours);
    const local = await h.call<Json>("create_local_session", { command: "sh -c 'env; echo ENV-DONE; sleep 30'", env: { PTY_MCP_BUFFER_SIZE: "2048" } });
    expect(printed(await envOutput(h, local.session_id))).toEqual(["PTY_MCP_BUFFER_SIZE=2048", "USER_SETTING_KEPT=kept-1"]);
  }, 60_000);
});
