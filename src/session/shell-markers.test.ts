import { describe, expect, test } from "bun:test";
import { ShellMarkerParser, ShellState, type MarkerKind } from "./shell-markers.ts";

const enc = (s: string) => new TextEncoder().encode(s);

describe("OSC 133 marker parser", () => {
  test("finds A/B/C/D with cursors and exit status, BEL or ST terminated", () => {
    const p = new ShellMarkerParser();
    const s = "\x1b]133;A\x07$ \x1b]133;B\x07ls\r\n\x1b]133;C\x07out\r\n\x1b]133;D;2\x1b\\";
    expect(p.push(enc(s), s.length)).toEqual([
      { kind: "A", cursor: 8 },
      { kind: "B", cursor: 18 },
      { kind: "C", cursor: 30 },
      { kind: "D", exitCode: 2, cursor: s.length },
    ]);
  });
  test("a marker split across chunks is found once, at the right cursor", () => {
    const p = new ShellMarkerParser();
    const s = "abc\x1b]133;D;130\x07def";
    const found = [];
    for (let cut = 0, pos = 0; pos < s.length; cut++) {
      const chunk = s.slice(pos, pos + 3);
      pos += chunk.length;
      found.push(...p.push(enc(chunk), pos));
    }
    expect(found).toEqual([{ kind: "D", exitCode: 130, cursor: 15 }]);
  });
  test("other escapes and OSCs are ignored", () => {
    const p = new ShellMarkerParser();
    expect(p.push(enc("\x1b[31mred\x1b]0;title\x07\x1b]1337;X\x07"), 30)).toEqual([]);
  });
});

describe("ShellState: prompts counted for new command lines", () => {
  const feed = (state: ShellState, kinds: string) => {
    for (const k of kinds.split(" ")) state.note({ kind: k as MarkerKind, cursor: 0, ...(k === "D" ? { exitCode: 0 } : {}) });
    return state.prompts;
  };
  test("a prompt redrawn without a D (SIGWINCH: bash redraws A…B, zsh B) is not a new prompt; a command or an empty line (D, no C) is", () => {
    const s = new ShellState();
    expect(feed(s, "D A B")).toBe(1); // the first prompt
    expect(feed(s, "A B")).toBe(1); // bash's redraw
    expect(feed(s, "B")).toBe(1); // zsh's redraw
    expect(feed(s, "C D A B")).toBe(2); // a command
    expect(feed(s, "D A B")).toBe(3); // an empty line
    expect(feed(s, "A B B")).toBe(3);
  });
  test("a shell that gives no D at its prompts (the hook's D lost) has every B counted", () => {
    const s = new ShellState();
    expect(feed(s, "A B A B C A B")).toBe(3);
    s.restart(); // a new shell on the session: no D yet
    expect(feed(s, "D A B A B")).toBe(4);
  });
});
