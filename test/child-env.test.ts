// Child processes get the user's environment without pty-mcp's own secrets and settings
// (issue #21 item 3, docs/security.md "Environment"): local sessions, the daemon, and daemon sessions.
import { afterEach, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RUNTIME_SETTINGS } from "../src/child-env.ts";
import { cleanupDaemons, daemonPid, runtimeDir, server } from "./harness/daemon.ts";
import { root } from "./harness/mcp.ts";

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

/** Our variables: PTY_MCP_ settings, the Bun runtime settings we run with, and the test's marker. */
const watched = (name: string) => name.startsWith("PTY_MCP_") || name === "USER_SETTING_KEPT" || Object.hasOwn(RUNTIME_SETTINGS, name);

/** Our variables as the child's `env` printed them. */
const printed = (output: string) => output.split("\n").filter((line) => watched(line.slice(0, line.indexOf("=")))).sort();

/** Our variables in a process's initial environment (/proc/PID/environ), as NAME=value. */
const watchedIn = (env: Record<string, string>) => Object.entries(env).filter(([name]) => watched(name)).map(([name, value]) => `${name}=${value}`).sort();

describe("child environment", () => {
  test("a local session, a persistent session and the daemon get the user's environment without pty-mcp's secrets; sessions get no PTY_MCP_ setting", async () => {
    const rt = runtimeDir();
    const h = await server(rt, ours);
    const local = await h.call<Json>("create_local_session", { command: "sh -c 'env; echo ENV-DONE; sleep 30'" });
    const localOut = await envOutput(h, local.session_id);
    const persistent = await h.call<Json>("create_local_session", { command: "sh -c 'env; echo ENV-DONE; sleep 30'", persistent: true });
    const persistentOut = await envOutput(h, persistent.session_id);
    expect({
      local: printed(localOut),
      persistent: printed(persistentOut),
      daemon: watchedIn(environOf(daemonPid(rt)!)),
    }).toEqual({
      local: ["USER_SETTING_KEPT=kept-1"],
      persistent: ["USER_SETTING_KEPT=kept-1"],
      // The daemon keeps its own settings (buffer size, retention, release dir), nothing secret, and runs with
      // Bun's idle GC timer off (RUNTIME_SETTINGS), which its sessions' programs do not get.
      daemon: ["BUN_GC_TIMER_DISABLE=1", "PTY_MCP_BUFFER_SIZE=1048576", "PTY_MCP_DAEMON_RETENTION=600", "PTY_MCP_RELEASE_DIR=/nonexistent/releases", "USER_SETTING_KEPT=kept-1"],
    });
  }, 60_000);

  test("a server started with our runtime settings (as the plugin launcher starts it): its local and persistent sessions' programs do not get them", async () => {
    const rt = runtimeDir();
    const h = await server(rt, { ...RUNTIME_SETTINGS, USER_SETTING_KEPT: "kept-2" });
    const local = await h.call<Json>("create_local_session", { command: "sh -c 'env; echo ENV-DONE; sleep 30'" });
    const localOut = await envOutput(h, local.session_id);
    const persistent = await h.call<Json>("create_local_session", { command: "sh -c 'env; echo ENV-DONE; sleep 30'", persistent: true });
    const persistentOut = await envOutput(h, persistent.session_id);
    expect({
      server: watchedIn(environOf(h.transport.pid!)),
      local: printed(localOut),
      persistent: printed(persistentOut),
      daemon: watchedIn(environOf(daemonPid(rt)!)),
    }).toEqual({
      server: ["BUN_GC_TIMER_DISABLE=1", "USER_SETTING_KEPT=kept-2"],
      local: ["USER_SETTING_KEPT=kept-2"],
      persistent: ["USER_SETTING_KEPT=kept-2"],
      daemon: ["BUN_GC_TIMER_DISABLE=1", "USER_SETTING_KEPT=kept-2"],
    });
  }, 60_000);

  test("the plugin launcher (plugin/scripts/launch.sh) starts the binary with exactly our runtime settings added", () => {
    // The installed "binary" is env(1): it prints the environment the launcher gives the server.
    const data = mkdtempSync(join(tmpdir(), `pty-mcp-launch-env-${process.pid}-`));
    try {
      mkdirSync(join(data, "bin"));
      copyFileSync("/usr/bin/env", join(data, "bin/pty-mcp"));
      const given = { PATH: process.env.PATH ?? "/usr/bin:/bin", CLAUDE_PLUGIN_ROOT: join(root, "plugin"), CLAUDE_PLUGIN_DATA: data, USER_SETTING_KEPT: "kept-3" };
      const run = Bun.spawnSync(["sh", join(root, "plugin/scripts/launch.sh")], { env: given, cwd: data, stdout: "pipe", stderr: "pipe" });
      const env = Object.fromEntries(run.stdout.toString().trim().split("\n").map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
      expect({ code: run.exitCode, stderr: run.stderr.toString(), env }).toEqual({ code: 0, stderr: "", env: { ...given, PWD: data, ...RUNTIME_SETTINGS } }); // PWD: the shell's own
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });

  test("an env given to create_local_session is passed as given, PTY_MCP_ names too (the agent asked for it)", async () => {
    const rt = runtimeDir();
    const h = await server(rt, ours);
    const local = await h.call<Json>("create_local_session", { command: "sh -c 'env; echo ENV-DONE; sleep 30'", env: { PTY_MCP_BUFFER_SIZE: "2048" } });
    expect(printed(await envOutput(h, local.session_id))).toEqual(["PTY_MCP_BUFFER_SIZE=2048", "USER_SETTING_KEPT=kept-1"]);
  }, 60_000);
});
