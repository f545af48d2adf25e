// The shell hooks fork nothing at a prompt or around a command (local sessions; over SSH: in
// shell-integration-ssh.test.ts): strace, attached to the session's shell, counts the processes it starts
// over 20 `echo` lines — builtins, so the hook's own forks would be all there is — and 3 `/bin/true`, one
// process each (harness/strace.ts). A fork a prompt (bash's old `$(trap -p DEBUG)`, ~0.5 ms) gives 26, not 3.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McpHarness, plainBash } from "./harness/mcp.ts";
import { forksOverCommands, NO_FORKS } from "./harness/strace.ts";

type R = Record<string, unknown>;

let h: McpHarness;
let home: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), `pty-mcp-forks-${process.pid}-`));
  // A user trap is taken into the hook's wrapper, which then runs around every command: counted too.
  writeFileSync(join(home, ".bashrc"), `PS1='$ '\nPROMPT_COMMAND='__user_pc=1'\n[ -n "$WITH_TRAP" ] && trap ': "$BASH_COMMAND"' DEBUG\n[ -n "$EXTDEBUG" ] && shopt -s extdebug\n`);
  writeFileSync(join(home, ".zshrc"), "PS1='%% '\n");
  mkdirSync(join(home, ".config/fish"), { recursive: true });
  // fish's default prompt runs git: a prompt of the user's that forks is not the hook's.
  writeFileSync(join(home, ".config/fish/config.fish"), "set -g fish_greeting\nfunction fish_prompt; echo -n '$ '; end\n");
  h = await McpHarness.start({ env: { HOME: home, XDG_CONFIG_HOME: join(home, ".config") } });
});

afterAll(async () => {
  await h.close();
  rmSync(home, { recursive: true, force: true });
});

async function countForks(create: R, pidOf = "$$"): Promise<{ results: R[]; started: number }> {
  const { session_id: id } = await h.call<{ session_id: string }>("create_local_session", { ...create, cols: 120, rows: 40 });
  for (let i = 0; i < 400; i++) {
    const state = await h.call<R>("get_session_state", { session_id: id });
    if (state.shell_integration === true && state.state === "at_prompt") break;
    await Bun.sleep(25);
  }
  await h.call<R>("read_output", { session_id: id });
  const { results, started } = await forksOverCommands(h, id, home, pidOf);
  await h.call("close_session", { session_id: id });
  return { results, started };
}

const expected = NO_FORKS;

describe("the shell hooks fork nothing per prompt or command", () => {
  test("bash (rc file, the user's PROMPT_COMMAND)", async () => {
    expect(await countForks({ command: "bash" })).toEqual(expected);
  });

  test("bash with a DEBUG trap of the user's (the hook's wrapper around it)", async () => {
    expect(await countForks({ command: "bash", env: { WITH_TRAP: "1" } })).toEqual(expected);
  });

  test("bash with a DEBUG trap and extdebug (traps run inside functions too)", async () => {
    expect(await countForks({ command: "bash", env: { WITH_TRAP: "1", EXTDEBUG: "1" } })).toEqual(expected);
  });

  test("bash --norc (the hook from the environment)", async () => {
    expect(await countForks(plainBash)).toEqual(expected);
  });

  test("zsh", async () => {
    expect(await countForks({ command: "zsh" })).toEqual(expected);
  });

  test("fish", async () => {
    expect(await countForks({ command: "fish" }, "$fish_pid")).toEqual(expected);
  });
});
