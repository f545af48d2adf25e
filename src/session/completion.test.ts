// Exact completion of several command lines, over the in-memory transport playing a hooked shell
// (OSC 133 marks as our bash hook prints them): send_input returns at the prompt after the LAST
// command line, however long the shell takes between them.
import { afterEach, describe, expect, spyOn, test } from "bun:test";
import { RE2JS } from "re2js";
import { memorySession, MemoryTransport } from "../../test/harness/memory-transport.ts";
import { PtyError } from "../errors.ts";
import type { WaitResult } from "./wait-for.ts";

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

describe("send_input with wait_for compiles its patterns once", () => {
  const spies: { mockRestore(): void }[] = [];
  afterEach(() => {
    for (const spy of spies.splice(0)) spy.mockRestore();
  });
  /** Every RE2 compile of `source` (matcher.ts compiles each regex twice: per line, and multi-line for the block pre-check). */
  function countCompiles(source: string): () => unknown[][] {
    const spy = spyOn(RE2JS, "compile");
    spies.push(spy);
    return () => spy.mock.calls.filter((args) => args[0] === source);
  }

  test("validated before typing, then waited with the same compiled patterns: one line and one block compile, not two of each", async () => {
    const compiles = countCompiles("^DONE \\d+$");
    const t = new MemoryTransport((typed) => (typed === "make\r" ? ["make\r\n", "step 1\r\n", "DONE 42\r\n$ "] : undefined));
    const s = memorySession(t, { description: { type: "local", target: "hand" } });
    const r = (await s.sendInput({ input: "make", timeoutMs: 5000, waitFor: "^DONE \\d+$", waitForTimeoutMs: 30_000 })) as WaitResult;
    expect({ matched: r.matched, match_line: r.match_line, compiles: compiles() }).toEqual({
      matched: true,
      match_line: "DONE 42",
      compiles: [["^DONE \\d+$"], ["^DONE \\d+$", RE2JS.MULTILINE]],
    });
    await s.close();
  });

  test("a pattern that is not a regex: the one compile's warning reaches the result; a rejected one fails before anything is typed, compiled once", async () => {
    const fallback = countCompiles("[ready");
    const t = new MemoryTransport((typed) => (typed === "start\r" ? ["start\r\n", "[ready]\r\n"] : undefined));
    const s = memorySession(t, { description: { type: "local", target: "hand" } });
    const r = (await s.sendInput({ input: "start", timeoutMs: 5000, waitFor: "[ready", waitForTimeoutMs: 30_000 })) as WaitResult;
    expect({ matched: r.matched, warning: r.warning, compiles: fallback().length }).toEqual({
      matched: true,
      warning: 'Not a valid regular expression, matched as plain text: "[ready".',
      compiles: 1,
    });
    const rejected = countCompiles("(?=x)y");
    const before = t.typed.length;
    const error = await s.sendInput({ input: "never typed", timeoutMs: 5000, waitFor: "(?=x)y" }).catch((e: unknown) => e);
    expect({ code: error instanceof PtyError ? error.code : error, typed: t.typed.slice(before), compiles: rejected().length }).toEqual({ code: "REGEX_REJECTED", typed: [], compiles: 1 });
    await s.close();
  });
});
