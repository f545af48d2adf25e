// The shell hooks fork nothing at a prompt or around a command: strace, attached to the session's shell,
// counts the processes the shell starts (clone/fork/vfork, threads not counted) over 20 `echo` lines —
// builtins, so the hook's own forks would be all there is — and 3 `/bin/true`, one process each, which
// shows the count sees real forks. A fork a prompt (bash's `$(trap -p DEBUG)`, ~0.5 ms) gives 23, not 3.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McpHarness, plainBash } from "./harness/mcp.ts";

type R = Record<string, unknown>;

let h: McpHarness;
let home: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), `pty-mcp-forks-${process.pid}-`));
  // A user trap is taken into the hook's wrapper: that path is checked too (its log shows it ran).
  writeFileSync(join(home, ".bashrc"), `PS1='$ '\nPROMPT_COMMAND='__user_pc=1'\n[ -n "$WITH_TRAP" ] && trap ': "$BASH_COMMAND"' DEBUG\n[ -n "$EXTDEBUG" ] && shopt -s extdebug\n`);
  writeFileSync(join(home, ".zshrc"), "PS1='%% '\n");
  mkdirSync(join(home, ".config/fish"), { recursive: true });
  // fish's default prompt runs git: a prompt of the user's that forks is not the hook's.
  writeFileSync(join(home, ".config/fish/config.fish"), "set -g fish_greeting\nfunction fish_prompt; echo -n '$ '; end\n");
  h = await McpHarness.start({ env: { HOME: home, XDG_CONFIG_HOME: join(home, ".config") } });
});

afterAll(async () => {
  await h.close();
  if (!process.env.KEEP) rmSync(home, { recursive: true, force: true });
});

/** Starts strace on `pid` and resolves once it is attached (it says so on stderr, which is read to its end: a closed pipe would kill it). */
async function attach(pid: number, log: string): Promise<Bun.Subprocess<"ignore", "ignore", "pipe">> {
  const strace = Bun.which("strace");
  if (!strace) throw new Error("strace is needed for this test: apt-get install -y strace");
  const proc = Bun.spawn([strace, "-f", "-e", "trace=clone,clone3,fork,vfork", "-o", log, "-p", String(pid)], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const { promise: attached, resolve } = Promise.withResolvers<boolean>();
  void (async () => {
    let said = "";
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) {
      said += decoder.decode(chunk, { stream: true });
      if (said.includes("attached")) resolve(true);
    }
    resolve(false);
  })();
  if (!(await attached)) throw new Error(`strace did not attach to ${pid} (exit ${await proc.exited})`);
  return proc;
}

/** Processes started in the log: one line per clone/fork call, not a thread, not the second half of an interrupted call. */
function processesStarted(log: string): number {
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((line) => /\b(clone3?|v?fork)\(/.test(line) && !line.includes("CLONE_THREAD") && !line.includes("resumed>")).length;
}

async function countForks(create: R, pidOf = "$$"): Promise<{ results: R[]; started: number }> {
  const { session_id: id } = await h.call<{ session_id: string }>("create_local_session", { ...create, cols: 120, rows: 40 });
  for (let i = 0; i < 400; i++) {
    const state = await h.call<R>("get_session_state", { session_id: id });
    if (state.shell_integration === true && state.state === "at_prompt") break;
    await Bun.sleep(25);
  }
  await h.call<R>("read_output", { session_id: id });
  const pid = Number(String((await h.call<R>("send_input", { session_id: id, input: `echo ${pidOf}` })).output).split("\n")[0]);
  const log = join(home, `strace-${pid}.log`);
  const strace = await attach(pid, log);
  const results: R[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      const r = await h.call<R>("send_input", { session_id: id, input: `echo r${i}` });
      results.push({ output: String(r.output).split("\n")[0], exit_code: r.exit_code, completion: r.completion });
    }
    for (let i = 0; i < 3; i++) {
      const r = await h.call<R>("send_input", { session_id: id, input: "/bin/true" });
      results.push({ exit_code: r.exit_code, completion: r.completion });
    }
  } finally {
    // SIGINT: strace detaches from the shell, writes the rest of its log and exits.
    strace.kill("SIGINT");
    await strace.exited;
  }
  await h.call("close_session", { session_id: id });
  return { results, started: processesStarted(log) };
}

const expected = {
  results: [
    ...Array.from({ length: 20 }, (_, i) => ({ output: `r${i}`, exit_code: 0, completion: "exact" })),
    ...Array.from({ length: 3 }, () => ({ exit_code: 0, completion: "exact" })),
  ],
  started: 3,
};

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
