// Shell integration against the set-ups people really have (issue 15): the real Debian packages
// (liquidprompt, powerline, direnv, fzf, bash-completion, zoxide, zsh plugins, powerlevel9k, fish)
// sourced as their docs say, and the patterns of unpackaged tools (pyenv/conda, bash-preexec) written
// as rc lines. Each set-up gets its own HOME; every one runs the same six commands and must give
// exact output, exit codes and completion, no shell error text, and the user's own hooks still run.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ASK_TERMINAL, McpHarness, plainBash } from "./harness/mcp.ts";

type R = Record<string, unknown>;

let h: McpHarness;
const homes: string[] = [];

beforeAll(async () => {
  h = await McpHarness.start();
});

afterAll(async () => {
  await h.close();
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

interface SetUp {
  /** Program to start (default "bash"). */
  command?: string;
  /** Files under HOME: path → content; `$HOME` in the content is replaced by the temp HOME. */
  files: Record<string, string>;
  /** Lines the prompt takes (a two-line PS1: 2). */
  promptLines?: number;
  /** Extra environment. */
  env?: Record<string, string>;
}

/** What a shell's complaint looks like (bash/zsh/fish errors, syntax errors, unset variables). */
const SHELL_ERROR = /\b(bash|zsh|fish|sh): |syntax error|unbound variable|command not found|readonly variable|^\s*\^/;

/** The file every user hook appends one line to, at every prompt. */
const PROMPTS_FILE = "prompts.log";

const COMMANDS: { input: string; output: string; exit_code: number }[] = [
  { input: "true", output: "", exit_code: 0 },
  { input: "false", output: "", exit_code: 1 },
  { input: "echo x", output: "x\n", exit_code: 0 },
  { input: "cd ~/work", output: "", exit_code: 0 },
  { input: "echo before; sleep 0.6; echo after", output: "before\nafter\n", exit_code: 0 },
  { input: "ls /nonexistent", output: "ls: cannot access '/nonexistent': No such file or directory\n", exit_code: 2 },
];

interface Run {
  id: string;
  home: string;
  /** What each command gave: output without the prompt, exit code, completion. */
  results: { input: string; output: string; exit_code?: number; completion: unknown; is_complete: unknown }[];
  /** The prompt text after the last command. */
  prompts: string[];
  /** Lines the user's prompt hook wrote. */
  hookRuns: number;
  /** Commands sent after COMMANDS (by the set-up's own checks). */
  extraSends: number;
  /** Lines of the whole session's output (from the start, rc files included) that look like a shell's error. */
  errors: string[];
  state: R;
}

function makeHome(setUp: SetUp): string {
  const home = mkdtempSync(join(tmpdir(), `pty-mcp-dot-${process.pid}-`));
  homes.push(home);
  mkdirSync(join(home, "work"));
  for (const [path, content] of Object.entries(setUp.files)) {
    const file = join(home, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content.replaceAll("$HOME", home));
  }
  return home;
}

/** Waits for the session's first prompt: a hooked one (get_session_state says so), or 10 s of waiting for one. */
async function hookedPrompt(id: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const state = await h.call<R>("get_session_state", { session_id: id });
    if (state.shell_integration === true && state.state === "at_prompt") return;
    await Bun.sleep(50);
  }
}

/** Starts the set-up, waits for its first hooked prompt, runs COMMANDS, returns what came back. */
async function runSetUp(setUp: SetUp, extra?: (run: Run) => Promise<void>): Promise<Run> {
  const home = makeHome(setUp);
  const env = { HOME: home, XDG_CONFIG_HOME: join(home, ".config"), XDG_DATA_HOME: join(home, ".local/share"), XDG_CACHE_HOME: join(home, ".cache"), TERM: "xterm-256color", ...setUp.env };
  const s = await h.call<{ session_id: string }>("create_local_session", { command: setUp.command ?? "bash", cwd: home, env, cols: 200, rows: 50 });
  const id = s.session_id;
  await hookedPrompt(id);
  await h.call<R>("read_output", { session_id: id });
  const run: Run = { id, home, results: [], prompts: [], hookRuns: 0, extraSends: 0, errors: [], state: {} };
  const promptLines = setUp.promptLines ?? 1;
  for (const c of COMMANDS) {
    const r = await h.call<R>("send_input", { session_id: id, input: c.input, timeout_ms: 8000 });
    const lines = String(r.output).split("\n");
    const output = lines.slice(0, Math.max(0, lines.length - promptLines)).map((l) => `${l}\n`).join("");
    run.prompts.push(lines.slice(-promptLines).join("\n"));
    const result: Run["results"][number] = { input: c.input, output, completion: r.completion, is_complete: r.is_complete };
    if (r.exit_code !== undefined) result.exit_code = r.exit_code as number;
    run.results.push(result);
  }
  if (extra) await extra(run);
  run.state = await h.call<R>("get_session_state", { session_id: id });
  const all = await h.call<R>("read_output", { session_id: id, since_cursor: 0 });
  run.errors = String(all.output)
    .split("\n")
    .filter((line) => SHELL_ERROR.test(line) && !line.includes("ls: cannot access '/nonexistent'"));
  await h.call("close_session", { session_id: id });
  const log = join(home, PROMPTS_FILE);
  run.hookRuns = existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean).length : 0;
  return run;
}

