// Makes an interactive bash or zsh print OSC 133 markers (prompt start/end, command start, command
// end with exit status) so the session core knows exactly when a command is done and how it ended.
// The user's own files are not touched: bash gets `--rcfile` of a generated file that first sources
// the user's ~/.bashrc; zsh gets a generated ZDOTDIR whose files source the user's. The generated
// files live in a private temp dir (0700) that is removed when the session ends.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";

export interface InstrumentedShell {
  shell: "bash" | "zsh";
  argv: string[];
  env: Record<string, string>;
  /** Removes the generated files. Safe to call twice. */
  cleanup(): void;
}

// bash: D (with $?) first in PROMPT_COMMAND, so it sees the command's status; PS1 wrapped in A…B last,
// after anything of the user's that rebuilds PS1 (git prompts, starship); C from PS0 (bash ≥ 4.4),
// which is shown after a command line is read and before it runs.
const BASH_HOOK = String.raw`
__ptymcp_status() { local s=$?; printf '\033]133;D;%s\007' "$s"; return $s; }
__ptymcp_ps1() {
  case "$PS1" in *'133;B'*) ;; *) PS1='\[\033]133;A\007\]'"$PS1"'\[\033]133;B\007\]' ;; esac
  case "$PS0" in *'133;C'*) ;; *) PS0="$PS0"'\033]133;C\007' ;; esac
}
PROMPT_COMMAND="__ptymcp_status;\${PROMPT_COMMAND:+\$PROMPT_COMMAND;}__ptymcp_ps1"
`.replaceAll("\\${", "${").replaceAll("\\$PROMPT", "$PROMPT");

/** The same hook as one PROMPT_COMMAND line, for `bash --norc` (no rc file to put functions in). */
const BASH_INLINE_HOOK =
  `printf '\\033]133;D;%s\\007' "$?"; export -n PROMPT_COMMAND PS0 2>/dev/null; ` +
  `case "$PS1" in *'133;B'*) ;; *) PS1='\\[\\033]133;A\\007\\]'"$PS1"'\\[\\033]133;B\\007\\]' ;; esac; ` +
  `case "$PS0" in *'133;C'*) ;; *) PS0="$PS0"'\\033]133;C\\007' ;; esac`;

const ZSH_HOOK = String.raw`
__ptymcp_precmd() { local s=$?; print -n "\e]133;D;$s\a"; [[ "$PS1" == *'133;B'* ]] || PS1=$'%{\e]133;A\a%}'"$PS1"$'%{\e]133;B\a%}'; return $s; }
__ptymcp_preexec() { print -n "\e]133;C\a"; }
typeset -ga precmd_functions preexec_functions
precmd_functions=(__ptymcp_precmd $precmd_functions)
preexec_functions+=(__ptymcp_preexec)
`;

/** Instruments `argv` when it starts an interactive bash or zsh; undefined for anything else (it falls back to heuristics). */
export function instrumentShell(argv: readonly string[], env: Record<string, string | undefined> = {}): InstrumentedShell | undefined {
  const home = env.HOME ?? process.env.HOME ?? "";
  const program = basename(argv[0] ?? "");
  const args = argv.slice(1);
  if (program === "bash") return instrumentBash(argv[0]!, args, home, env.PROMPT_COMMAND ?? process.env.PROMPT_COMMAND);
  if (program === "zsh") return instrumentZsh(argv[0]!, args, home);
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
  if (norc) {
    // --norc must stay --norc (an --rcfile would bring /etc/bash.bashrc back on Debian): hook through
    // the environment instead, and un-export it at the first prompt so child programs don't inherit it.
    return {
      shell: "bash",
      argv: [path, "--norc", ...kept],
      env: { PROMPT_COMMAND: userCommand ? `${BASH_INLINE_HOOK}\n${userCommand}` : BASH_INLINE_HOOK },
      cleanup: () => undefined,
    };
  }
  const dir = mkdtempSync(join(tmpdir(), "pty-mcp-sh-"));
  const file = join(dir, "bashrc");
  const userRc = rcfile ?? join(home, ".bashrc");
  const source = `if [ -f ${shellQuote(userRc)} ]; then . ${shellQuote(userRc)}; fi\n`;
  writeFileSync(file, `# pty-mcp shell integration (generated, removed when the session ends)\n${source}${BASH_HOOK}`, { mode: 0o600 });
  return { shell: "bash", argv: [path, ...kept, "--rcfile", file], env: {}, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
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
    `${passThrough(".zshrc")}${ZSH_HOOK}\nZDOTDIR=$__PTYMCP_USER_ZDOTDIR; unset __PTYMCP_USER_ZDOTDIR __ptymcp_zd\n`,
    { mode: 0o600 },
  );
  return {
    shell: "zsh",
    argv: [path, ...args],
    env: { ZDOTDIR: dir, __PTYMCP_USER_ZDOTDIR: userDir },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Single-quotes a path for a shell script we generate (the path may contain anything). */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
