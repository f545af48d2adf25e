// The key map of SPEC §3: names an agent uses → bytes a terminal sends (xterm, normal cursor mode),
// or an action of the medium (a serial BREAK, modem lines).
// Reference: xterm ctlseqs "PC-Style Function Keys".
import { PtyError } from "../errors.ts";
import type { TransportCapabilities } from "./transport.ts";

export type KeyAction =
  | { kind: "bytes"; bytes: string }
  | { kind: "break" }
  | { kind: "modem"; lines: { dtr?: boolean; rts?: boolean } };

const NAMED: Record<string, string> = {
  enter: "\r",
  space: " ",
  tab: "\t",
  "shift+tab": "\x1b[Z",
  escape: "\x1b",
  backspace: "\x7f",
  delete: "\x1b[3~",
  insert: "\x1b[2~",
  home: "\x1b[H",
  end: "\x1b[F",
  pageup: "\x1b[5~",
  pagedown: "\x1b[6~",
  up: "\x1b[A",
  down: "\x1b[B",
  right: "\x1b[C",
  left: "\x1b[D",
  f1: "\x1bOP",
  f2: "\x1bOQ",
  f3: "\x1bOR",
  f4: "\x1bOS",
  f5: "\x1b[15~",
  f6: "\x1b[17~",
  f7: "\x1b[18~",
  f8: "\x1b[19~",
  f9: "\x1b[20~",
  f10: "\x1b[21~",
  f11: "\x1b[23~",
  f12: "\x1b[24~",
  "ctrl+\\": "\x1c",
  "ctrl+]": "\x1d",
  "ctrl+^": "\x1e",
  "ctrl+_": "\x1f",
  "ctrl+@": "\x00",
  "ctrl+space": "\x00",
  "ctrl+[": "\x1b",
};

const ALIASES: Record<string, string> = {
  return: "enter",
  esc: "escape",
  del: "delete",
  pgup: "pageup",
  pgdn: "pagedown",
  "page_up": "pageup",
  "page_down": "pagedown",
  backtab: "shift+tab",
  bs: "backspace",
};

const ACTIONS: Record<string, KeyAction> = {
  break: { kind: "break" },
  dtr_on: { kind: "modem", lines: { dtr: true } },
  dtr_off: { kind: "modem", lines: { dtr: false } },
  rts_on: { kind: "modem", lines: { rts: true } },
  rts_off: { kind: "modem", lines: { rts: false } },
};

/** Every key name accepted, for error messages and the tool description. */
export const KEY_NAMES: readonly string[] = [
  "ctrl+a … ctrl+z",
  ...Object.keys(NAMED),
  "alt+<char>",
  ...Object.keys(ACTIONS),
];

/** Resolves a key name ("ctrl+c", "Ctrl-C", "^C", "up", "alt+b", "break") or throws INVALID_ARGUMENT listing the valid names. */
export function resolveKey(key: string): KeyAction {
  const raw = key.trim();
  let name = raw.toLowerCase().replace(/\s+/g, "");
  if (/^\^[a-z@[\\\]^_]$/i.test(raw)) name = `ctrl+${raw[1]!.toLowerCase()}`;
  name = name.replace(/^(ctrl|control|c|alt|meta|m|shift)-(.+)$/, (_, mod: string, rest: string) => `${mod}+${rest}`);
  name = name.replace(/^(control|c)\+/, "ctrl+").replace(/^(meta|m)\+/, "alt+");
  name = ALIASES[name] ?? name;
  const action = ACTIONS[name];
  if (action) return action;
  const named = NAMED[name];
  if (named !== undefined) return { kind: "bytes", bytes: named };
  const ctrl = /^ctrl\+([a-z])$/.exec(name);
  if (ctrl) return { kind: "bytes", bytes: String.fromCharCode(ctrl[1]!.charCodeAt(0) - 96) };
  // alt+<char> keeps the character's case from the original spelling (alt+B differs from alt+b).
  const alt = /^(?:alt|meta|m)[+-](.)$/i.exec(raw);
  if (alt) return { kind: "bytes", bytes: `\x1b${alt[1]}` };
  const altNamed = /^alt\+(.+)$/.exec(name);
  if (altNamed && NAMED[altNamed[1]!] !== undefined) return { kind: "bytes", bytes: `\x1b${NAMED[altNamed[1]!]}` };
  throw new PtyError("INVALID_ARGUMENT", `Unknown key "${key}". Valid keys: ${KEY_NAMES.join(", ")}. To type text, use send_input.`);
}

/**
 * The medium's action for a BREAK or modem-line key, checked against what the transport can do
 * (`what`, e.g. "session local-1 is local", names the session in the refusal).
 */
export function lineAction(action: Exclude<KeyAction, { kind: "bytes" }>, key: string, caps: TransportCapabilities | undefined, what: string): () => Promise<void> {
  if (action.kind === "break") {
    if (!caps?.sendBreak) throw new PtyError("INVALID_ARGUMENT", `"break" is a serial BREAK; ${what}. Use ctrl+c to interrupt a program.`);
    const sendBreak = caps.sendBreak.bind(caps);
    return () => sendBreak();
  }
  if (!caps?.setModemLines) throw new PtyError("INVALID_ARGUMENT", `"${key}" sets a serial modem line; ${what}.`);
  const setModemLines = caps.setModemLines.bind(caps);
  return () => setModemLines(action.lines);
}

/** Full-screen programs switch cursor keys to application mode (DECCKM): ESC O A instead of ESC [ A. */
export async function cursorKeyMode(bytes: string, screen: { sync(): Promise<void>; readonly applicationCursorKeys: boolean }): Promise<string> {
  if (!/^\x1b\[[ABCDHF]$/.test(bytes)) return bytes;
  await screen.sync();
  return screen.applicationCursorKeys ? `\x1bO${bytes[2]}` : bytes;
}
