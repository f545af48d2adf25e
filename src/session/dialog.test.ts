// run_dialog's core over an in-memory Transport: a program played by hand, answering what is typed.
import { describe, expect, spyOn, test } from "bun:test";
import { RE2JS } from "re2js";
import { runDialog } from "./dialog.ts";
import { memorySession, MemoryTransport } from "../../test/harness/memory-transport.ts";
import type { Session } from "./session.ts";

function session(t: MemoryTransport): Session {
  return memorySession(t, { id: "t-1", description: { type: "local", target: "hand" } });
}

const any = expect.any(Number);

describe("run_dialog core", () => {
  test("the echo of an answer never matches the next step, even when it holds the pattern", async () => {
    const t = new MemoryTransport((text, term) => {
      term.print(text.replace("\r", "\r\n")); // the echo
      if (text === "run ready-check\r") setTimeout(() => term.print("ready-check passed\r\n> "), 20);
    });
    const s = session(t);
    t.print("> ");
    const r = await runDialog(s, { steps: [{ expect: "> $", send: "run ready-check" }, { expect: "ready-check" }], timeoutMs: 5000 });
    expect(r).toEqual({
      completed: true,
      steps: [
        { index: 0, matched: true, match_line: "> ", elapsed_ms: any },
        { index: 1, matched: true, match_line: "ready-check passed", elapsed_ms: any },
      ],
      output: "> run ready-check\nready-check passed\n> ",
      cursor: 41,
      cursor_start: 0,
      state: "at_prompt",
      is_alive: true,
    });
    await s.close();
  });

  test("an optional step is skipped at once when the next step's prompt comes first; a list answers by index", async () => {
    const t = new MemoryTransport((text, term) => {
      if (text === "yes\r") term.print("yes\r\npassword: ");
      if (text === "pw\r") term.print("\r\nWelcome\r\n$ ");
    });
    const s = session(t);
    t.print("Continue (yes/no)? ");
    const steps = [
      { expect: ["\\(yes/no\\)", "password:"], send: ["yes", "pw"] },
      { expect: "password:", send: "pw", optional: true, timeoutMs: 60_000 },
      { expect: "^Welcome" },
    ];
    const first = await runDialog(s, { steps, timeoutMs: 5000 });
    expect(first.steps).toEqual([
      { index: 0, matched: true, matched_index: 0, match_line: "Continue (yes/no)? ", elapsed_ms: any },
      { index: 1, matched: true, match_line: "password: ", elapsed_ms: any },
      { index: 2, matched: true, match_line: "Welcome", elapsed_ms: any },
    ]);
    t.print("password: ");
    const second = await runDialog(s, { steps, timeoutMs: 5000 });
    expect(second.steps).toEqual([
      { index: 0, matched: true, matched_index: 1, match_line: "$ password: ", elapsed_ms: any },
      { index: 1, matched: false, skipped: true, elapsed_ms: any },
      { index: 2, matched: true, match_line: "Welcome", elapsed_ms: any },
    ]);
    expect(second.completed).toBe(true);
    expect(t.typed).toEqual(["yes\r", "pw\r", "pw\r"]);
    await s.close();
  });

  test("a step not seen in time fails the dialog: its index, timed_out and the tail", async () => {
    const t = new MemoryTransport((text, term) => term.print(`${text}\n% Unknown command\r\nR1> `));
    const s = session(t);
    t.print("R1> ");
    const r = await runDialog(s, { steps: [{ expect: ">\\s*$", send: "shw ver" }, { expect: "uptime", timeoutMs: 200 }, { expect: "never" }], timeoutMs: 5000 });
    expect(r).toEqual({
      completed: false,
      failed_step: 1,
      steps: [
        { index: 0, matched: true, match_line: "R1> ", elapsed_ms: any },
        { index: 1, matched: false, elapsed_ms: any },
      ],
      output: "R1> shw ver\n% Unknown command\nR1> ",
      cursor: 36,
      cursor_start: 0,
      state: "at_prompt",
      is_alive: true,
      timed_out: true,
      tail: "R1> shw ver\n% Unknown command\nR1> ",
    });
    await s.close();
  });

  test("an optional step that never comes is skipped after its timeout; the dialog's own timeout is a failure", async () => {
    const t = new MemoryTransport();
    const s = session(t);
    t.print("ok\r\n");
    const skipped = await runDialog(s, { steps: [{ expect: "ok" }, { expect: "banner", optional: true, timeoutMs: 100 }], timeoutMs: 5000 });
    expect(skipped.completed).toBe(true);
    expect(skipped.steps[1]).toEqual({ index: 1, matched: false, skipped: true, elapsed_ms: any });
    const late = await runDialog(s, { steps: [{ expect: "banner", optional: true, timeoutMs: 10_000 }], timeoutMs: 100 });
    expect([late.completed, late.failed_step, late.timed_out]).toEqual([false, 0, true]);
    await s.close();
  });

  test("nothing is typed when any step is invalid: a 2 MB answer, a lookahead pattern, an unknown key, two answers", async () => {
    const t = new MemoryTransport();
    const s = session(t);
    t.print("$ ");
    const cases: [Parameters<typeof runDialog>[1]["steps"], string, string][] = [
      [[{ expect: "\\$", send: "ls" }, { expect: "x", send: "y".repeat(2 * 1024 * 1024) }], "INVALID_ARGUMENT", "steps[1].send is 2097153 bytes; the limit is 1048576 (1 MB). Nothing was typed. Copy large content as a file instead."],
      [[{ expect: "\\$", send: "ls" }, { expect: "(?=x)" }], "REGEX_REJECTED", "steps[1].expect: wait_for \"(?=x)\""],
      [[{ expect: "\\$", send: "ls" }, { expect: "x", key: "ctrl+shift+q" }], "INVALID_ARGUMENT", 'steps[1].key: Unknown key "ctrl+shift+q"'],
      [[{ expect: "\\$", send: "ls", key: "enter" }], "INVALID_ARGUMENT", "steps[0]: give one of send, key or secret: true"],
      [[{ expect: ["a", "b"], send: ["1"] }], "INVALID_ARGUMENT", "steps[0].send has 1 answers for 2 expect pattern(s)"],
    ];
    for (const [steps, code, message] of cases) {
      const err = await runDialog(s, { steps, timeoutMs: 1000 }).then(() => undefined, (e: unknown) => e as { code: string; message: string });
      expect({ code: err?.code, message: err?.message.slice(0, message.length) }).toEqual({ code, message });
    }
    expect(t.typed).toEqual([]);
    await s.close();
  });

  test("cancellation stops the dialog between steps: what was reached, nothing typed after", async () => {
    const t = new MemoryTransport();
    const s = session(t);
    t.print("login: ");
    const abort = new AbortController();
    const pending = runDialog(s, { steps: [{ expect: "login:", send: "root" }, { expect: "Password:", secret: true }], timeoutMs: 60_000, signal: abort.signal, typeSecret: async () => undefined });
    await Bun.sleep(50);
    abort.abort();
    const r = await pending;
    expect([r.completed, r.failed_step, r.cancelled, r.steps.map((x) => x.matched)]).toEqual([false, 1, true, [true, false]]);
    expect(t.typed).toEqual(["root\r"]);
    await s.close();
  });

  test("progress: one notification as each step starts, and one at the end", async () => {
    const t = new MemoryTransport((text, term) => term.print(`${text}\nB> `));
    const s = session(t);
    t.print("A> ");
    const seen: number[] = [];
    await runDialog(s, { steps: [{ expect: "A>", send: "b" }, { expect: "B>" }], timeoutMs: 5000, progress: (p) => seen.push(p.progress) });
    expect(seen).toEqual([0, 1, 2]);
    await s.close();
  });
});