const expected = COMMANDS.map((c) => ({ input: c.input, output: c.output, exit_code: c.exit_code, completion: "exact", is_complete: true }));

/** Every prompt of the run: the first one and one after each command. */
const PROMPT_COUNT = COMMANDS.length + 1;

function has(...packages: string[]): boolean {
  return packages.every((p) => existsSync(p));
}

/** A user hook: one line in prompts.log at every prompt (bash function). */
const BASH_USER_HOOK = `__user_hook() { echo "$?" >> "$HOME/${PROMPTS_FILE}"; }\n`;

async function expectClean(setUp: SetUp, extra?: (run: Run) => Promise<void>): Promise<Run> {
  const run = await runSetUp(setUp, extra);
  expect({ results: run.results, hookRuns: run.hookRuns, shell_integration: run.state.shell_integration, errors: run.errors }).toEqual({
    results: expected,
    hookRuns: PROMPT_COUNT + run.extraSends,
    shell_integration: true,
    errors: [],
  });
  return run;
}

describe("bash set-ups that broke the hook", () => {
  test("pyenv / conda style: PROMPT_COMMAND ending in ';'", async () => {
    await expectClean({ files: { ".bashrc": `${BASH_USER_HOOK}PS1='\\w\\$ '\nPROMPT_COMMAND="__user_hook;\${PROMPT_COMMAND:-}"\n` } });
  });

  test("PROMPT_COMMAND ending in a newline (powerline's style) with more after it", async () => {
    await expectClean({ files: { ".bashrc": `${BASH_USER_HOOK}PS1='\\w\\$ '\nPROMPT_COMMAND=$'__user_hook\\n'\n` } });
  });

  test.skipIf(!has("/usr/share/powerline/bindings/bash/powerline.sh"))("powerline (Debian package, its bash binding)", async () => {
    const run = await expectClean({
      files: {
        // As powerline's docs say; its PROMPT_COMMAND then ends in a newline, kept by the user's prepended hook.
        ".bashrc": `${BASH_USER_HOOK}powerline-daemon -q\nPOWERLINE_BASH_CONTINUATION=1\nPOWERLINE_BASH_SELECT=1\n. /usr/share/powerline/bindings/bash/powerline.sh\nPROMPT_COMMAND="__user_hook;$PROMPT_COMMAND"\n`,
      },
    });
    // powerline's own prompt: the working directory as a segment.
    expect(run.prompts.at(-1)).toContain("work");
    await Bun.$`powerline-daemon --kill`.env({ ...process.env, HOME: run.home } as Record<string, string>).quiet().nothrow();
  });

  test("PROMPT_COMMAND as a bash array, a later element rebuilding PS1", async () => {
    const run = await expectClean({ files: { ".bashrc": `${BASH_USER_HOOK}PROMPT_COMMAND=(__user_hook 'PS1="arr[\\w]\\$ "')\n` } });
    expect(run.prompts.at(-1)).toBe("arr[~/work]$ ");
  });

  test.skipIf(!has("/usr/share/liquidprompt/liquidprompt", "/usr/bin/direnv"))("liquidprompt after direnv", async () => {
    const run = await expectClean({
      files: { ".bashrc": `${BASH_USER_HOOK}PROMPT_COMMAND=__user_hook\neval "$(direnv hook bash)"\n. /usr/share/liquidprompt/liquidprompt\n` },
    });
    expect(run.prompts.at(-1)).toContain("~/work");
  });

  test.skipIf(!has("/usr/share/liquidprompt/liquidprompt"))("liquidprompt alone: idle time is not shown as the command's runtime", async () => {
    const run = await expectClean(
      {
        files: {
          ".bashrc": `${BASH_USER_HOOK}PROMPT_COMMAND=__user_hook\n. /usr/share/liquidprompt/liquidprompt\n`,
          ".config/liquidpromptrc": "LP_ENABLE_RUNTIME=1\nLP_RUNTIME_THRESHOLD=2\n",
        },
      },
      async (r) => {
        // Idle 2.5 s at the prompt, then a quick command: its prompt shows no runtime; a 2.2 s command's does
        // (liquidprompt counts whole seconds of $SECONDS: "2s" or "3s").
        await Bun.sleep(2500);
        const quick = await h.call<R>("send_input", { session_id: r.id, input: "true" });
        const slow = await h.call<R>("send_input", { session_id: r.id, input: "sleep 2.2" });
        r.prompts.push(String(quick.output), String(slow.output));
        r.extraSends = 2;
      },
    );
    const [quick, slow] = run.prompts.slice(-2);
    expect({ quick: /\ds/.test(quick!), slow: /[23]s/.test(slow!) }).toEqual({ quick: false, slow: true });
  });

  test("bash-preexec-style DEBUG-trap framework (installed at the first prompt): every command's preexec runs", async () => {
    const run = await expectClean({ files: { ".bashrc": `${BASH_USER_HOOK}${BASH_PREEXEC_STYLE}PS1='\\w\\$ '\nprecmd_functions+=(__user_hook)\npreexec_functions+=(__user_preexec)\n__user_preexec() { printf '%s\\n' "$1" >> "$HOME/preexec.log"; }\n` } });
    expect(readFileSync(join(run.home, "preexec.log"), "utf8")).toBe(COMMANDS.map((c) => `${c.input}\n`).join(""));
  });

  test("a DEBUG trap of the user's sees every command of theirs and none of ours", async () => {
    const run = await expectClean({ files: { ".bashrc": `${BASH_USER_HOOK}PS1='\\w\\$ '\nPROMPT_COMMAND=__user_hook\ntrap 'printf "%s\\n" "$BASH_COMMAND" >> "$HOME/debug.log"' DEBUG\n` } });
    const seen = readFileSync(join(run.home, "debug.log"), "utf8").split("\n").filter((l) => l !== "" && l !== "__user_hook");
    // One line at start-up, before the first prompt: the call that takes the trap over.
    expect(seen).toEqual(['__ptymcp_install "$(trap -p DEBUG)"', ...COMMANDS.flatMap((c) => (c.input.includes(";") ? c.input.split("; ") : [c.input]))]);
  });

  test("a DEBUG trap and PROMPT_COMMAND entries the user sets at the prompt, after the hook (one after ours, one before): all taken in at the next prompt", async () => {
    const late = [
      { input: `trap 'printf "%s\\n" "$BASH_COMMAND" >> "$HOME/late.log"' DEBUG`, output: "", exit_code: 0 },
      { input: "echo one", output: "one\n", exit_code: 0 },
      // Appended after our last entry; it rebuilds PS1 from its second run on, which drops the marks
      // unless the hook has put its last entry back behind it.
      { input: `PROMPT_COMMAND+=";__late_pc"`, output: "", exit_code: 0 },
      { input: "echo two", output: "two\n", exit_code: 0 },
      { input: "false", output: "", exit_code: 1 },
      // Put before ours, as direnv's hook does (`eval "$(direnv hook bash)"` at a prompt): a status of its
      // own would be every later command's exit code unless ours goes first again. At this one prompt it ran first.
      { input: `PROMPT_COMMAND="__pre;$PROMPT_COMMAND"`, output: "", exit_code: 7 },
      { input: "true", output: "", exit_code: 0 },
      { input: "false", output: "", exit_code: 1 },
    ];
    const got: R[] = [];
    const run = await expectClean({ files: { ".bashrc": `${BASH_USER_HOOK}PS1='\\w> '\nPROMPT_COMMAND=__user_hook\n__late_pc() { [[ -n \${__late-} ]] && PS1="late> "; __late=1; }\n__pre() { return 7; }\n` } }, async (r) => {
      for (const c of late) {
        const res = await h.call<R>("send_input", { session_id: r.id, input: c.input });
        got.push({ output: res.output, exit_code: res.exit_code, completion: res.completion });
      }
      r.extraSends = late.length;
    });
    const prompt = (i: number) => (i < 3 ? "~/work> " : "late> ");
    expect(got).toEqual(late.map((c, i) => ({ output: `${c.output}${prompt(i)}`, exit_code: c.exit_code, completion: "exact" })));
    // The trap sees the user's commands; ours only at the one prompt where it was new (before the hook took it in).
    const seen = readFileSync(join(run.home, "late.log"), "utf8").split("\n").filter((l) => l !== "" && l !== "__user_hook" && l !== "__late_pc" && l !== "__pre");
    const firstOfTheUser = seen.indexOf("echo one");
    expect({ ours: seen.slice(firstOfTheUser).filter((l) => l.includes("__ptymcp_")), users: seen.filter((l) => !l.includes("__ptymcp_")) }).toEqual({
      ours: [],
      users: late.slice(1).map((c) => c.input),
    });
  });

  test.each([
    ["", ""],
    [", with a DEBUG trap", `trap ': "$BASH_COMMAND"' DEBUG\n`],
  ])("set -e in .bashrc%s: a failed status the shell forgives (left of &&) is passed on without ending the shell", async (_, trap) => {
    const home = makeHome({ files: { ".bashrc": `set -e\n${BASH_USER_HOOK}PS1='\\w> '\nPROMPT_COMMAND=__user_hook\n${trap}` } });
    const { session_id: id } = await h.call<{ session_id: string }>("create_local_session", { command: "bash", cwd: home, env: { HOME: home }, cols: 120, rows: 40 });
    await hookedPrompt(id);
    const got: R[] = [];
    // `false && …` ends with status 1 that set -e forgives: with the hook's entries returning it plainly the shell ended there.
    for (const input of ["true", "echo x", "cd ~/work", "false && echo no", "false || echo recovered", ""]) {
      const r = await h.call<R>("send_input", { session_id: id, input });
      got.push({ output: r.output, exit_code: r.exit_code, completion: r.completion });
    }
    const state = await h.call<R>("get_session_state", { session_id: id });
    await h.call("close_session", { session_id: id });
    expect({ got, state: state.state, hookRuns: readFileSync(join(home, PROMPTS_FILE), "utf8").split("\n").filter(Boolean).length }).toEqual({
      got: [
        { output: "~> ", exit_code: 0, completion: "exact" },
        { output: "x\n~> ", exit_code: 0, completion: "exact" },
        { output: "~/work> ", exit_code: 0, completion: "exact" },
        { output: "~/work> ", exit_code: 1, completion: "exact" },
        { output: "recovered\n~/work> ", exit_code: 0, completion: "exact" },
        { output: "~/work> ", exit_code: undefined, completion: "exact" },
      ],
      state: "at_prompt",
      hookRuns: 7,
    });
  });

  test("bash --norc with the caller's PROMPT_COMMAND (env), ending in ';' and rebuilding PS1", async () => {
    const run = await expectClean({
      command: "bash --norc --noprofile",
      files: {},
      env: { PS1: "$ ", PROMPT_COMMAND: `echo "$?" >> "$HOME/${PROMPTS_FILE}"; PS1="norc[\\w]\\$ ";` },
    });
    expect(run.prompts.at(-1)).toMatch(/^norc\[~\/work\][$#] $/);
  });

  test("set -u in .bashrc", async () => {
    await expectClean({ files: { ".bashrc": `set -u\n${BASH_USER_HOOK}PS1='\\w\\$ '\nPROMPT_COMMAND=__user_hook\n` } });
  });
});

/** Waits (10 s at most) until a line of the screen matches. */
async function screenShows(id: string, line: RegExp): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    const screen = await h.call<{ lines: string[] }>("read_screen", { session_id: id });
    if (screen.lines.some((l) => line.test(l))) return true;
    await Bun.sleep(100);
  }
  return false;
}

