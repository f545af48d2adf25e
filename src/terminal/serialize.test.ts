import { describe, expect, test } from "bun:test";
import xterm from "@xterm/headless";
import { serializeScreen } from "./serialize.ts";

const { Terminal } = xterm;
type Term = InstanceType<typeof Terminal>;

function term(cols = 40, rows = 6): Term {
  return new Terminal({ cols, rows, allowProposedApi: true });
}

function write(t: Term, data: string): Promise<void> {
  return new Promise((resolve) => t.write(data, resolve));
}

/** Lines, cursor, buffer type and each cell's attributes: what a human would see. */
function look(t: Term) {
  const b = t.buffer.active;
  const lines: string[] = [];
  const attrs: string[] = [];
  for (let y = 0; y < t.rows; y++) {
    const line = b.getLine(b.viewportY + y)!;
    lines.push(line.translateToString(true));
    let row = "";
    for (let x = 0; x < t.cols; x++) {
      const c = line.getCell(x)!;
      row += `${c.getFgColorMode()}:${c.getFgColor()}/${c.getBgColorMode()}:${c.getBgColor()}/${c.isBold()}${c.isUnderline()}${c.isInverse()}|`;
    }
    attrs.push(row);
  }
  return { lines, attrs, cursor: [b.cursorX, b.cursorY], type: b.type };
}

describe("serializeScreen", () => {
  test("replaying the sequences on an empty terminal gives the same screen, colors and cursor", async () => {
    const a = term();
    await write(a, "plain line\r\n\x1b[1;31mbold red\x1b[0m then \x1b[38;5;208morange\x1b[0m\r\n\x1b[44;97mwhite on blue\x1b[0m \x1b[38;2;10;20;30mrgb\x1b[0m\r\n\x1b[4munder\x1b[7minverse\x1b[0m\r\nwide: 日本\r\n$ ");
    const b = term();
    await write(b, serializeScreen(a));
    expect(look(b)).toEqual(look(a));
  });

  test("a full-screen program on the alternate screen stays there, with its input modes", async () => {
    const a = term();
    await write(a, "shell history\r\n\x1b[?1049h\x1b[?1h\x1b=\x1b[?2004h\x1b[H\x1b[2Jtop - 10:00\x1b[3;5HPID USER\x1b[6;1H\x1b[7mstatus\x1b[0m\x1b[2;2H");
    const ansi = serializeScreen(a);
    expect(ansi.startsWith("\x1b[?1049h")).toBe(true);
    const b = term();
    await write(b, ansi);
    expect(look(b)).toEqual(look(a));
    expect(b.modes).toEqual(a.modes);
  });

  test("an empty screen is a clear and a cursor home", async () => {
    expect(serializeScreen(term())).toBe("\x1b[0m\x1b[H\x1b[2J\x1b[1;1H");
  });
});
