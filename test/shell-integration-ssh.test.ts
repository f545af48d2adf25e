/**
 * Shell integration over SSH, end to end: the compiled binary against a real sshd. The login
 * shell (bash, zsh) gets the hook typed once after login; nothing of it may show in any result,
 * the screen, the log file or the shell's history.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "bun";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { until } from "./harness/daemon.ts";
import { McpHarness } from "./harness/mcp.ts";
import { knownHostsLine, makeKey, startSshd, tempDir, type Sshd } from "./harness/sshd.ts";
import { forksOverCommands, NO_FORKS } from "./harness/strace.ts";

setDefaultTimeout(60_000);

type R = Record<string, unknown>;

/** Test accounts with a known login shell (created once, kept, like the harness's password user). */
function ensureUser(name: string, shell: string): { home: string; uid: number; gid: number } {
  if (spawnSync(["id", name]).exitCode !== 0) {
    const r = spawnSync(["useradd", "-m", "-s", shell, name]);
    if (r.exitCode !== 0 && spawnSync(["id", name]).exitCode !== 0) throw new Error(`useradd failed: ${r.stderr.toString()}`);
  }
  // "*" instead of useradd's "!": sshd without PAM refuses even key logins to a locked account.
  spawnSync(["usermod", "-s", shell, "-p", "*", name]);
  const home = `/home/${name}`;
  mkdirSync(home, { recursive: true });
  const uid = Number(spawnSync(["id", "-u", name]).stdout.toString().trim());
  const gid = Number(spawnSync(["id", "-g", name]).stdout.toString().trim());
  return { home, uid, gid };
}

function writeOwned(user: { uid: number; gid: number }, path: string, text: string): void {
  writeFileSync(path, text);
  chownSync(path, user.uid, user.gid);
}

const BASH_USER = "ptymcpbash";
const ZSH_USER = "ptymcpzsh";
const DASH_USER = "ptymcpdash";
const FISH_USER = "ptymcpfish";
const zsh = Bun.which("zsh");
const fish = Bun.which("fish");
const home = tempDir("pty-mcp-si-ssh-home-");
let sshd: Sshd;
let h: McpHarness;
let bash: { home: string; uid: number; gid: number };

const login = (user: string, extra: R = {}): R => ({ host: "127.0.0.1", port: sshd.port, user, ...extra });
/** Everything a result of ours could leak the hook through. */
const HOOK_TRACES = ["__ptymcp", "133;", "PROMPT_COMMAND", "history -d", "precmd_functions"];

function expectNoTrace(text: string): void {
  for (const trace of HOOK_TRACES) expect(text).not.toContain(trace);
}

beforeAll(async () => {
  const sshDir = join(home.path, ".ssh");
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  sshd = await startSshd();
  // sshd reads AuthorizedKeysFile as the user logging in: let the test accounts reach it (the host key stays 0600).
  chmodSync(sshd.dir, 0o755);
  const key = makeKey(join(sshDir, "id_ed25519"));
  sshd.authorize(key.pub);
  writeFileSync(join(sshDir, "known_hosts"), `${knownHostsLine(sshd)}\n`);

  bash = ensureUser(BASH_USER, "/bin/bash");
  // A banner from the rc file, a fixed prompt, and a history file the test reads.
  // $XDG_RUNTIME_DIR only for the test that wants it (pam_systemd sets it on most hosts; this sshd has no PAM):
  // the other tests run the hook with its unlinked trap file (shell-integration-forks.test.ts counts that one).
  writeOwned(bash, join(bash.home, ".bashrc"), "echo welcome-from-bashrc\nPS1='$ '\nHISTFILE=~/.bash_history_test\nalias hello='echo hello-from-alias'\n[ -f ~/.xdg-run/use ] && export XDG_RUNTIME_DIR=~/.xdg-run\n");
  if (zsh) {
    const z = ensureUser(ZSH_USER, zsh);
    writeOwned(z, join(z.home, ".zshrc"), "PS1='zsh%% '\nHISTFILE=~/.zsh_history_test\nSAVEHIST=100\nHISTSIZE=100\nsetopt hist_ignore_space\n");
  }
  if (fish) {
    const f = ensureUser(FISH_USER, fish);
    mkdirSync(join(f.home, ".config/fish"), { recursive: true });
    writeOwned(f, join(f.home, ".config/fish/config.fish"), "set -g fish_greeting\nfunction fish_prompt\n  printf 'fish> '\nend\n");
    spawnSync(["chown", "-R", `${f.uid}:${f.gid}`, join(f.home, ".config")]);
  }
  const d = ensureUser(DASH_USER, "/bin/sh");
  writeOwned(d, join(d.home, ".profile"), "PS1='$ '\n");
  h = await McpHarness.start({ env: { HOME: home.path, SSH_AUTH_SOCK: "" } });
});