describe("programs that ask the terminal", () => {
  test("the cursor position report and device attributes come back as a terminal answers them, once", async () => {
    const { session_id: id } = await h.call<{ session_id: string }>("create_local_session", { ...plainBash, cols: 80, rows: 24 });
    await h.call<R>("read_output", { session_id: id, wait_for: "^\\$ $", timeout: 10 });
    const r = await h.call<R>("send_input", { session_id: id, input: ASK_TERMINAL });
    await h.call("close_session", { session_id: id });
    expect({ output: r.output, exit_code: r.exit_code }).toEqual({ output: "$'\\E[5;10' $'\\E[?1;2' []\n$ ", exit_code: 0 });
  });

  test.skipIf(!has("/usr/share/doc/fzf/examples/key-bindings.bash"))("fzf's ctrl+r draws (it asks for the cursor position first) and its pick runs exactly", async () => {
    const home = makeHome({
      files: {
        ".bashrc": `${BASH_USER_HOOK}PS1='\\$ '\nPROMPT_COMMAND=__user_hook\nHISTFILE="$HOME/.bash_history"\nsource /usr/share/doc/fzf/examples/key-bindings.bash\n`,
        ".bash_history": "echo from-history\nls /\n",
      },
    });
    const { session_id: id } = await h.call<{ session_id: string }>("create_local_session", { command: "bash", cwd: home, env: { HOME: home, TERM: "xterm-256color" }, cols: 100, rows: 30 });
    await h.call<R>("read_output", { session_id: id, wait_for: "[$#] $", timeout: 10 });
    await h.call("send_control", { session_id: id, key: "ctrl+r" });
    // fzf draws its list and its match counter once the cursor position report came back (a TUI:
    // cursor-addressed, so it is read from the screen).
    const drawn = await screenShows(id, /^  2\/2 /);
    await h.call("send_input", { session_id: id, input: "from-hist", raw: true });
    const filtered = await screenShows(id, /^  1\/2 /);
    await h.call("send_control", { session_id: id, key: "enter" });
    await h.call<R>("read_output", { session_id: id, wait_for: "echo from-history$", timeout: 10 });
    const ran = await h.call<R>("send_input", { session_id: id, input: "" });
    await h.call("close_session", { session_id: id });
    expect({ drawn, filtered, ran: { output: ran.output, exit_code: ran.exit_code, completion: ran.completion } }).toEqual({
      drawn: true,
      filtered: true,
      ran: { output: `from-history\n${process.getuid?.() === 0 ? "#" : "$"} `, exit_code: 0, completion: "exact" },
    });
  });
});

