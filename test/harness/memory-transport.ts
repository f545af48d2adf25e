// The one in-memory Transport (STYLE.md §7: replace a boundary only with a real implementation of
// its interface). A program played by hand: `print` delivers output, `typed` collects every write,
// `answer` scripts what the "program" prints back when something is typed (each returned chunk
// arrives on its own, as from a socket), `exit` ends it. close() ends it too, as the contract says
// (`closeExit`), unless a test plays a transport that reports nothing on close.
import type { SessionInit } from "../../src/session/session-init.ts";
import { Session } from "../../src/session/session.ts";
import { Emitter, type Transport, type TransportCapabilities, type TransportExit } from "../../src/session/transport.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** What the program prints back for a write: chunks delivered one by one, or nothing (it may call print itself). */
export type Answer = (text: string, transport: MemoryTransport) => string | readonly string[] | void;

export class MemoryTransport implements Transport {
  readonly #data = new Emitter<Uint8Array>();
  readonly #exit = new Emitter<TransportExit>();
  /** Every write, decoded, in order. */
  readonly typed: string[] = [];
  /** Every resize, in order. */
  readonly sizes: Array<{ cols: number; rows: number }> = [];
  closes = 0;
  answer: Answer | undefined;
  /** What close() reports as the program's exit (the contract's default); undefined: close reports none (a quiet link). */
  closeExit: TransportExit | undefined = { code: 0, signal: null };
  capabilities?: TransportCapabilities;
  #exited = false;

  constructor(answer?: Answer) {
    this.answer = answer;
  }

  /** Everything written, as one string. */
  get written(): string {
    return this.typed.join("");
  }

  get exited(): boolean {
    return this.#exited;
  }

  async write(bytes: Uint8Array): Promise<void> {
    const text = dec.decode(bytes);
    this.typed.push(text);
    const answer = this.answer;
    if (!answer) return;
    queueMicrotask(() => {
      const out = answer(text, this);
      for (const chunk of typeof out === "string" ? [out] : (out ?? [])) queueMicrotask(() => this.print(chunk));
    });
  }

  /** Output from the program. */
  print(text: string | Uint8Array): void {
    if (this.#exited) return;
    this.#data.emit(typeof text === "string" ? enc.encode(text) : text);
  }

  /** The program ends (once). */
  exit(exit: TransportExit = { code: 0, signal: null }): void {
    if (this.#exited) return;
    this.#exited = true;
    this.#exit.emit(exit);
  }

  resize(size: { cols: number; rows: number }): void {
    this.sizes.push({ ...size });
  }

  async close(): Promise<void> {
    this.closes++;
    if (this.closeExit) this.exit(this.closeExit);
  }

  onData(listener: (bytes: Uint8Array) => void): Disposable {
    return this.#data.on(listener);
  }

  onExit(listener: (exit: TransportExit) => void): Disposable {
    return this.#exit.on(listener);
  }
}

/** A Session over `transport` (a local one named "memory" unless `init` says otherwise). */
export function memorySession(transport: Transport, init: Partial<Omit<SessionInit, "transport">> = {}): Session {
  return new Session({ id: "mem-1", description: { type: "local", target: "memory" }, size: { cols: 80, rows: 24 }, ...init, transport });
}
