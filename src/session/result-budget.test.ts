import { describe, expect, test } from "bun:test";
import { OutputBuffer } from "./output-buffer.ts";
import { budgetedText, elisionLine, type BudgetSource } from "./result-budget.ts";
import { resultText } from "./result-text.ts";

const encoder = new TextEncoder();

/** A buffer holding `text`, read the way a Session reads it (resultText: escapes stripped, progress lines collapsed). */
function source(text: string, id = "local-test"): BudgetSource {
  const bytes = encoder.encode(text);
  const buffer = new OutputBuffer(Math.max(16, bytes.length + 16));
  buffer.append(bytes);
  return { id, buffer, textBetween: (from, to, maxBytes) => resultText(buffer, from, to, maxBytes, () => []) };
}

const seq = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}\n`).join("");

describe("result budget (SPEC §11)", () => {
  test("output within the budget comes back whole, with no elision", () => {
    const s = source("hello\nworld\n");
    expect(budgetedText(s, 0, s.buffer.end)).toEqual({ text: "hello\nworld\n", from: 0, to: 12, truncated: false });
  });

  test("seq 1 100000: the first 2 KiB up to a line end, one line naming the read_output call, the end; the middle read back makes the whole", () => {
    const all = seq(100_000);
    const s = source(all);
    const r = budgetedText(s, 0, s.buffer.end);
    const head = all.slice(0, all.lastIndexOf("\n", 2047) + 1);
    const elided = r.elided!;
    const tail = all.slice(elided.to_cursor);
    expect({ ...r, text: r.text.length }).toEqual({
      text: head.length + elisionLine("local-test", elided).length + 1 + tail.length,
      from: 0,
      to: all.length,
      truncated: false,
      elided: { from_cursor: head.length, to_cursor: elided.to_cursor, bytes: elided.to_cursor - head.length, lines: all.slice(head.length, elided.to_cursor).split("\n").length - 1 },
    });
    expect(r.text).toEqual(`${head}[… ${elided.bytes} bytes (${elided.lines} lines) left out here; read_output {"session_id":"local-test","since_cursor":${head.length},"max_bytes":${elided.bytes}} returns them …]\n${tail}`);
    // Within the budget (the elision line aside), the tail starts on a line, and nothing is lost.
    expect(head.length + tail.length).toBeLessThanOrEqual(16 * 1024);
    expect(tail.startsWith("9")).toBe(true);
    expect(all.slice(elided.to_cursor - 1, elided.to_cursor)).toBe("\n");
    const middle = s.textBetween(elided.from_cursor, elided.to_cursor, elided.bytes).text;
    expect(head + middle + tail).toEqual(all);
  });

  test("max_bytes changes the budget: 1000 bytes keep 125 of head and the rest of the end", () => {
    const all = seq(1000);
    const s = source(all);
    const r = budgetedText(s, 0, s.buffer.end, 1000);
    const e = r.elided!;
    expect({ headBytes: e.from_cursor, shown: e.from_cursor + (all.length - e.to_cursor) <= 1000, end: r.text.endsWith("999\n1000\n") }).toEqual({
      headBytes: all.lastIndexOf("\n", 124) + 1, shown: true, end: true,
    });
  });

  test("never a split UTF-8 character: multibyte output without line ends is cut between characters", () => {
    const all = "日本語のテキスト🙂".repeat(2000); // 3- and 4-byte characters, no newline anywhere
    const s = source(all);
    const r = budgetedText(s, 0, s.buffer.end);
    const e = r.elided!;
    const [head, tail] = r.text.split(`\n${elisionLine("local-test", e)}\n`);
    const middle = s.textBetween(e.from_cursor, e.to_cursor, e.bytes).text;
    expect({ replacement: r.text.includes("\uFFFD"), whole: head! + middle + tail! === all, lines: e.lines }).toEqual({ replacement: false, whole: true, lines: 0 });
  });

  test("progress bars collapse to their last state and escapes are stripped, in the head and in the tail", () => {
    // As curl, pip or apt draw them: the whole line again after each CR.
    const bar = (label: string) => Array.from({ length: 101 }, (_, n) => `${label} \x1b[32m${String(n).padStart(3)}%\x1b[0m`).join("\r");
    const all = `${bar("start")}\n${seq(5000)}${bar("end")}\n`;
    const s = source(all);
    const r = budgetedText(s, 0, s.buffer.end);
    expect({ head: r.text.split("\n")[0], last: r.text.split("\n").at(-2), escapes: r.text.includes("\x1b"), cr: r.text.includes("\r") }).toEqual({
      head: "start 100%", last: "end 100%", escapes: false, cr: false,
    });
  });

  test("shape rewrites only the start (send_input drops the echo there)", () => {
    const all = `echo-line\n${seq(20_000)}`;
    const s = source(all);
    const r = budgetedText(s, 0, s.buffer.end, 16 * 1024, (head) => head.replace(/^echo-line\n/, ""));
    expect({ start: r.text.slice(0, 4), elided: r.elided?.from_cursor }).toEqual({ start: "1\n2\n", elided: all.lastIndexOf("\n", 2047) + 1 });
  });
});
