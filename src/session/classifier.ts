// What the program on the other end is doing, judged from the last lines it printed (ANSI
// already stripped) and, where the PTY is ours, the terminal's local flags. Shared by every
// transport: a router's console, an SSH shell and a local bash are classified alike.

export type SessionState = "at_prompt" | "password_prompt" | "confirmation" | "pager" | "running" | "unknown";

export interface Classification {
  state: SessionState;
  /** The prompt line when state is at_prompt (or a password/confirmation prompt). */
  prompt?: string;
  /** Network gear CLI mode from the prompt: user (`host>`), enable (`host#`), config (`host(config)#`), config-if … */
  cliMode?: string;
  /** The terminal has canonical mode on and echo off: someone is reading a secret. */
  echoOff?: boolean;
}

const PASSWORD = /(?:password|passphrase|passcode|pass phrase|\bpin\b|secret|kennwort|mot de passe|contraseña|пароль|密码)[^\n]{0,60}[:：?]\s*$/i;
const CONFIRMATION = [
  /\[(?:y\/n|yes\/no|y\/n\/q)\]\s*[:?]?\s*$/i,
  /\((?:y\/n|yes\/no)(?:\/\[fingerprint\])?\)\s*[:?]?\s*$/i,
  /\[confirm\]\s*$/i,
  /\[y(?:es)?\/n(?:o)?\]\s*$/i,
  /(?:continue|proceed|are you sure|overwrite)[^\n]{0,80}\?\s*$/i,
];
/** Pagers of shells and network operating systems. */
export const PAGER_PATTERNS: readonly RegExp[] = [
  /--\s*more\s*--/i,
  /<-+\s*more\s*-+>/i,
  /press any key to continue/i,
  /^\s*\(END\)\s*$/,
  /^\s*:\s*$/, // less, waiting at its prompt
  /^lines \d+-\d+(?:\/\d+)?(?: \(END\)| \d+%)?\s*$/i, // less -M style status
  /--\s*\(\d+%\)\s*--\s*$/, // more(1): --More--(42%)
];
const NETWORK_PROMPT = /^([A-Za-z][\w.\-@]*?)(?:\((config[\w\-.]*|[\w\-.]+)\))?([>#])\s?$/;
const SHELL_NAME = /^(?:ba|z|k|c|tc|da|fi)?sh-[\d.]+$/;
const GENERIC_PROMPT = /[$#%>❯➜»]\s?$/;
const REPL_PROMPT = /^(?:>>>|\.\.\.|In \[\d+\]:|irb\([^)]*\)[^\n]*[>*]|mysql>|postgres[=#-]#?|[\w-]+=[#>]|sqlite>|>)\s?$/;

/** Linux and macOS c_lflag bits (termios.h). */
const LFLAG = process.platform === "darwin" ? { ICANON: 0x100, ECHO: 0x8 } : { ICANON: 0x2, ECHO: 0x8 };

/** Canonical mode on with echo off: a program reads a line without showing it (getpass, `read -s`, sudo). Readline at a shell prompt turns both off. */
export function isSecretInputMode(localFlags: number | undefined): boolean {
  if (localFlags === undefined || localFlags === 0) return false;
  return (localFlags & LFLAG.ICANON) !== 0 && (localFlags & LFLAG.ECHO) === 0;
}

/**
 * Classifies the tail of a session's output. `tail` is ANSI-stripped text; only its last line
 * (the one the cursor is on) decides the state. `hasOutput` false means nothing was printed yet.
 */
export function classify(tail: string, options: { localFlags?: number; hasOutput?: boolean } = {}): Classification {
  const echoOff = options.localFlags === undefined ? undefined : isSecretInputMode(options.localFlags);
  const lines = tail.split("\n");
  const last = lines[lines.length - 1] ?? "";
  const lastTrimmed = last.trimEnd();
  const result = (state: SessionState, extra: Partial<Classification> = {}): Classification => {
    const c: Classification = { state, ...extra };
    if (echoOff !== undefined) c.echoOff = echoOff;
    return c;
  };
  if (PAGER_PATTERNS.some((p) => p.test(last)) && last.length < 120) return result("pager", { prompt: lastTrimmed });
  if (lastTrimmed.length > 0 && lastTrimmed.length < 200 && PASSWORD.test(last)) return result("password_prompt", { prompt: lastTrimmed });
  if (echoOff) return result("password_prompt", lastTrimmed ? { prompt: lastTrimmed } : {});
  if (lastTrimmed.length > 0 && lastTrimmed.length < 300 && CONFIRMATION.some((p) => p.test(last))) return result("confirmation", { prompt: lastTrimmed });
  if (lastTrimmed.length > 0 && lastTrimmed.length < 200) {
    const net = NETWORK_PROMPT.exec(lastTrimmed);
    if (net && !SHELL_NAME.test(net[1]!) && !REPL_PROMPT.test(lastTrimmed)) {
      const sub = net[2];
      const cliMode = sub ? sub : net[3] === ">" ? "user" : "enable";
      return result("at_prompt", { prompt: lastTrimmed, cliMode });
    }
    if (GENERIC_PROMPT.test(last) || REPL_PROMPT.test(lastTrimmed)) return result("at_prompt", { prompt: lastTrimmed });
  }
  if (options.hasOutput === false) return result("unknown");
  return result("running");
}

/** True when `line` (ANSI-stripped) is one of the pager prompts. */
export function isPagerLine(line: string): boolean {
  return line.length < 120 && PAGER_PATTERNS.some((p) => p.test(line));
}
