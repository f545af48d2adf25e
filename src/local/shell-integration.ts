// Makes an interactive bash, zsh or fish print OSC 133 markers (prompt start/end, command start, command
// end with exit status) so the session core knows exactly when a command is done and how it ended.
// The user's own files are not touched: bash gets `--rcfile` of a generated file that first sources
// the user's ~/.bashrc; zsh gets a generated ZDOTDIR whose files source the user's; fish gets the hook
// as --init-command (run after its config). The generated
// files live in a private temp dir (0700) that is removed when the session ends.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { bashPromptCommandHook, bashTrapFile, hookScript, shellQuote, type HookedShell } from "../session/shell-hooks.ts";

export interface InstrumentedShell {
  shell: HookedShell;
  argv: string[];
  env: Record<string, string>;
  /** Removes the generated files. Safe to call twice. */
  cleanup(): void;
}

/** Instruments `argv` when it starts an interactive bash, zsh or fish; undefined for anything else (it falls back to heuristics). */
export function instrumentShell(argv: readonly string[], env: Record<string, string | undefined> = {}): InstrumentedShell | undefined {
  const home = env.HOME ?? process.env.HOME ?? "";
  const program = basename(argv[0] ?? "");
  const args = argv.slice(1);
  if (program === "bash") return instrumentBash(argv[0]!, args, home, env.PROMPT_COMMAND ?? process.env.PROMPT_COMMAND);
  if (program === "zsh") return instrumentZsh(argv[0]!, args, home);
  if (program === "fish") return instrumentFish(argv[0]!, args);
  return undefined;
}

function instrumentBash(path: string, args: string[], home: string, userCommand: string | undefined): InstrumentedShell | undefined {
  let norc = false;
  let rcfile: string | undefined;
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--norc") norc = true;
    else if (a === "--rcfile" || a === "--init-file") rcfile = args[++i];
    else if (a === "--noprofile" || a === "-i") kept.push(a);
    // -c, a script, --login (reads the profile, never an rcfile), --posix …: not ours to hook.
    else return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), "pty-mcp-sh-"));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const trapFile = join(dir, "debug-trap");
  if (norc) {
    // --norc must stay --norc (an --rcfile would bring /etc/bash.bashrc back on Debian): the hook comes
    // through the environment instead, as a PROMPT_COMMAND that installs it at the first prompt (the
    // same hook as the rc file's, around the user's own PROMPT_COMMAND, which then runs for the first
    // prompt too) and un-exports itself, so child programs don't inherit it.
    return {
      shell: "bash",
      argv: [path, "--norc", ...kept],
      env: { PROMPT_COMMAND: bashPromptCommandHook(userCommand, trapFile) },
      cleanup,
    };
  }
  const file = join(dir, "bashrc");
  const userRc = rcfile ?? join(home, ".bashrc");
  const source = `if [ -f ${shellQuote(userRc)} ]; then . ${shellQuote(userRc)}; fi\n`;
  writeFileSync(file, `# pty-mcp shell integration (generated, removed when the session ends)\n${bashTrapFile(trapFile)}\n${source}${hookScript("bash")}`, { mode: 0o600 });
  return { shell: "bash", argv: [path, ...kept, "--rcfile", file], env: {}, cleanup };
}

function instrumentZsh(path: string, args: string[], home: string): InstrumentedShell | undefined {
  for (const a of args) if (!["-i", "--no-globalrcs", "-d", "--login", "-l"].includes(a)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "pty-mcp-zsh-"));
  const userDir = process.env.ZDOTDIR ?? home;
  const passThrough = (name: string) =>
    `__ptymcp_zd=$ZDOTDIR; ZDOTDIR=$__PTYMCP_USER_ZDOTDIR; [[ -f "$ZDOTDIR/${name}" ]] && . "$ZDOTDIR/${name}"; ZDOTDIR=$__ptymcp_zd\n`;
  writeFileSync(join(dir, ".zshenv"), passThrough(".zshenv"), { mode: 0o600 });
  writeFileSync(join(dir, ".zprofile"), passThrough(".zprofile"), { mode: 0o600 });
  writeFileSync(join(dir, ".zlogin"), passThrough(".zlogin"), { mode: 0o600 });
  // .zshrc is the last file an interactive shell reads before its first prompt: hook, then give ZDOTDIR back.
  writeFileSync(
    join(dir, ".zshrc"),
    `${passThrough(".zshrc")}${hookScript("zsh")}ZDOTDIR=$__PTYMCP_USER_ZDOTDIR; unset __PTYMCP_USER_ZDOTDIR __ptymcp_zd\n`,
    { mode: 0o600 },
  );
  return {
    shell: "zsh",
    argv: [path, ...args],
    env: { ZDOTDIR: dir, __PTYMCP_USER_ZDOTDIR: userDir },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** fish: the hook as `--init-command`, which runs after the user's config and before the first prompt. No files. */
function instrumentFish(path: string, args: string[]): InstrumentedShell | undefined {
  for (const a of args) if (!["-i", "--interactive", "-l", "--login", "-P", "--private", "-N", "--no-config"].includes(a)) return undefined;
  return { shell: "fish", argv: [path, ...args, "--init-command", hookScript("fish")], env: {}, cleanup: () => undefined };
}
