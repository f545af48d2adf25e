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

/** A character that starts something stripAnsi removes (ESC, C1 CSI, the controls above): text without one is kept as it is. */
const STRIPPED_START = /[\x00-\x07\x0b\x0c\x0e-\x1f\x7f\x9b]/;
/** What cleanText rewrites line by line after stripping: a CR that ends no line, a backspace. */
const REWRITTEN = /\r(?![\r\n])|\x08/;
/** Either of the two above, in one scan (the lookahead is one character: linear). */
const NOT_PLAIN = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x9b]|\r(?![\r\n])/;
/**
 * CRs before a LF. The lookbehind starts a match only at the first CR of a run: plain /\r+\n/ would
 * try again at every CR of a long run that ends in something else (quadratic; 40 000 CRs took 2 s).
 */
const CRS_BEFORE_LF = /(?<!\r)\r+\n/g;

export function stripAnsi(text: string): string {
  // One scan for a start character first: most output of a flood has none (a search is cheaper than a replace).
  return STRIPPED_START.test(text) ? text.replace(ANSI_PATTERN, "") : text;
}

/**
 * Text as a reader wants it: escapes removed, CRLF as LF, and for lines
 * rewritten with a bare CR (progress bars) only what is finally displayed.
 * Backspaces erase the previous character, as on a terminal.
 */
export function cleanText(text: string): string {
  if (isPlain(text)) return text.includes("\r") ? text.replace(CRS_BEFORE_LF, "\n") : text;
  const stripped = stripAnsi(text);
  // Only lines with a bare CR or a backspace change further; without one, CRLF → LF is all (no split and join).
  if (!REWRITTEN.test(stripped)) return stripped.includes("\r") ? stripped.replace(CRS_BEFORE_LF, "\n") : stripped;
  const lines = stripped.replace(CRS_BEFORE_LF, "\n").split("\n");
  for (let i = 0; i < lines.length; i++) lines[i] = displayedLine(lines[i]!);
  return lines.join("\n");
}

/**
 * True when cleanText changes nothing in `text` but CRs before a LF: no escape, no control but tab,
 * LF and CR, every CR before a LF. Every line cleanText gives is then a piece of `text` as it is.
 */
export function isPlain(text: string): boolean {
  return !NOT_PLAIN.test(text);
}

/** What a terminal shows for one line: the text after the last bare CR that overwrote it, backspaces applied. */
export function displayedLine(line: string): string {
  let out = line;
  if (out.includes("\r")) {
    const trimmed = trimTrailing(out, "\r");
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

/** `text` without the run of `char` at its end. A loop: /\r+$/ retries at every CR of a long run that ends in something else (quadratic). */
export function trimTrailing(text: string, char: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === char) end--;
  return end === text.length ? text : text.slice(0, end);
}

/**
 * Where cleaning `bytes` (terminal output, UTF-8) may start and still give the same last `lines` lines as
 * cleaning all of it (what the classifier reads of a 4 KB tail): just after the `lines`th LF from the end.
 * Escapes are line-local but for the strings that may hold a LF (OSC to BEL/ST, DCS/SOS/PM/APC to ST):
 * when one may be open at any of those LFs, or a BOM follows the last (decode drops a leading one), 0 —
 * clean all. 0 too when there are not that many lines.
 */
export function lastLinesStart(bytes: Uint8Array, lines: number): number {
  let lf = bytes.length;
  for (let n = 0; n < lines; n++) {
    if (lf <= 0) return 0;
    lf = bytes.lastIndexOf(0x0a, lf - 1);
    if (lf < 0 || inEscapeString(bytes, lf)) return 0;
  }
  const start = lf + 1;
  if (bytes[start] === 0xef && bytes[start + 1] === 0xbb && bytes[start + 2] === 0xbf) return 0;
  return start;
}

/** Whether the string escape the last ESC before `at` opened (OSC: ends at its first BEL or ESC; DCS/SOS/PM/APC: at an ESC) may reach `at`. */
function inEscapeString(bytes: Uint8Array, at: number): boolean {
  const esc = at > 0 ? bytes.lastIndexOf(0x1b, at - 1) : -1;
  if (esc < 0) return false;
  const kind = bytes[esc + 1];
  if (kind === 0x5d) {
    const bel = bytes.indexOf(0x07, esc + 2);
    return bel < 0 || bel > at;
  }
  return kind === 0x50 || kind === 0x58 || kind === 0x5e || kind === 0x5f;
}
