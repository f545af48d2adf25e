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

/** The bash hook's last statement: installs it, given the DEBUG trap there is (`trap -p` says nothing inside a function). */
const BASH_INSTALL = '__ptymcp_install "$(trap -p DEBUG)"';

/**
 * The statement that gives the bash hook its file for `trap -p DEBUG` (a path in a private directory
 * of the session's, removed with it): with it no prompt forks. Before the user's rc (a DEBUG trap of
 * theirs would see it as a command).
 */
export function bashTrapFile(path: string): string {
  return `__ptymcp_tf=${shellQuote(path)}`;
}

/**
 * The bash hook as a PROMPT_COMMAND that installs itself at the first prompt (`bash --norc`: no rc
 * file to put it in), around the caller's own PROMPT_COMMAND, which runs for that first prompt too.
 * It un-exports PROMPT_COMMAND first, so child programs do not inherit it. No DEBUG trap can be set
 * before the first prompt of a --norc shell: no `trap -p` (a fork) there.
 */
export function bashPromptCommandHook(userCommand: string | undefined, trapFile: string): string {
  const statements = STATEMENTS.bash.filter((line) => line !== BASH_INSTALL);
  const user = userCommand ? shellQuote(userCommand) : "";
  return [
    "export -n PROMPT_COMMAND",
    `PROMPT_COMMAND=${user || "''"}`,
    bashTrapFile(trapFile),
    ...statements,
    "__ptymcp_install ''",
    // The D every later prompt gets from PROMPT_COMMAND's first entry: without it this first prompt's B
    // looked like a shell that reports no D, and a SIGWINCH redraw of it counted as a new prompt.
    "__ptymcp_status",
    ...(user ? [`eval ${user}`] : []),
    `__ptymcp_prompt "$?" ''`,
  ].join("\n");
}

/** Single-quotes text for a shell script we generate (the text may contain anything). */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

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