afterAll(async () => {
  await h?.close();
  await sshd?.[Symbol.asyncDispose]();
  home[Symbol.dispose]();
});

describe("shell integration over ssh (bash login shell)", () => {
  test("hooked invisibly: the first results, the screen, the log and the history show no trace of it", async () => {
    rmSync(join(bash.home, ".bash_history_test"), { force: true });
    const log = join(home.path, "bash.log");
    const s = await h.call<{ session_id: string }>("create_ssh_session", login(BASH_USER, { log_file: log }));
    const id = s.session_id;
    // create returns once the hook is in: the first send_input is already exact.
    const first = await h.call<R>("send_input", { session_id: id, input: "true" });
    expect(first).toMatchObject({ output: "$ ", exit_code: 0, is_complete: true, completion: "exact", state: "at_prompt" });
    const all = await h.call<R>("read_output", { session_id: id, since_cursor: 0 });
    expect(all.output).toBe("welcome-from-bashrc\n$ true\n$ ");
    const screen = await h.call<{ lines: string[] }>("read_screen", { session_id: id });
    expect(screen.lines.slice(0, 4)).toEqual(["welcome-from-bashrc", "$ true", "$ ", ""]);
    const hist = await h.call<R>("send_input", { session_id: id, input: "history" });
    expect(hist).toMatchObject({ completion: "exact", exit_code: 0 });
    expect(hist.output).toMatch(/^ +1 +true\n +2 +history\n\$ $/);
    const state = await h.call<R>("get_session_state", { session_id: id });
    expect(state).toMatchObject({ shell_integration: true, shell: "bash", last_exit_code: 0, state: "at_prompt" });
    await h.call("close_session", { session_id: id });
    const text = readFileSync(log, "utf8");
    expect(text).toBe("welcome-from-bashrc\n$ true\n$ history\n    1  true\n    2  history\n$ \n");
    expectNoTrace(JSON.stringify([first, all, screen, hist, state]) + text);
  });

  test("exit codes: true 0, false 1, (exit 3) 3, unknown command 127; the user's alias still works", async () => {
    const { session_id: id } = await h.call<{ session_id: string }>("create_ssh_session", login(BASH_USER));
    const cases: [string, number, string][] = [
      ["true", 0, "$ "],
      ["false", 1, "$ "],
      ["(exit 3)", 3, "$ "],
      // A login shell: bash calls itself -bash.
      ["no_such_command_xyz", 127, "-bash: no_such_command_xyz: command not found\n$ "],
      ["hello", 0, "hello-from-alias\n$ "],
    ];
    for (const [input, code, output] of cases) {
      expect(await h.call<R>("send_input", { session_id: id, input })).toMatchObject({ output, exit_code: code, is_complete: true, completion: "exact", state: "at_prompt" });
    }
    await h.call("close_session", { session_id: id });
  });

  test("with $XDG_RUNTIME_DIR (private, the user's), the typed hook forks nothing per prompt: trap -p goes to a file there", async () => {
    const run = join(bash.home, ".xdg-run");
    mkdirSync(run, { recursive: true, mode: 0o700 });
    chownSync(run, bash.uid, bash.gid);
    writeOwned(bash, join(run, "use"), "");
    try {
      const { session_id: id } = await h.call<{ session_id: string }>("create_ssh_session", login(BASH_USER));
      const { pid, ...counted } = await forksOverCommands(h, id, home.path);
      await h.call("close_session", { session_id: id });
      expect({ ...counted, trapFile: existsSync(join(run, `pty-mcp-bash-${pid}.trap`)) }).toEqual({ ...NO_FORKS, trapFile: true });
    } finally {
      rmSync(run, { recursive: true, force: true });
    }
  });

  test("a command that pauses for 1.5 s mid-output returns once, complete, with all its output", async () => {
    const { session_id: id } = await h.call<{ session_id: string }>("create_ssh_session", login(BASH_USER));
    const r = await h.call<R>("send_input", { session_id: id, input: "echo part 1; sleep 1.5; echo 'part 2 >'; sleep 0.2; echo finished", timeout_ms: 10_000 });
    expect(r).toMatchObject({ output: "part 1\npart 2 >\nfinished\n$ ", exit_code: 0, is_complete: true, completion: "exact" });
    await h.call("close_session", { session_id: id });
  });

  test("sleep interrupted by ctrl+c ends with 130; a nested shell is heuristic, the outer one exact again after it", async () => {
    const { session_id: id } = await h.call<{ session_id: string }>("create_ssh_session", login(BASH_USER));
    // A duration of its own (pgrep finds this sleep, no other test's), long enough never to end by itself.
    const sleep = `sleep 60.${process.pid}2`;
    const running = await h.call<R>("send_input", { session_id: id, input: sleep, timeout_ms: 300 });
    expect(running).toMatchObject({ is_complete: false, completion: "exact", state: "running" });
    // 300 ms is a time: a ctrl+c before bash started sleep would hit bash itself. Wait until it runs.
    await until(() => spawnSync(["pgrep", "-x", "-f", sleep]).exitCode === 0, `${sleep} to run`, 60_000);
    await h.call("send_control", { session_id: id, key: "ctrl+c" });
    await h.call("read_output", { session_id: id, wait_for: "^\\$ $", timeout: 10 });
    expect(await h.call<R>("get_session_state", { session_id: id })).toMatchObject({ last_exit_code: 130, state: "at_prompt" });

    const nested = "PS1='inner$ ' bash --norc --noprofile";
    const inner = await h.call<R>("send_input", { session_id: id, input: nested, timeout_ms: 3000 });
    expect(inner).toMatchObject({ completion: "exact", is_complete: false });
    // The inner prompt, waited for (a loaded machine may start the inner bash after the 3 s): exactly it, after the echo.
    await h.call("read_output", { session_id: id, wait_for: "^inner\\$ $", since_cursor: inner.cursor_start, timeout: 30 });
    expect((await h.call<R>("read_output", { session_id: id, since_cursor: inner.cursor_start })).output).toBe(`${nested}\ninner$ `);
    expect(await h.call<R>("send_input", { session_id: id, input: "echo in-inner" })).toMatchObject({ output: "in-inner\ninner$ ", is_complete: true, completion: "heuristic" });
    expect(await h.call<R>("send_input", { session_id: id, input: "exit 4" })).toMatchObject({ output: "exit\n$ ", is_complete: true, completion: "heuristic" });
    expect(await h.call<R>("send_input", { session_id: id, input: "echo outer" })).toMatchObject({ output: "outer\n$ ", exit_code: 0, completion: "exact" });
    await h.call("close_session", { session_id: id });
  });

  test("shell_integration: false types nothing: heuristic completion, no exit_code", async () => {
    // The previous test's shell saves its history when its connection ends, which may be after
    // close_session returned: wait until the account runs nothing before clearing the file.
    while (spawnSync(["pgrep", "-u", BASH_USER]).exitCode === 0) await Bun.sleep(20);
    rmSync(join(bash.home, ".bash_history_test"), { force: true });
    const { session_id: id } = await h.call<{ session_id: string }>("create_ssh_session", login(BASH_USER, { shell_integration: "false" }));
    await h.call("read_output", { session_id: id, wait_for: "^\\$ $", timeout: 15 });
    const r = await h.call<R>("send_input", { session_id: id, input: "false" });
    expect(r).toMatchObject({ output: "$ ", is_complete: true, completion: "heuristic" });
    expect(r.exit_code).toBeUndefined();
    const hist = await h.call<R>("send_input", { session_id: id, input: "history" });
    expect(hist.output).toMatch(/^ +1 +false\n +2 +history\n\$ $/);
    expect(await h.call<R>("get_session_state", { session_id: id })).toMatchObject({ shell_integration: false });
    expect((await h.call<R>("read_output", { session_id: id, since_cursor: 0 })).output).toBe(`welcome-from-bashrc\n$ false\n$ history\n${hist.output as string}`);
    await h.call("close_session", { session_id: id });
  });

  test("a command instead of the login shell is never hooked", async () => {
    const { session_id: id } = await h.call<{ session_id: string }>("create_ssh_session", login(BASH_USER, { command: "env PS1='$ ' bash --norc --noprofile" }));
    await h.call("read_output", { session_id: id, wait_for: "^\\$ $", timeout: 15 });
    expect(await h.call<R>("send_input", { session_id: id, input: "true" })).toMatchObject({ output: "$ ", completion: "heuristic" });
    expect(await h.call<R>("get_session_state", { session_id: id })).toMatchObject({ shell_integration: "off: a command runs instead of the login shell" });
    await h.call("close_session", { session_id: id });
  });
});

