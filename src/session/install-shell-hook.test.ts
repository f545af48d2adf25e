// Session.installShellHook against a scripted transport: what is typed, what the buffer keeps.
import { afterEach, describe, expect, test } from "bun:test";
import { memorySession, MemoryTransport } from "../../test/harness/memory-transport.ts";
import type { Session } from "./session.ts";
import { typedHook } from "./shell-hooks.ts";

const dec = new TextDecoder();

const sessions: Session[] = [];
function open(shell: MemoryTransport): Session {
  const session = memorySession(shell, { id: "ssh-test", description: { type: "ssh", target: "t", auth_method: "none", host_key: { fingerprint: "SHA256:test", key_type: "ssh-ed25519" } } });
  sessions.push(session);
  return session;
}
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
});

const all = (s: Session) => dec.decode(s.buffer.read(s.buffer.start).bytes);
const A = "\x1b]133;A\x07";
const B = "\x1b]133;B\x07";

describe("installShellHook", () => {
  test("types the hook once at the prompt; the echo and the second prompt never reach the buffer", async () => {
    const shell = new MemoryTransport();
    const session = open(shell);
    shell.answer = (line) => [line.slice(0, 40), `${line.slice(40)}\r\n`, "\x1b]133;D;0\x07", `${A}$ `, `${B}\x1b[?2004h`];
    shell.print("Welcome\r\n$ ");
    expect(await session.installShellHook("bash")).toBe(true);
    expect(shell.typed).toEqual([`${typedHook("bash")}\r`]);
    expect(all(session)).toBe(`Welcome\r\n$ ${B}\x1b[?2004h`);
    expect(session.textBetween(0).text).toBe("Welcome\n$ ");
    expect(session.classify().state).toBe("at_prompt");
    expect(session.shellIntegration.active).toBe(true);
    // Hooked: the next command is exact.
    shell.answer = () => ["false\r\n", `\x1b]133;C\x07`, "\x1b]133;D;1\x07", `${A}$ ${B}`];
    const r = await session.sendInput({ input: "false", timeoutMs: 5000 });
    expect(r).toMatchObject({ output: "$ ", exit_code: 1, completion: "exact", is_complete: true });
  });

  test("no hooked prompt within the time: everything held is let through unchanged", async () => {
    const shell = new MemoryTransport();
    const session = open(shell);
    shell.answer = () => ["sh: 1: Syntax error\r\n", "$ "];
    shell.print("$ ");
    expect(await session.installShellHook("bash", { timeoutMs: 100 })).toBe(false);
    expect(all(session)).toBe("$ sh: 1: Syntax error\r\n$ ");
    expect(session.shellIntegration.active).toBe(false);
  });

  test("a password question is not answered with the hook; nothing is typed", async () => {
    const shell = new MemoryTransport();
    const session = open(shell);
    shell.print("Password: ");
    expect(await session.installShellHook("bash")).toBe(false);
    expect(shell.typed).toEqual([]);
  });

  test("no output at all: nothing is typed", async () => {
    const shell = new MemoryTransport();
    const session = open(shell);
    expect(await session.installShellHook("zsh", { promptTimeoutMs: 100 })).toBe(false);
    expect(shell.typed).toEqual([]);
  });

  test("the session ending while the hook runs lets the held output through", async () => {
    const shell = new MemoryTransport();
    const session = open(shell);
    let typed!: () => void;
    const wasTyped = new Promise<void>((resolve) => (typed = resolve));
    shell.answer = () => {
      typed();
      return ["logout\r\n"];
    };
    shell.print("$ ");
    const hooking = session.installShellHook("bash");
    await wasTyped;
    await Bun.sleep(0); // one turn of the event loop: the answer's chunks (microtasks) are in the gate
    shell.exit();
    expect(await hooking).toBe(false);
    expect(all(session)).toBe("$ logout\r\n");
  });
});

describe("typed hook text", () => {
  test("one line, a leading space, nothing a line editor would act on", () => {
    for (const shell of ["bash", "zsh"] as const) {
      const line = typedHook(shell);
      expect(line.startsWith(" ")).toBe(true);
      // No newline (Enter), tab (completion), ESC byte or history expansion.
      expect(/[\n\r\t\x1b!]/.test(line)).toBe(false);
    }
  });
});
