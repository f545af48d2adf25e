// The session core over an in-memory Transport: exact control of how output arrives.
import { describe, expect, test } from "bun:test";
import { memorySession, MemoryTransport } from "../../test/harness/memory-transport.ts";
import type { Session } from "./session.ts";

function session(t: MemoryTransport): Session {
  return memorySession(t, { id: "t-1", description: { type: "local", target: "hand" } });
}

describe("send_input + wait_for and the echo", () => {
  test("an echo arriving a few characters at a time never matches, even unfinished", async () => {
    const t = new MemoryTransport();
    const s = session(t);
    t.print("$ ");
    const pending = s.sendInput({ input: "echo 'value: f(x'", timeoutMs: 1000, waitFor: "f(x", waitForTimeoutMs: 2000 });
    await Bun.sleep(5);
    for (const piece of ["echo 'val", "ue: f(", "x'"]) {
      t.print(piece);
      await Bun.sleep(5);
    }
    t.print("\r\nvalue: f(x\r\n$ ");
    const r = await pending;
    expect(r).toMatchObject({ matched: true, match_line: "value: f(x", warning: 'Not a valid regular expression, matched as plain text: "f(x".' });
    expect(t.written).toBe("echo 'value: f(x'\r");
    await s.close();
  });

  test("with echo off, an unfinished prompt line still matches", async () => {
    const t = new MemoryTransport();
    const s = session(t);
    const pending = s.sendInput({ input: "connect", timeoutMs: 1000, waitFor: "Password:", waitForTimeoutMs: 2000 });
    await Bun.sleep(5);
    t.print("Password: ");
    expect(await pending).toMatchObject({ matched: true, match_line: "Password: " });
    await s.close();
  });
});
