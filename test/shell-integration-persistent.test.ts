// Shell integration in persistent sessions: the daemon hooks the shell, the markers travel to the
// MCP server's mirror with the raw bytes, and the mirror knows completion and exit codes exactly —
// also after a new server reattaches. Each test gets its own XDG_RUNTIME_DIR (its own daemon),
// killed at the end.
import { afterEach, describe, expect, test } from "bun:test";
import { alive, cleanupDaemons, runtimeDir, server, until } from "./harness/daemon.ts";
import { ASK_TERMINAL, plainBash } from "./harness/mcp.ts";

type R = Record<string, unknown>;
afterEach(cleanupDaemons);

describe("shell integration in persistent sessions", () => {
  test("exit codes and exact completion through the mirror; a new server's mirror is exact too", async () => {
    const rt = runtimeDir();
    const h1 = await server(rt);
    const s = await h1.call<R>("create_local_session", { ...plainBash, persistent: true });
    const id = s.session_id as string;
    await h1.call("read_output", { session_id: id, wait_for: "^\\$ $", timeout: 10 });
    const cases: [string, number, string][] = [
      ["true", 0, "$ "],
      ["false", 1, "$ "],
      ["(exit 3)", 3, "$ "],
      ["no_such_command_xyz", 127, "bash: no_such_command_xyz: command not found\n$ "],
    ];
    for (const [input, code, output] of cases) {
      expect(await h1.call<R>("send_input", { session_id: id, input })).toMatchObject({ output, exit_code: code, is_complete: true, completion: "exact", state: "at_prompt" });
    }
    expect(await h1.call<R>("get_session_state", { session_id: id })).toMatchObject({ persistent: true, shell_integration: true, shell: "bash", last_exit_code: 127, state: "at_prompt" });

    // The first server dies; a second one reattaches and its mirror reads the markers from the replay.
    process.kill(h1.transport.pid!, "SIGKILL");
    await until(() => !alive(h1.transport.pid!), "the MCP server to die");
    const h2 = await server(rt);
    expect(await h2.call<R>("create_local_session", { session_id: id })).toMatchObject({ session_id: id, reattached: true });
    expect(await h2.call<R>("get_session_state", { session_id: id })).toMatchObject({ shell_integration: true, shell: "bash", last_exit_code: 127, state: "at_prompt" });
    const paused = await h2.call<R>("send_input", { session_id: id, input: "echo part 1; sleep 1.5; echo 'part 2 >'; sleep 0.2; echo finished", timeout_ms: 10_000 });
    expect(paused).toMatchObject({ output: "part 1\npart 2 >\nfinished\n$ ", exit_code: 0, is_complete: true, completion: "exact" });
    const all = await h2.call<R>("read_output", { session_id: id, since_cursor: 0 });
    expect(all.output).toBe(
      "$ true\n$ false\n$ (exit 3)\n$ no_such_command_xyz\nbash: no_such_command_xyz: command not found\n" +
        "$ echo part 1; sleep 1.5; echo 'part 2 >'; sleep 0.2; echo finished\npart 1\npart 2 >\nfinished\n$ ",
    );
    await h2.call("close_session", { session_id: id });
  }, 60_000);

  test("shell_integration: false reaches the daemon: heuristic completion, no exit_code", async () => {
    const rt = runtimeDir();
    const h = await server(rt);
    const s = await h.call<R>("create_local_session", { ...plainBash, persistent: true, shell_integration: false });
    const id = s.session_id as string;
    await h.call("read_output", { session_id: id, wait_for: "^\\$ $", timeout: 10 });
    const r = await h.call<R>("send_input", { session_id: id, input: "false" });
    expect(r).toMatchObject({ output: "$ ", is_complete: true, completion: "heuristic" });
    expect(r.exit_code).toBeUndefined();
    const state = await h.call<R>("get_session_state", { session_id: id });
    expect(state).toMatchObject({ shell_integration: false });
    expect(state.shell).toBeUndefined();
    await h.call("close_session", { session_id: id });
  }, 60_000);

  test("the daemon's session answers the program's terminal queries, once (its mirrors do not)", async () => {
    const h = await server(runtimeDir());
    const s = await h.call<R>("create_local_session", { ...plainBash, persistent: true, cols: 80, rows: 24 });
    const id = s.session_id as string;
    await h.call("read_output", { session_id: id, wait_for: "^\\$ $", timeout: 10 });
    const r = await h.call<R>("send_input", { session_id: id, input: ASK_TERMINAL });
    await h.call("close_session", { session_id: id });
    expect({ output: r.output, exit_code: r.exit_code }).toEqual({ output: "$'\\E[5;10' $'\\E[?1;2' []\n$ ", exit_code: 0 });
  }, 60_000);

  test("a program that is no shell: heuristic, and get_session_state says the hook is off", async () => {
    const h = await server(runtimeDir());
    const s = await h.call<R>("create_local_session", { command: "python3 -q", env: { PYTHONSTARTUP: "" }, persistent: true });
    const id = s.session_id as string;
    await h.call("read_output", { session_id: id, wait_for: ">>> $", timeout: 10 });
    const r = await h.call<R>("send_input", { session_id: id, input: "1+1" });
    const state = await h.call<R>("get_session_state", { session_id: id });
    await h.call("close_session", { session_id: id });
    expect({ output: r.output, completion: r.completion, off: String(state.shell_integration).startsWith("off: ") }).toEqual({ output: "2\n>>> ", completion: "heuristic", off: true });
  }, 60_000);
});
