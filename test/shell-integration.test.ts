// Exact command completion and exit codes through the shell hook (OSC 133), end to end.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until } from "./harness/daemon.ts";
import { McpHarness, plainBash } from "./harness/mcp.ts";

let h: McpHarness;
let home: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "pty-mcp-home-"));
  // The user's own rc: an alias, a prompt of their own and a PROMPT_COMMAND that must keep working.
  writeFileSync(
    join(home, ".bashrc"),
    `[ -n "$SLOW_RC" ] && sleep 0.5\nalias hello='echo hello-from-alias'\nPS1='myprompt> '\nPROMPT_COMMAND='__user_pc=ran'\nHISTFILE=${join(home, ".bash_history")}\n`,
  );
  writeFileSync(join(home, ".zshrc"), "PS1='zsh%% '\nalias zhello='echo zsh-alias'\n");
  h = await McpHarness.start({ env: { HOME: home } });
});

afterAll(async () => {
  await h.close();
  rmSync(home, { recursive: true, force: true });
});

type R = Record<string, unknown>;

async function start(args: R, prompt: string): Promise<string> {
  const s = await h.call<{ session_id: string }>("create_local_session", args);
  const first = await h.call<R>("read_output", { session_id: s.session_id, wait_for: prompt, timeout: 10 });
  expect(first.matched).toBe(true);
  return s.session_id;
}


/**
 * resize_session, then send_input at once, with the shell's SIGWINCH prompt redraw made to come after
 * the send: the shell is stopped (SIGSTOP) over the resize and until the server has taken the send
 * (a later call on the same connection is answered after it), then continued — it redraws its prompt,
 * then reads the line. The redraw must not be taken for the prompt after the command.
 */
async function resizeThenSend(id: string, pidOf: string): Promise<R[]> {
  const pid = Number(String((await h.call<R>("send_input", { session_id: id, input: `echo ${pidOf}` })).output).split("\n")[0]);
  const results: R[] = [];
  for (const [cols, rows] of [[100, 30], [61, 20], [132, 43]] as const) {
    process.kill(pid, "SIGSTOP");
    await h.call("resize_session", { session_id: id, cols, rows });
    const sent = h.call<R>("send_input", { session_id: id, input: "sleep 0.5; echo done" });
    await h.call("get_session_state", { session_id: id });
    process.kill(pid, "SIGCONT");
    const r = await sent;
    results.push({ output: r.output, exit_code: r.exit_code, is_complete: r.is_complete, completion: r.completion });
  }
  const empty = await h.call<R>("send_input", { session_id: id, input: "" });
  results.push({ output: empty.output, is_complete: empty.is_complete, completion: empty.completion });
  return results;
}

const afterResize = (prompt: string) => [
  ...Array.from({ length: 3 }, () => ({ output: `done\n${prompt}`, exit_code: 0, is_complete: true, completion: "exact" })),
  { output: prompt, is_complete: true, completion: "exact" },
];