describe("where the hook cannot go in", () => {
  test("a read-only PROMPT_COMMAND: heuristic completion, exact output, no error text, get_session_state says why", async () => {
    const run = await runSetUp({ files: { ".bashrc": `${BASH_USER_HOOK}PS1='\\w\\$ '\nreadonly PROMPT_COMMAND=__user_hook\n` } });
    expect({ results: run.results, hookRuns: run.hookRuns, shell_integration: run.state.shell_integration, errors: run.errors }).toEqual({
      results: COMMANDS.map((c) => ({ input: c.input, output: c.output, completion: "heuristic", is_complete: true })),
      hookRuns: PROMPT_COUNT,
      shell_integration: "off: PROMPT_COMMAND is read-only",
      errors: [],
    });
  });
});

describe("bash set-ups that were clean and stay clean", () => {
  test("plain bash with a PROMPT_COMMAND", async () => {
    await expectClean({ files: { ".bashrc": `${BASH_USER_HOOK}PS1='\\w\\$ '\nPROMPT_COMMAND=__user_hook\n` } });
  });

  test.skipIf(!has("/usr/bin/direnv"))("direnv", async () => {
    await expectClean({ files: { ".bashrc": `${BASH_USER_HOOK}PS1='\\w\\$ '\nPROMPT_COMMAND=__user_hook\neval "$(direnv hook bash)"\n` } });
  });

  test.skipIf(!has("/usr/share/bash-completion/bash_completion"))("bash-completion", async () => {
    await expectClean({ files: { ".bashrc": `${BASH_USER_HOOK}PS1='\\w\\$ '\nPROMPT_COMMAND=__user_hook\n. /usr/share/bash-completion/bash_completion\n` } });
  });

  test.skipIf(!has("/usr/bin/zoxide"))("zoxide", async () => {
    await expectClean({ files: { ".bashrc": `${BASH_USER_HOOK}PS1='\\w\\$ '\nPROMPT_COMMAND=__user_hook\neval "$(zoxide init bash)"\n` } });
  });

  test("vi mode", async () => {
    await expectClean({ files: { ".bashrc": `${BASH_USER_HOOK}PS1='\\w\\$ '\nPROMPT_COMMAND=__user_hook\nset -o vi\n` } });
  });

  test("two-line PS1 with a title escape", async () => {
    const run = await expectClean({ files: { ".bashrc": `${BASH_USER_HOOK}PS1='\\[\\e]0;\\u@\\h: \\w\\a\\]\\u@\\h \\w\\n\\$ '\nPROMPT_COMMAND=__user_hook\n` }, promptLines: 2 });
    expect(run.prompts.at(-1)).toMatch(/ ~\/work\n[$#] $/);
  });

  test("bracketed paste", async () => {
    await expectClean({ files: { ".bashrc": `${BASH_USER_HOOK}PS1='\\w\\$ '\nPROMPT_COMMAND=__user_hook\nbind 'set enable-bracketed-paste on'\n` } });
  });

  test("PS0 of the user's own", async () => {
    const run = await expectClean({ files: { ".bashrc": `${BASH_USER_HOOK}PS1='\\w\\$ '\nPROMPT_COMMAND=__user_hook\nPS0='$(echo run >> "$HOME/ps0.log")'\n` } });
    expect(readFileSync(join(run.home, "ps0.log"), "utf8")).toBe("run\n".repeat(COMMANDS.length));
  });

  test("history -a in PROMPT_COMMAND", async () => {
    const run = await expectClean({ files: { ".bashrc": `${BASH_USER_HOOK}PS1='\\w\\$ '\nHISTFILE="$HOME/.bash_history"\nPROMPT_COMMAND='history -a; __user_hook'\n` } });
    expect(readFileSync(join(run.home, ".bash_history"), "utf8")).toBe(COMMANDS.map((c) => `${c.input}\n`).join(""));
  });
});

/** A user hook for zsh: one line in prompts.log at every prompt. */
const ZSH_USER_HOOK = `__user_hook() { echo "$?" >> "$HOME/${PROMPTS_FILE}"; }\nprecmd_functions+=(__user_hook)\n`;

describe.skipIf(!Bun.which("zsh"))("zsh set-ups", () => {
  test.skipIf(!has("/usr/share/zsh-syntax-highlighting/zsh-syntax-highlighting.zsh"))("zsh-syntax-highlighting: no redrawn command line in the output", async () => {
    await expectClean({ command: "zsh", files: { ".zshrc": `${ZSH_USER_HOOK}PS1='%~%# '\nsource /usr/share/zsh-syntax-highlighting/zsh-syntax-highlighting.zsh\n` } });
  });

  test.skipIf(!has("/usr/share/zsh-autosuggestions/zsh-autosuggestions.zsh"))("zsh-autosuggestions", async () => {
    await expectClean({ command: "zsh", files: { ".zshrc": `${ZSH_USER_HOOK}PS1='%~%# '\nsource /usr/share/zsh-autosuggestions/zsh-autosuggestions.zsh\n` } });
  });

  test.skipIf(!has("/usr/share/powerlevel9k/powerlevel9k.zsh-theme", "/usr/share/zsh-syntax-highlighting/zsh-syntax-highlighting.zsh", "/usr/share/zsh-autosuggestions/zsh-autosuggestions.zsh"))(
    "powerlevel9k with syntax highlighting and autosuggestions",
    async () => {
      const run = await expectClean({
        command: "zsh",
        files: {
          ".zshrc":
            `${ZSH_USER_HOOK}POWERLEVEL9K_MODE=ascii\nsource /usr/share/powerlevel9k/powerlevel9k.zsh-theme\n` +
            "source /usr/share/zsh-autosuggestions/zsh-autosuggestions.zsh\nsource /usr/share/zsh-syntax-highlighting/zsh-syntax-highlighting.zsh\n",
        },
      });
      expect(run.prompts.at(-1)).toContain("work");
    },
  );

  test("a theme that moves its precmd behind ours at every prompt (powerlevel10k style): B from zle-line-init", async () => {
    const run = await expectClean({
      command: "zsh",
      files: { ".zshrc": `${ZSH_USER_HOOK}__theme() { PROMPT="last[%~]%# "; precmd_functions=(\${precmd_functions:#__theme} __theme) }\nprecmd_functions+=(__theme)\n` },
    });
    expect(run.prompts.at(-1)).toMatch(/^last\[~\/work\][%#] $/);
  });

  test("a theme that rebuilds PROMPT in precmd (oh-my-zsh style), registered after the rc", async () => {
    const run = await expectClean({
      command: "zsh",
      files: { ".zshrc": `${ZSH_USER_HOOK}__theme() { PROMPT="theme[%~]%# " }\nautoload -Uz add-zsh-hook\nadd-zsh-hook precmd __theme\n` },
    });
    expect(run.prompts.at(-1)).toMatch(/^theme\[~\/work\][%#] $/);
  });
});

describe.skipIf(!Bun.which("fish"))("fish", () => {
  test("fish with the user's own prompt and a prompt event handler", async () => {
    const run = await expectClean({
      command: "fish",
      files: {
        ".config/fish/config.fish": `function __user_hook --on-event fish_prompt\n  echo $status >> $HOME/${PROMPTS_FILE}\nend\nfunction fish_prompt\n  printf 'fish[%s]> ' (prompt_pwd)\nend\nset -g fish_greeting\n`,
      },
    });
    expect(run.prompts.at(-1)).toBe("fish[~/work]> ");
  });
});

// A DEBUG-trap framework written the way bash-preexec works (test/fixtures/bash-preexec-style.bash).
const BASH_PREEXEC_STYLE = `. ${join(import.meta.dir, "fixtures/bash-preexec-style.bash")}\n`;
