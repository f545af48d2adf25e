// ANSI/VT escape stripping for text results and matching.
// Covers CSI (ESC [ ... final), OSC (ESC ] ... BEL | ST), DCS/SOS/PM/APC strings (ESC P/X/^/_ ... ST),
// two-byte escapes (ESC x), 8-bit C1 CSI (0x9b) and lone control characters other than \t \n \r \b.
// Reference: ECMA-48 §5.4, xterm ctlseqs.

const ANSI_PATTERN = new RegExp(
  [
    "\\x1b\\[[0-?]*[ -/]*[@-~]", // CSI
    "\\x9b[0-?]*[ -/]*[@-~]", // C1 CSI
    "\\x1b\\][^\\x07\\x1b]*(?:\\x07|\\x1b\\\\|$)", // OSC to BEL/ST (or unterminated at end)
    "\\x1b[PX^_][^\\x1b]*(?:\\x1b\\\\|$)", // DCS, SOS, PM, APC
    "\\x1b[ -/]*[0-~]", // two/three byte escapes (charset selection, keypad modes, RIS...)
    // An ESC that starts no sequence: at the end, or before another ESC or a control (a terminal's parser
    // drops it: ESC inside an escape restarts it). Kept, it would join what follows into a new sequence.
    "\\x1b(?![ -~])",
    "[\\x00-\\x07\\x0b\\x0c\\x0e-\\x1a\\x1c-\\x1f\\x7f]", // other C0 controls except \b \t \n \r ESC
  ].join("|"),
  "g",
);

export function stripAnsi(text: string): string {
  return text.replace(ANSI_PATTERN, "");
}

/**
 * Text as a reader wants it: escapes removed, CRLF as LF, and for lines
 * rewritten with a bare CR (progress bars) only what is finally displayed.
 * Backspaces erase the previous character, as on a terminal.
 */
export function cleanText(text: string): string {
  const stripped = stripAnsi(text).replace(/\r+\n/g, "\n");
  const lines = stripped.split("\n");
  for (let i = 0; i < lines.length; i++) lines[i] = displayedLine(lines[i]!);
  return lines.join("\n");
}

/** What a terminal shows for one line: the text after the last bare CR that overwrote it, backspaces applied. */
export function displayedLine(line: string): string {
  let out = line;
  if (out.includes("\r")) {
    const trimmed = out.replace(/\r+$/, "");
    const segments = trimmed.split("\r");
    // An overwrite replaces the start of the line; keep the longer earlier text beyond the new segment's length.
    let shown = "";
    for (const seg of segments) {
      const rest = shown.slice(seg.length);
      // Blank cells left over from an earlier, longer write (zsh's PROMPT_SP line) are not text.
      shown = rest.trim() === "" ? seg : seg + rest;
    }
    out = shown;
  }
  if (out.includes("\b")) {
    const chars: string[] = [];
    for (const ch of out) {
      if (ch === "\b") chars.pop();
      else chars.push(ch);
    }
    out = chars.join("");
  }
  return out;
}
