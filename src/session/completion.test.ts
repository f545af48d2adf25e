// Exact completion of several command lines, over the in-memory transport playing a hooked shell
// (OSC 133 marks as our bash hook prints them): send_input returns at the prompt after the LAST
// command line, however long the shell takes between them.
import { describe, expect, test } from "bun:test";
import { memorySession, MemoryTransport } from "../../test/harness/memory-transport.ts";

const PROMPT = "\x1b]133;A\x07$ \x1b]133;B\x07";
const C = "\x1b]133;C\x07";
const D = (code: number) => `\x1b]133;D;${code}\x07`;

/** A hooked shell that runs each typed line after `delayMs`: `run` maps a line to [output, exit code]; undefined = read by the program before (no prompt). */
function hookedShell(run: (line: string) => [string, number] | undefined, delayMs: number): MemoryTransport {
  const t = new MemoryTransport((typed, self) => {
    void (async () => {
      for (const line of typed.split("\r").slice(0, -1)) {
        const done = run(line);
        if (!done) continue;
        await Bun.sleep(delayMs);
        self.print(`${line}\r\n${C}${done[0]}${D(done[1])}${PROMPT}`);
      }
    })();
  });
  return t;
}

describe("exact completion counts the command lines", () => {
  test("two commands, the second prompt late: one result with both outputs and the last exit code", async () => {
    const t = hookedShell((line) => (line === "echo one" ? ["one\r\n", 0] : ["", 3]), 40);
    const s = memorySession(t, { description: { type: "local", target: "hand" } });
    t.print(PROMPT);
    const r = await s.sendInput({ input: "echo one\n(exit 3)", timeoutMs: 5000 });
    expect(r).toMatchObject({ output: "one\n$ (exit 3)\n$ ", is_complete: true, completion: "exact", exit_code: 3 });
    await s.close();
  });

  test("a heredoc and a continuation are one command each", async () => {
    const t = new MemoryTransport((typed) => {
      if (typed.startsWith("cat <<EOF")) return ["cat <<EOF\r\n> hi\r\n> EOF\r\n", `${C}hi\r\n${D(0)}${PROMPT}`];
      return ["echo a \\\r\n>   b\r\n", `${C}a b\r\n${D(0)}`, PROMPT];
    });
    const s = memorySession(t, { description: { type: "local", target: "hand" } });
    t.print(PROMPT);
    expect(await s.sendInput({ input: "cat <<EOF\nhi\nEOF", timeoutMs: 5000 })).toMatchObject({ output: "hi\n$ ", is_complete: true, completion: "exact", exit_code: 0 });
    expect(await s.sendInput({ input: "echo a \\\n  b", timeoutMs: 5000 })).toMatchObject({ output: "a b\n$ ", is_complete: true, completion: "exact", exit_code: 0 });
    await s.close();
  });

  test("a line read by the program, not the shell (fewer prompts than lines): complete once the prompt stays quiet", async () => {
    const t = hookedShell((line) => (line === "read x" ? ["", 0] : undefined), 0);
    const s = memorySession(t, { description: { type: "local", target: "hand" } });
    t.print(PROMPT);
    const r = await s.sendInput({ input: "read x\nhello", timeoutMs: 5000 });
    expect(r).toMatchObject({ output: "$ ", is_complete: true, completion: "exact", exit_code: 0 });
    await s.close();
  });
});
