// The session core over an in-memory Transport: exact control of how output arrives.
import { describe, expect, test } from "bun:test";
import { Session } from "./session.ts";
import { Emitter, type Transport, type TransportExit } from "./transport.ts";

/** A terminal whose program we play by hand: `emit` delivers output, `written` collects input. */
class HandTerminal implements Transport {
  readonly data = new Emitter<Uint8Array>();
  readonly exit = new Emitter<TransportExit>();
  written = "";
  async write(bytes: Uint8Array): Promise<void> {
    this.written += new TextDecoder().decode(bytes);
  }
  resize(): void {}
  async close(): Promise<void> {
    this.exit.emit({ code: 0, signal: null });
  }
  onData(listener: (bytes: Uint8Array) => void): Disposable {
    return this.data.on(listener);
  }
  onExit(listener: (exit: TransportExit) => void): Disposable {
    return this.exit.on(listener);
  }
  emit(text: string): void {
    this.data.emit(new TextEncoder().encode(text));
  }
}

function session(t: HandTerminal): Session {
  return new Session({ id: "t-1", description: { type: "local", target: "hand" }, transport: t, size: { cols: 80, rows: 24 } });
}

describe("send_input + wait_for and the echo", () => {
  test("an echo arriving a few characters at a time never matches, even unfinished", async () => {
    const t = new HandTerminal();
    const s = session(t);
    t.emit("$ ");
    const pending = s.sendInput({ input: "echo 'value: f(x'", timeoutMs: 1000, waitFor: "f(x", waitForTimeoutMs: 2000 });
    await Bun.sleep(5);
    for (const piece of ["echo 'val", "ue: f(", "x'"]) {
      t.emit(piece);
      await Bun.sleep(5);
    }
    t.emit("\r\nvalue: f(x\r\n$ ");
    const r = await pending;
    expect(r).toMatchObject({ matched: true, match_line: "value: f(x", warning: 'Not a valid regular expression, matched as plain text: "f(x".' });
    expect(t.written).toBe("echo 'value: f(x'\r");
    await s.close();
  });

  test("with echo off, an unfinished prompt line still matches", async () => {
    const t = new HandTerminal();
    const s = session(t);
    const pending = s.sendInput({ input: "connect", timeoutMs: 1000, waitFor: "Password:", waitForTimeoutMs: 2000 });
    await Bun.sleep(5);
    t.emit("Password: ");
    expect(await pending).toMatchObject({ matched: true, match_line: "Password: " });
    await s.close();
  });
});