describe("run_dialog compiles each expect pattern once", () => {
  test("an optional step waits for its own and the next step's patterns with the validation's compiled ones: one line and one block compile per regex", async () => {
    const spy = spyOn(RE2JS, "compile");
    try {
      const t = new MemoryTransport((text, term) => {
        if (text === "yes\r") term.print("yes\r\npassword: ");
        if (text === "pw\r") term.print("\r\nWelcome\r\n$ ");
      });
      const s = session(t);
      t.print("Continue (yes/no)? ");
      const steps = [{ expect: "\\(yes/no\\)", send: "yes" }, { expect: "^Banner", optional: true, timeoutMs: 60_000 }, { expect: "password: $", send: "pw" }, { expect: "^Welcome$" }];
      const r = await runDialog(s, { steps, timeoutMs: 5000 });
      const sources = steps.map((step) => step.expect);
      expect({
        steps: r.steps.map((step) => [step.index, step.matched, step.skipped ?? false]),
        compiles: sources.map((source) => spy.mock.calls.filter((args) => args[0] === source).map((args) => args.length)),
      }).toEqual({
        steps: [[0, true, false], [1, false, true], [2, true, false], [3, true, false]],
        // [source] and [source, MULTILINE]: the old path compiled "password: $" six times (validation, as the optional step's next, its own wait).
        compiles: [[1, 2], [1, 2], [1, 2], [1, 2]],
      });
      await s.close();
    } finally {
      spy.mockRestore();
    }
  });
});
