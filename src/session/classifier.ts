// What the program on the other end is doing, judged from the last lines it printed (ANSI
// already stripped) and, where the PTY is ours, the terminal's local flags. Shared by every
// transport: a router's console, an SSH shell and a local bash are classified alike.
import { stripAnsi } from "../terminal/ansi.ts";

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
  // Cisco questions with a default in brackets: "Destination filename [startup-config]?", "Address or name of remote host []?"
  /\[[^\]\n]{0,80}\]\?\s*$/,
];
/** Login prompts (IOS "Username:", getty "host login:", PuTTY "login as:"): a prompt waiting for a line. */
const LOGIN = /(?:^|\s)(?:user\s?name|user|login(?: as)?)\s*[:：]\s*$/i;
/** Pagers of shells and network operating systems. */
export const PAGER_PATTERNS: readonly RegExp[] = [
  /--\s*more\s*--/i,
  /<-+\s*more\s*-+>/i,
  /press any key to continue/i,
  /^\s*\(END\)\s*$/,
  /^\s*:\s*$/, // less, waiting at its prompt
  /^lines \d+-\d+(?:\/\d+)?(?: \(END\)| \d+%)?\s*$/i, // less -M style status
  /--\s*\(\d+%\)\s*--\s*$/, // more(1): --More--(42%)
  /-{2,}\s*\(more(?: \d+%)?\)\s*-{2,}/i, // Junos: ---(more)---, ---(more 42%)---
];
// IOS, IOS-XE, NX-OS, EOS, ASA, Junos: host> host# host(config)# host(config-if)#; IOS-XR puts RP/0/RSP0/CPU0: before the host.
const NETWORK_PROMPT = /^(?:RP\/\d+\/\w+\/CPU\d+:)?([A-Za-z][\w.\-@]*?)(?:\((config[\w\-.]*|[\w\-.]+)\))?([>#])\s?$/;
// Huawei VRP / H3C Comware: <host> user view, [host] or [~host-GigabitEthernet0/0/1] system view and below.
const VRP_PROMPT = /^(?:<([A-Za-z][\w.\-/:]*)>|\[[~*]?([A-Za-z][\w.\-/:]*)\])\s?$/;
// Cisco ROM monitor ("rommon 1 >") and the Catalyst boot loader ("switch:"): password recovery after a BREAK.
const ROMMON_PROMPT = /^(?:rommon \d+ ?>|switch:)\s?$/;
/** Junos prints the configuration context ("[edit]", "[edit interfaces ge-0/0/0]") on the line above a config-mode prompt. */
const JUNOS_EDIT = /^\[edit(?: [^\]]*)?\]\s*$/;
const SHELL_NAME = /^(?:ba|z|k|c|tc|da|fi)?sh-[\d.]+$/;
// A % after a digit is progress ("Loading 45%"), not a csh/zsh prompt ("host% ").
const GENERIC_PROMPT = /(?:[$#>❯➜»]|(?<!\d)%)\s?$/;
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
  if (PAGER_PATTERNS.some((p) => p.test(last)) && last.length < 120) return result("pager", { prompt: last.trim() });
  if (lastTrimmed.length > 0 && lastTrimmed.length < 200 && PASSWORD.test(last)) return result("password_prompt", { prompt: lastTrimmed });
  if (echoOff) return result("password_prompt", lastTrimmed ? { prompt: lastTrimmed } : {});
  if (lastTrimmed.length > 0 && lastTrimmed.length < 300 && CONFIRMATION.some((p) => p.test(last))) return result("confirmation", { prompt: lastTrimmed });
  if (lastTrimmed.length > 0 && lastTrimmed.length < 200) {
    const net = NETWORK_PROMPT.exec(lastTrimmed);
    if (net && !SHELL_NAME.test(net[1]!) && !REPL_PROMPT.test(lastTrimmed)) {
      const sub = net[2];
      const above = lines[lines.length - 2] ?? "";
      const cliMode = sub ? sub : net[3] === ">" ? "user" : JUNOS_EDIT.test(above) ? "config" : "enable";
      return result("at_prompt", { prompt: lastTrimmed, cliMode });
    }
    const rommon = ROMMON_PROMPT.exec(lastTrimmed);
    if (rommon) return result("at_prompt", { prompt: lastTrimmed, cliMode: lastTrimmed.startsWith("rommon") ? "rommon" : "bootloader" });
    const vrp = VRP_PROMPT.exec(lastTrimmed);
    if (vrp) return result("at_prompt", { prompt: lastTrimmed, cliMode: vrp[1] ? "user" : "system" });
    if (LOGIN.test(lastTrimmed)) return result("at_prompt", { prompt: lastTrimmed });
    if (GENERIC_PROMPT.test(last) || REPL_PROMPT.test(lastTrimmed)) return result("at_prompt", { prompt: lastTrimmed });
  }
  if (options.hasOutput === false) return result("unknown");
  return result("running");
}

/** True when `line` (ANSI-stripped) is one of the pager prompts. */
export function isPagerLine(line: string): boolean {
  return line.length < 120 && PAGER_PATTERNS.some((p) => p.test(line));
}

/**
 * Output with the pager prompts that auto_pager answered taken out. `segments` is the output
 * cut at the points where a pager prompt was answered: every segment but the last ends with
 * the prompt. From the prompt's start to its line's end goes (help text such as ", next page:
 * Space" included); the device's erase sequence for it at the start of the next segment
 * (IOS backspaces, Junos CR-spaces-CR, ESC [K) goes too, and so does a line break when the
 * prompt had its own line, so pages join as if the device had never paused.
 */
export function joinPages(segments: readonly string[]): string {
  let out = "";
  let promptOnly = false;
  segments.forEach((segment, i) => {
    let text = segment;
    if (i > 0) {
      text = text.replace(ERASE_PROMPT, "");
      if (promptOnly) text = text.replace(/^\r*\n/, "");
    }
    if (i < segments.length - 1) {
      const lineStart = text.lastIndexOf("\n") + 1;
      const line = stripAnsi(text.slice(lineStart));
      const at = pagerPromptStart(line);
      if (at >= 0) {
        const kept = line.slice(0, at).trimEnd();
        promptOnly = kept === "";
        text = text.slice(0, lineStart) + kept;
      } else {
        promptOnly = false;
      }
    }
    out += text;
  });
  return out;
}

/** What devices send to wipe a pager prompt before the next page: BS…SP…BS, CR SP… CR, ESC [K. */
const ERASE_PROMPT = /^(?:\x08+ *\x08*|\r +\r|\r?\x1b\[[0-2]?K)+/;

/** Where the first pager prompt starts in `line` (ANSI-free), or -1. */
function pagerPromptStart(line: string): number {
  let at = -1;
  for (const pattern of PAGER_PATTERNS) {
    const m = pattern.exec(line);
    if (m && (at < 0 || m.index < at)) at = m.index;
  }
  return at;
}


/** What classifySession reads of a session (Session implements it). */
export interface ClassifiedSession {
  readonly isAlive: boolean;
  readonly buffer: { readonly end: number };
  readonly transport: { readonly capabilities?: { localFlags?(): number | undefined } };
  readonly shell: { readonly atPrompt: boolean };
  tailText(bytes?: number, lines?: number): string;
}

/** classify() reads the last line of the tail and the one above it (Junos' [edit]): only those are cleaned. */
const CLASSIFIED_LINES = 2;

/** A session's state from its tail, its PTY's flags, and what shell integration said (a drawn prompt is a fact, whatever it looks like). */
export function classifySession(session: ClassifiedSession): Classification {
  const localFlags = session.isAlive ? session.transport.capabilities?.localFlags?.() : undefined;
  let c = classify(session.tailText(undefined, CLASSIFIED_LINES), { localFlags, hasOutput: session.buffer.end > 0 });
  if (session.shell.atPrompt && c.state !== "password_prompt") {
    const tail = session.tailText(512, 1);
    c = { ...c, state: "at_prompt", prompt: c.prompt ?? (tail.slice(tail.lastIndexOf("\n") + 1).trimEnd() || undefined) };
    if (c.prompt === undefined) delete c.prompt;
  }
  return c;
}
