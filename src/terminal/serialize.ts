// A rendered screen as escape sequences that redraw it on another terminal: what `pty-mcp
// attach` shows first, so a human sees the program's screen before any new output arrives.
// Sequences from xterm's ctlseqs (CUP, ED, SGR, DECSET 1049/1/2004/1000–1003, DECKPAM).
import type { IBufferCell as Cell, Terminal } from "@xterm/headless";

/**
 * Escape sequences that clear a terminal of the same size and redraw `term`'s visible screen
 * (characters, colors, attributes), switch to the alternate screen when the program uses it,
 * set the input modes the program asked for (application cursor keys and keypad, bracketed
 * paste, mouse tracking) and put the cursor where it is. Scroll regions and the program's
 * current pen are not carried over; programs set them again before they draw.
 */
export function serializeScreen(term: Terminal): string {
  const buffer = term.buffer.active;
  const parts: string[] = [];
  if (buffer.type === "alternate") parts.push("\x1b[?1049h");
  parts.push("\x1b[0m\x1b[H\x1b[2J");
  let reuse: Cell | undefined;
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    if (!line) continue;
    // The last cell worth drawing: text or a colored/attributed blank.
    let last = -1;
    for (let x = line.length - 1; x >= 0; x--) {
      reuse = line.getCell(x, reuse);
      if (!reuse) continue;
      if (reuse.getChars() !== "" || !reuse.isAttributeDefault()) {
        last = x;
        break;
      }
    }
    if (last < 0) continue;
    parts.push(`\x1b[${y + 1};1H`);
    let pen = "0"; // every line starts after a reset
    for (let x = 0; x <= last; x++) {
      reuse = line.getCell(x, reuse);
      if (!reuse || reuse.getWidth() === 0) continue; // second half of a wide character
      const sgr = sgrOf(reuse);
      if (sgr !== pen) {
        parts.push(`\x1b[${sgr}m`);
        pen = sgr;
      }
      parts.push(reuse.getChars() || " ");
    }
    if (pen !== "0") parts.push("\x1b[0m");
  }
  const modes = term.modes;
  if (modes.applicationCursorKeysMode) parts.push("\x1b[?1h");
  if (modes.applicationKeypadMode) parts.push("\x1b=");
  if (modes.bracketedPasteMode) parts.push("\x1b[?2004h");
  if (modes.insertMode) parts.push("\x1b[4h");
  if (!modes.wraparoundMode) parts.push("\x1b[?7l");
  const mouse = { none: "", x10: "\x1b[?9h", vt200: "\x1b[?1000h", drag: "\x1b[?1002h", any: "\x1b[?1003h" }[modes.mouseTrackingMode];
  if (mouse) parts.push(mouse);
  parts.push(`\x1b[${buffer.cursorY + 1};${buffer.cursorX + 1}H`);
  return parts.join("");
}

/**
 * What to send a human's terminal when it leaves an attached session: back to the normal
 * screen, default modes and attributes, cursor shown.
 */
export const RESET_TERMINAL = "\x1b[0m\x1b[?1049l\x1b[?1l\x1b>\x1b[?2004l\x1b[4l\x1b[?7h\x1b[?9l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?25h";

/** SGR parameters ("0;1;38;5;208") of a cell. */
function sgrOf(cell: Cell): string {
  const codes = ["0"];
  if (cell.isBold()) codes.push("1");
  if (cell.isDim()) codes.push("2");
  if (cell.isItalic()) codes.push("3");
  if (cell.isUnderline()) codes.push("4");
  if (cell.isBlink()) codes.push("5");
  if (cell.isInverse()) codes.push("7");
  if (cell.isInvisible()) codes.push("8");
  if (cell.isStrikethrough()) codes.push("9");
  if (cell.isOverline()) codes.push("53");
  codes.push(...colorCodes(cell.isFgRGB(), cell.isFgPalette(), cell.getFgColor(), 30, 90, 38));
  codes.push(...colorCodes(cell.isBgRGB(), cell.isBgPalette(), cell.getBgColor(), 40, 100, 48));
  return codes.join(";");
}

function colorCodes(rgb: boolean, palette: boolean, color: number, base: number, bright: number, extended: number): string[] {
  if (rgb) return [`${extended};2;${(color >> 16) & 0xff};${(color >> 8) & 0xff};${color & 0xff}`];
  if (!palette) return [];
  if (color < 8) return [String(base + color)];
  if (color < 16) return [String(bright + color - 8)];
  return [`${extended};5;${color}`];
}
