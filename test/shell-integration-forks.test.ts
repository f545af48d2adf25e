// The shell hooks fork nothing at a prompt or around a command (local sessions; over SSH: in
// shell-integration-ssh.test.ts): strace, attached to the session's shell, counts the processes it starts
// over 20 `echo` lines — builtins, so the hook's own forks would be all there is — and 3 `/bin/true`, one
// process each (harness/strace.ts). A fork a prompt (bash's old `$(trap -p DEBUG)`, ~0.5 ms) gives 26, not 3.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McpHarness, plainBash } from "./harness/mcp.ts";
import { knownHostsLine, makeKey, sshdAvailable, startSshd, type Sshd } from "./harness/sshd.ts";
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

/** Creates a session (local unless `tool` says) and waits for its hooked prompt. */
async function hookedSession(create: R, tool = "create_local_session"): Promise<string> {
  const { session_id: id } = await h.call<{ session_id: string }>(tool, { ...create, cols: 120, rows: 40 });
  for (let i = 0; i < 400; i++) {
    const state = await h.call<R>("get_session_state", { session_id: id });
    if (state.shell_integration === true && state.state === "at_prompt") break;
    await Bun.sleep(25);
  }
  await h.call<R>("read_output", { session_id: id });
  return id;
}

async function countForks(create: R, pidOf = "$$"): Promise<{ results: R[]; started: number }> {
  const id = await hookedSession(create);
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

describe.skipIf(!sshdAvailable)("over SSH, bash without $XDG_RUNTIME_DIR (no PAM session)", () => {
  let sshd: Sshd;
  let remoteHome: string;
  let remoteTmp: string;

  beforeAll(async () => {
    remoteHome = mkdtempSync(join(tmpdir(), `pty-mcp-forks-remote-${process.pid}-`));
    remoteTmp = join(remoteHome, "tmp");
    mkdirSync(remoteTmp, { mode: 0o700 });
    writeFileSync(join(remoteHome, ".bash_profile"), "PS1='$ '\n");
    // No XDG_RUNTIME_DIR in the login's environment (sshd without PAM sets none); TMPDIR is where mktemp makes files.
    sshd = await startSshd({ extraConfig: `SetEnv HOME=${remoteHome} TMPDIR=${remoteTmp}` });
    mkdirSync(join(home, ".ssh"), { recursive: true, mode: 0o700 });
    sshd.authorize(makeKey(join(home, ".ssh", "id_ed25519")).pub);
    writeFileSync(join(home, ".ssh", "known_hosts"), `${knownHostsLine(sshd)}\n`);
  });

  afterAll(async () => {
    await sshd?.[Symbol.asyncDispose]();
    rmSync(remoteHome, { recursive: true, force: true });
  });

  test("the typed hook forks nothing per prompt: trap -p goes to an unlinked file the shell holds open, nothing left in TMPDIR", async () => {
    const id = await hookedSession({ host: "127.0.0.1", port: sshd.port, user: "root" }, "create_ssh_session");
    const env = await h.call<R>("send_input", { session_id: id, input: 'echo "xdg=${XDG_RUNTIME_DIR-unset} tf=$__ptymcp_tf"' });
    const { pid, ...counted } = await forksOverCommands(h, id, home);
    const tf = /^xdg=unset tf=(\/proc\/\d+\/fd\/\d+)$/m.exec(String(env.output))?.[1] ?? String(env.output);
    // The file mktemp made (0600, random name) in TMPDIR, removed at install: the link names it "(deleted)".
    let target = "";
    try {
      target = readlinkSync(tf);
    } catch {
      // no such fd: the hook did not open one (the fork fallback); the toEqual below says what it saw
    }
    const left = readdirSync(remoteTmp);
    await h.call("close_session", { session_id: id });
    expect({ ...counted, tf, deleted: /^\/.+\/tmp\.[A-Za-z0-9]{10} \(deleted\)$/.test(target) && target.startsWith(`${remoteTmp}/`), left }).toEqual({
      ...NO_FORKS,
      tf: expect.stringMatching(new RegExp(`^/proc/${pid}/fd/\\d+$`)),
      deleted: true,
      left: [],
    });
  });

  test("a user who opens the hook's fd number for a file of their own keeps that file: the hook stops writing there (and forks a prompt from then on)", async () => {
    const id = await hookedSession({ host: "127.0.0.1", port: sshd.port, user: "root" }, "create_ssh_session");
    const run = async (input: string) => {
      const r = await h.call<R>("send_input", { session_id: id, input });
      return { output: r.output, exit_code: r.exit_code, completion: r.completion };
    };
    const steps = [
      await run('eval "exec $__ptymcp_fd>\"\$HOME/mine.log\""; echo keep >&$__ptymcp_fd'),
      await run("false"),
      await run('echo "tf=[$__ptymcp_tf]"'),
    ];
    const mine = readFileSync(join(remoteHome, "mine.log"), "utf8");
    await h.call("close_session", { session_id: id });
    expect({ steps, mine }).toEqual({
      steps: [
        { output: "$ ", exit_code: 0, completion: "exact" },
        { output: "$ ", exit_code: 1, completion: "exact" },
        { output: "tf=[]\n$ ", exit_code: 0, completion: "exact" },
      ],
      mine: "keep\n",
    });
  });
});