describe("shell integration over ssh (other login shells)", () => {
  test("sh (dash) is not hooked and nothing is typed into it", async () => {
    const { session_id: id } = await h.call<{ session_id: string }>("create_ssh_session", login(DASH_USER, { command: undefined }));
    await h.call("read_output", { session_id: id, wait_for: "\\$ $", timeout: 15 });
    const r = await h.call<R>("send_input", { session_id: id, input: "echo hi" });
    expect(r).toMatchObject({ output: "hi\n$ ", completion: "heuristic", is_complete: true });
    const all = await h.call<R>("read_output", { session_id: id, since_cursor: 0 });
    expect(all.output).toBe("$ echo hi\nhi\n$ ");
    expect(await h.call<R>("get_session_state", { session_id: id })).toMatchObject({ shell_integration: "off: the login shell /bin/sh is not bash, zsh or fish" });
    await h.call("close_session", { session_id: id });
  });

  test.skipIf(!zsh)("zsh: exit codes exact, no trace in the results or the history", async () => {
    rmSync(`/home/${ZSH_USER}/.zsh_history_test`, { force: true });
    const { session_id: id } = await h.call<{ session_id: string }>("create_ssh_session", login(ZSH_USER));
    expect(await h.call<R>("send_input", { session_id: id, input: "false" })).toMatchObject({ output: "zsh% ", exit_code: 1, completion: "exact" });
    expect(await h.call<R>("send_input", { session_id: id, input: "no_such_command_xyz" })).toMatchObject({ exit_code: 127, completion: "exact" });
    expect(await h.call<R>("send_input", { session_id: id, input: "true" })).toMatchObject({ output: "zsh% ", exit_code: 0, completion: "exact" });
    const all = await h.call<R>("read_output", { session_id: id, since_cursor: 0 });
    expect(all.output).toBe("zsh% false\nzsh% no_such_command_xyz\nzsh: command not found: no_such_command_xyz\nzsh% true\nzsh% ");
    expect(await h.call<R>("get_session_state", { session_id: id })).toMatchObject({ shell_integration: true, shell: "zsh" });
    // The user's HIST_IGNORE_SPACE keeps the (space-led) hook line out of zsh's history.
    const hist = await h.call<R>("send_input", { session_id: id, input: "fc -ln 1" });
    expect(hist.output).toBe("false\nno_such_command_xyz\ntrue\nzsh% ");
    await h.call("close_session", { session_id: id });
  });

  test.skipIf(!fish)("fish: exit codes exact, no trace in the results or the history", async () => {
    rmSync(`/home/${FISH_USER}/.local/share/fish/fish_history`, { force: true });
    const { session_id: id } = await h.call<{ session_id: string }>("create_ssh_session", login(FISH_USER));
    const results = [];
    for (const input of ["false", "echo x", "true"]) {
      const r = await h.call<R>("send_input", { session_id: id, input });
      results.push({ output: r.output, exit_code: r.exit_code, completion: r.completion });
    }
    const all = await h.call<R>("read_output", { session_id: id, since_cursor: 0 });
    const state = await h.call<R>("get_session_state", { session_id: id });
    const hist = await h.call<R>("send_input", { session_id: id, input: "history" });
    await h.call("close_session", { session_id: id });
    expect({ results, state: { shell_integration: state.shell_integration, shell: state.shell }, history: hist.output }).toEqual({
      results: [
        { output: "fish> ", exit_code: 1, completion: "exact" },
        { output: "x\nfish> ", exit_code: 0, completion: "exact" },
        { output: "fish> ", exit_code: 0, completion: "exact" },
      ],
      state: { shell_integration: true, shell: "fish" },
      history: "true\necho x\nfalse\nfish> ",
    });
    expectNoTrace(JSON.stringify([results, all, state, hist]));
  });
});