describe("shell integration (bash)", () => {
  test("exit codes: true 0, false 1, exit 3 in a subshell, unknown command 127", async () => {
    const id = await start(plainBash, "^\\$ $");
    const cases: [string, number, string][] = [
      ["true", 0, "$ "],
      ["false", 1, "$ "],
      ["(exit 3)", 3, "$ "],
      ["no_such_command_xyz", 127, "bash: no_such_command_xyz: command not found\n$ "],
    ];
    for (const [input, code, output] of cases) {
      const r = await h.call<R>("send_input", { session_id: id, input });
      expect(r).toMatchObject({ output, exit_code: code, is_complete: true, completion: "exact", state: "at_prompt" });
    }
    const state = await h.call<R>("get_session_state", { session_id: id });
    expect(state).toMatchObject({ shell_integration: true, last_exit_code: 127, state: "at_prompt", shell: "bash" });
    await h.call("close_session", { session_id: id });
  });

  test("send_input right after resize_session at the very first prompt (bash --norc: the hook installed by PROMPT_COMMAND there): the redraw is not the command's prompt", async () => {
    // No command ran yet: the first prompt must carry a D like every later one, or its SIGWINCH redraw
    // counts as the prompt after the command (output "$ ", 5 of 5 before the fix; local-session saw it once).
    const s = await h.call<{ session_id: string; pid: number }>("create_local_session", plainBash);
    await h.call("read_output", { session_id: s.session_id, wait_for: "^\\$ $", timeout: 10 });
    process.kill(s.pid, "SIGSTOP");
    await h.call("resize_session", { session_id: s.session_id, cols: 100, rows: 30 });
    const sent = h.call<R>("send_input", { session_id: s.session_id, input: "stty size" });
    await h.call("get_session_state", { session_id: s.session_id });
    process.kill(s.pid, "SIGCONT");
    const r = await sent;
    expect({ output: r.output, exit_code: r.exit_code, is_complete: r.is_complete, completion: r.completion }).toEqual({ output: "30 100\n$ ", exit_code: 0, is_complete: true, completion: "exact" });
    await h.call("close_session", { session_id: s.session_id });
  });

  test("send_input right after resize_session (bash redraws its prompt on SIGWINCH): exact, the command's output and exit code, 3 sizes; an empty line after", async () => {
    const id = await start(plainBash, "^\\$ $");
    expect(await resizeThenSend(id, "$$")).toEqual(afterResize("$ "));
    await h.call("close_session", { session_id: id });
  });

  test("send_input right after create (a slow rc file still running) waits for the first hooked prompt: exact, exit code, no prompt or echo in the output", async () => {
    const s = await h.call<{ session_id: string }>("create_local_session", { command: "bash", env: { SLOW_RC: "1" } });
    const r = await h.call<R>("send_input", { session_id: s.session_id, input: "echo hello-$((6*7))" });
    expect(r).toMatchObject({ output: "hello-42\nmyprompt> ", exit_code: 0, is_complete: true, completion: "exact", state: "at_prompt" });
    expect(await h.call<R>("send_input", { session_id: s.session_id, input: "false" })).toMatchObject({ output: "myprompt> ", exit_code: 1, completion: "exact" });
    await h.call("close_session", { session_id: s.session_id });
  });

  test("input of several lines is exact: two commands, a heredoc, a `\\` continuation", async () => {
    const id = await start(plainBash, "^\\$ $");
    const cases: [string, string, number][] = [
      ["sleep 0.2; echo one\n(exit 3)", "one\n$ (exit 3)\n$ ", 3],
      ["cat <<EOF\nhello\n  world\nEOF", "hello\n  world\n$ ", 0],
      ["echo a \\\n  b; sleep 0.2; false", "a b\n$ ", 1],
    ];
    for (const [input, output, code] of cases) {
      const r = await h.call<R>("send_input", { session_id: id, input });
      expect(r).toMatchObject({ output, exit_code: code, is_complete: true, completion: "exact", state: "at_prompt" });
    }
    await h.call("close_session", { session_id: id });
  });

  test("sleep interrupted by ctrl+c ends with 130", async () => {
    const id = await start(plainBash, "^\\$ $");
    // A duration of its own (pgrep finds this sleep, no other test's), long enough never to end by itself.
    const sleep = `sleep 60.${process.pid}1`;
    const running = await h.call<R>("send_input", { session_id: id, input: sleep, timeout_ms: 300 });
    expect(running).toMatchObject({ is_complete: false, completion: "exact" });
    expect(running.exit_code).toBeUndefined();
    // 300 ms is a time: a ctrl+c before bash started sleep would hit bash itself. Wait until it runs.
    await until(() => Bun.spawnSync(["pgrep", "-x", "-f", sleep]).exitCode === 0, `${sleep} to run`, 60_000);
    await h.call("send_control", { session_id: id, key: "ctrl+c" });
    await h.call("read_output", { session_id: id, wait_for: "^\\$ $", timeout: 5 });
    expect(await h.call<R>("get_session_state", { session_id: id })).toMatchObject({ last_exit_code: 130, state: "at_prompt" });
    await h.call("close_session", { session_id: id });
  });

  test("a command that pauses for 1.5 s mid-output returns once, after its end", async () => {
    const id = await start(plainBash, "^\\$ $");
    const r = await h.call<R>("send_input", { session_id: id, input: "for i in 1 2 3; do echo part $i; done; sleep 1.5; echo 'almost >'; sleep 0.2; echo finished", timeout_ms: 10_000 });
    expect(r).toMatchObject({ output: "part 1\npart 2\npart 3\nalmost >\nfinished\n$ ", exit_code: 0, is_complete: true, completion: "exact" });
    await h.call("close_session", { session_id: id });
  });

  test("output that ends in '>' is not mistaken for a prompt", async () => {
    const id = await start(plainBash, "^\\$ $");
    const r = await h.call<R>("send_input", { session_id: id, input: "printf 'enter value >'; sleep 1; echo; echo got-it", timeout_ms: 10_000 });
    expect(r).toMatchObject({ output: "enter value >\ngot-it\n$ ", exit_code: 0, completion: "exact" });
    await h.call("close_session", { session_id: id });
  });

  test("the user's ~/.bashrc still applies: prompt, aliases, PROMPT_COMMAND, history", async () => {
    const id = await start({ command: "bash" }, "^myprompt> $");
    const alias = await h.call<R>("send_input", { session_id: id, input: "hello" });
    expect(alias).toMatchObject({ output: "hello-from-alias\nmyprompt> ", exit_code: 0, completion: "exact" });
    const pc = await h.call<R>("send_input", { session_id: id, input: "echo $__user_pc" });
    expect(pc.output).toBe("ran\nmyprompt> ");
    const hist = await h.call<R>("send_input", { session_id: id, input: "history 2" });
    expect(hist.output).toMatch(/^ +\d+ +echo \$__user_pc\n +\d+ +history 2\nmyprompt> $/);
    await h.call("close_session", { session_id: id });
  });

  test("markers never appear in output, the screen or the log file", async () => {
    const log = join(home, "markers.log");
    const id = await start({ ...plainBash, log_file: log }, "^\\$ $");
    await h.call("send_input", { session_id: id, input: "echo one; false" });
    const all = await h.call<R>("read_output", { session_id: id, since_cursor: 0 });
    expect(all.output).toBe("$ echo one; false\none\n$ ");
    const screen = await h.call<R>("read_screen", { session_id: id });
    expect((screen.lines as string[]).slice(0, 3)).toEqual(["$ echo one; false", "one", "$ "]);
    await h.call("close_session", { session_id: id });
    const text = readFileSync(log, "utf8");
    expect(text).toBe("$ echo one; false\none\n$ \n");
  });

  test("shell_integration: false falls back to the prompt heuristic, reported as such", async () => {
    const id = await start({ ...plainBash, shell_integration: "false" }, "^\\$ $");
    const r = await h.call<R>("send_input", { session_id: id, input: "false" });
    expect(r).toMatchObject({ output: "$ ", is_complete: true, completion: "heuristic" });
    expect(r.exit_code).toBeUndefined();
    expect(await h.call<R>("get_session_state", { session_id: id })).toMatchObject({ shell_integration: false });
    await h.call("close_session", { session_id: id });
  });

  test("nested shell: heuristics inside, exact again once it exits", async () => {
    const id = await start(plainBash, "^\\$ $");
    const nested = "PS1='inner$ ' bash --norc --noprofile";
    const inner = await h.call<R>("send_input", { session_id: id, input: nested, timeout_ms: 3000 });
    expect(inner).toMatchObject({ completion: "exact", is_complete: false });
    // The inner prompt, waited for (a loaded machine may start the inner bash after the 3 s): exactly it, after the echo.
    await h.call("read_output", { session_id: id, wait_for: "^inner\\$ $", since_cursor: inner.cursor_start, timeout: 30 });
    expect((await h.call<R>("read_output", { session_id: id, since_cursor: inner.cursor_start })).output).toBe(`${nested}\ninner$ `);
    const echo = await h.call<R>("send_input", { session_id: id, input: "echo in-inner" });
    expect(echo).toMatchObject({ output: "in-inner\ninner$ ", is_complete: true, completion: "heuristic" });
    const out = await h.call<R>("send_input", { session_id: id, input: "exit 4" });
    expect(out).toMatchObject({ output: "exit\n$ ", is_complete: true, completion: "heuristic" });
    const back = await h.call<R>("send_input", { session_id: id, input: "echo outer" });
    expect(back).toMatchObject({ output: "outer\n$ ", exit_code: 0, completion: "exact" });
    await h.call("close_session", { session_id: id });
  });

  test("a python REPL is not instrumented: heuristic completion", async () => {
    const id = await start({ command: "python3 -q", env: { PYTHONSTARTUP: "" } }, ">>> $");
    const r = await h.call<R>("send_input", { session_id: id, input: "1+1" });
    expect(r).toMatchObject({ output: "2\n>>> ", completion: "heuristic", is_complete: true });
    expect(await h.call<R>("get_session_state", { session_id: id })).toMatchObject({ shell_integration: "off: python3 is not an interactive bash, zsh or fish" });
    await h.call("close_session", { session_id: id });
  });
});

