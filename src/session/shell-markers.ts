// Shell integration markers (OSC 133, the "FinalTerm" semantic prompt sequences also used by
// iTerm2, VS Code, WezTerm): A prompt start, B prompt end (input starts), C command output
// starts, D;<status> command finished. Our hook (src/local/shell-integration.ts) makes bash and zsh
// print them; this parser spots them in the output stream. The markers stay in the byte stream
// (cursors are the same for every reader, the daemon's mirror included) and are invisible in every
// result: text results strip OSC sequences, the screen ignores OSC 133.

/** A–D as in OSC 133; "off" is ours (`133;pty-mcp-off;<why>`): the hook could not be installed. */
export type MarkerKind = "A" | "B" | "C" | "D" | "off";

export interface ShellMarker {
  kind: MarkerKind;
  /** D: the command's exit status, when the shell gave one. */
  exitCode?: number;
  /** off: why the hook could not be installed. */
  reason?: string;
  /** Absolute cursor just after the marker's last byte. */
  cursor: number;
}

const PREFIX = "\x1b]133;";
const MAX_SEQUENCE = 64;
const MAX_STARTS = 64;

export class ShellMarkerParser {
  /** Bytes of an unfinished sequence carried over from the previous chunk. */
  #carry = "";
  #decoder = new TextDecoder("latin1");

  /** Markers in `bytes`, which end at absolute cursor `end`. */
  push(bytes: Uint8Array, end: number): ShellMarker[] {
    // Fast path: no ESC and nothing carried, which is almost every chunk of a flood.
    if (this.#carry === "" && bytes.indexOf(0x1b) < 0) return [];
    const text = this.#carry + this.#decoder.decode(bytes);
    const base = end - text.length; // latin1: one char per byte
    this.#carry = "";
    const markers: ShellMarker[] = [];
    let i = text.indexOf("\x1b");
    while (i >= 0) {
      const rest = text.length - i;
      if (rest < PREFIX.length) {
        if (PREFIX.startsWith(text.slice(i))) this.#carry = text.slice(i);
        break;
      }
      if (text.startsWith(PREFIX, i)) {
        const bel = text.indexOf("\x07", i);
        const st = text.indexOf("\x1b\\", i + 1);
        const close = bel >= 0 && (st < 0 || bel < st) ? bel + 1 : st >= 0 ? st + 2 : -1;
        if (close < 0) {
          if (rest <= MAX_SEQUENCE) this.#carry = text.slice(i);
          break;
        }
        const body = text.slice(i + PREFIX.length, text[close - 1] === "\x07" ? close - 1 : close - 2);
        const marker = parseBody(body, base + close);
        if (marker) markers.push(marker);
        i = text.indexOf("\x1b", close);
        continue;
      }
      i = text.indexOf("\x1b", i + 1);
    }
    return markers;
  }
}

function parseBody(body: string, cursor: number): ShellMarker | undefined {
  const [kind, ...params] = body.split(";");
  if (kind === "pty-mcp-off") return { kind: "off", reason: params.join(";"), cursor };
  if (kind !== "A" && kind !== "B" && kind !== "C" && kind !== "D") return undefined;
  const marker: ShellMarker = { kind, cursor };
  if (kind === "D" && params[0] !== undefined && /^\d+$/.test(params[0])) marker.exitCode = Number(params[0]);
  return marker;
}

/** What the markers said so far; `active` once a hooked prompt was drawn. */
export class ShellState {
  active = false;
  phase: "unknown" | "prompt" | "command" | "finished" = "unknown";
  /**
   * Hooked prompts drawn for a new command line (exact completion counts them). A B with no D since
   * the last B is the same prompt drawn again (readline and zle redraw it on SIGWINCH) once this shell
   * is known to report D at its prompts (bash, zsh and fish do, also for an empty line): not counted.
   */
  prompts = 0;
  /** A D came since the last B; and the last counted B had one (the shell reports D at its prompts). */
  #endSinceB = false;
  #reportsEnds = false;
  commandEnds = 0;
  commandRunning = false;
  /** The last C cursors (a send of several command lines starts its output at its first). */
  #starts: number[] = [];
  lastExitCode: number | undefined;
  /**
   * Why the shell is not hooked, when a hook was wanted (get_session_state shows it until a hooked
   * prompt is drawn): set by the opener (not a shell we hook, a command instead of the login shell),
   * the hook gate, or the shell itself (an "off" mark). Undefined: no hook was asked for.
   */
  off: string | undefined;
  /**
   * A hook was installed with the program (a local shell started with our rc) and its first hooked
   * prompt has not been drawn yet: send_input waits for it (briefly) so that the first command is exact.
   * Cleared by the first B or "off" mark, or by send_input when the wait ran out.
   */
  pending = false;

  /** A new shell on the same session (reconnect_session): not hooked until its first B marker; the counters go on. */
  restart(): void {
    this.active = false;
    this.phase = "unknown";
    this.commandRunning = false;
    this.lastExitCode = undefined;
    this.off = undefined;
    this.#endSinceB = false;
    this.#reportsEnds = false;
  }

  /** The first C marker's cursor after `cursor`, else -1 (also when older ones were dropped: more than MAX_STARTS since). */
  firstCommandStartAfter(cursor: number): number {
    if (this.#starts.length === MAX_STARTS && this.#starts[0]! > cursor) return -1;
    return this.#starts.find((c) => c > cursor) ?? -1;
  }

  /** True when the shell sits at its prompt (a B marker was the last). */
  get atPrompt(): boolean {
    return this.active && this.phase === "prompt";
  }

  note(marker: ShellMarker): void {
    switch (marker.kind) {
      case "B":
        this.active = true;
        this.pending = false;
        this.phase = "prompt";
        if (this.#endSinceB || !this.#reportsEnds) {
          this.prompts++;
          this.#reportsEnds = this.#endSinceB;
        }
        this.#endSinceB = false;
        break;
      case "C":
        this.phase = "command";
        this.commandRunning = true;
        if (this.#starts.push(marker.cursor) > MAX_STARTS) this.#starts.shift();
        break;
      case "D":
        // A D without a C is an empty command line: no exit status to report.
        if (this.commandRunning) {
          this.lastExitCode = marker.exitCode;
          this.commandEnds++;
        }
        this.commandRunning = false;
        this.phase = "finished";
        this.#endSinceB = true;
        break;
      case "A":
        break;
      case "off":
        this.pending = false;
        this.off = `off: ${marker.reason || "the shell could not take the hook"}`;
        break;
    }
  }
}
