// The one place for the shell integration hook text (OSC 133 markers, see shell-markers.ts).
// Local shells get it in a generated rc file (src/local/shell-integration.ts); shells we can only
// type into (SSH login shells) get it as one typed line (Session.installShellHook). Each hook is
// a list of one-line statements, so that joining with newlines (a file) or "; " (a typed line)
// gives the same program.

import bashHook from "./hooks/bash.sh" with { type: "text" };
import fishHook from "./hooks/fish.fish" with { type: "text" };
import zshHook from "./hooks/zsh.zsh" with { type: "text" };

export type HookedShell = "bash" | "zsh" | "fish";

/** A hook file's statements: its lines without comments and blank lines. */
function statements(text: string): string[] {
  return text.split("\n").filter((line) => line.trim() !== "" && !line.trimStart().startsWith("#"));
}

const STATEMENTS: Record<HookedShell, string[]> = { bash: statements(bashHook), zsh: statements(zshHook), fish: statements(fishHook) };

/** The same hook as one PROMPT_COMMAND line, for `bash --norc` (no rc file to put functions in). */
export const BASH_INLINE_HOOK =
  String.raw`printf '\033]133;D;%s\007' "$?"; export -n PROMPT_COMMAND PS0 2>/dev/null; ` +
  String.raw`case "$PS1" in *'133;B'*) ;; *) PS1='\[\033]133;A\007\]'"$PS1"'\[\033]133;B\007\]' ;; esac; ` +
  String.raw`case "$PS0" in *'133;C'*) ;; *) PS0="$PS0"'\033]133;C\007' ;; esac`;

/** The hook as rc file text (newline-separated statements). */
export function hookScript(shell: HookedShell): string {
  return `${STATEMENTS[shell].join("\n")}\n`;
}

// bash adds a typed line to its history before running it; the line removes itself again if it is
// there (HISTCONTROL=ignorespace already kept it out thanks to the leading space). `history 1` in a
// command substitution sees the shell's list; its first word is the entry's number.
const BASH_FORGET = String.raw`read -r __ptymcp_n __ptymcp_l <<<"$(history 1)"; case "$__ptymcp_l" in *__ptymcp_n*) history -d "$__ptymcp_n" ;; esac; unset __ptymcp_n __ptymcp_l`;

/**
 * The hook as one line to type at a prompt (no Enter): a leading space (HISTCONTROL=ignorespace,
 * zsh HIST_IGNORE_SPACE; fish never saves such a line), statements joined by "; ", and for bash the removal of its own history
 * entry. It prints nothing itself; the next prompt carries the first markers.
 */
export function typedHook(shell: HookedShell): string {
  if (shell === "bash") return ` ${[...STATEMENTS.bash, BASH_FORGET].join("; ")}`;
  return ` ${STATEMENTS[shell].join("; ")}`;
}

/** The shell a login shell path names, when it is one we can hook. */
export function hookableShell(path: string | undefined): HookedShell | undefined {
  const name = path?.trim().split("/").pop()?.replace(/^-/, "");
  return name === "bash" || name === "zsh" || name === "fish" ? name : undefined;
}