describe.skipIf(!Bun.which("zsh"))("shell integration (zsh)", () => {
  test("exit codes and the user's .zshrc through a generated ZDOTDIR", async () => {
    const id = await start({ command: "zsh" }, "^zsh% $");
    expect(await h.call<R>("send_input", { session_id: id, input: "false" })).toMatchObject({ output: "zsh% ", exit_code: 1, completion: "exact" });
    expect(await h.call<R>("send_input", { session_id: id, input: "zhello" })).toMatchObject({ output: "zsh-alias\nzsh% ", exit_code: 0, completion: "exact" });
    expect(await h.call<R>("send_input", { session_id: id, input: "echo $ZDOTDIR" })).toMatchObject({ output: `${home}\nzsh% ` });
    await h.call("close_session", { session_id: id });
  });

  test("send_input right after resize_session (zle redraws its prompt on SIGWINCH): exact, output and exit code", async () => {
    const id = await start({ command: "zsh" }, "^zsh% $");
    expect(await resizeThenSend(id, "$$")).toEqual(afterResize("zsh% "));
    await h.call("close_session", { session_id: id });
  });
});

describe.skipIf(!Bun.which("fish"))("shell integration (fish)", () => {
  test("send_input right after resize_session, and an empty line (no postexec: the hook's D at the new prompt): exact", async () => {
    mkdirSync(join(home, ".config/fish"), { recursive: true });
    writeFileSync(join(home, ".config/fish/config.fish"), "function fish_prompt; echo -n 'fish> '; end\n");
    const id = await start({ command: "fish", env: { XDG_CONFIG_HOME: join(home, ".config") } }, "^fish> $");
    expect(await resizeThenSend(id, "$fish_pid")).toEqual(afterResize("fish> "));
    await h.call("close_session", { session_id: id });
  });
});
