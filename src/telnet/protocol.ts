// The telnet protocol (RFC 854 commands, RFC 855 option negotiation) for a terminal client,
// with RFC 2217 COM-PORT-OPTION on top. This file turns received bytes into events (data, bytes
// to send back, option changes, subnegotiations) and builds the bytes we send; it never touches
// a socket (like daemon/protocol.ts). Option negotiation follows RFC 1143's "Q method" without
// the queue bits, so neither side can drive the other into a negotiation loop.

import { applyComPortAnswer, COM_PORT, type ComPortSettings, type ComPortState, settingsCommands } from "./com-port.ts";

/** Telnet commands (RFC 854, "TELNET COMMAND STRUCTURE"). */
export const IAC = 255;
export const DONT = 254;
export const DO = 253;
export const WONT = 252;
export const WILL = 251;
export const SB = 250;
export const GA = 249;
export const NOP = 241;
export const DM = 242;
export const BRK = 243;
export const SE = 240;

/** Option codes this client knows (IANA telnet options registry). */
export const OPT = {
  BINARY: 0, // RFC 856
  ECHO: 1, // RFC 857
  SGA: 3, // RFC 858, suppress go-ahead
  TTYPE: 24, // RFC 1091, terminal type
  NAWS: 31, // RFC 1073, negotiate about window size
  COM_PORT: 44, // RFC 2217
} as const;

/** Longest subnegotiation kept (TERMINAL-TYPE and COM-PORT messages are a few bytes). */
export const MAX_SUBNEGOTIATION_BYTES = 4096;
/** An unsupported option is refused this many times; further requests for it are ignored (a flood of DO/WILL gets no flood back). */
const MAX_REFUSALS_PER_OPTION = 4;

export type TelnetEvent =
  /** Data bytes for the terminal, with every protocol byte removed. */
  | { type: "data"; bytes: Uint8Array }
  /** Bytes to send back to the server now (negotiation answers). */
  | { type: "send"; bytes: Uint8Array }
  /** An option changed: `side` "local" is what we do (WILL/WONT), "remote" what the server does (DO/DONT from us). */
  | { type: "option"; side: "local" | "remote"; option: number; enabled: boolean }
  /** A complete subnegotiation (IAC SB option … IAC SE), payload unescaped. */
  | { type: "subnegotiation"; option: number; payload: Uint8Array }
  /** A COM-PORT answer from the server, already applied to `comPort`. */
  | { type: "com-port"; command: number; state: ComPortState }
  /** A command without option (GA, NOP, BRK, AYT, …) from the server. */
  | { type: "command"; command: number }
  /** The server broke the protocol (an endless subnegotiation); the bytes concerned were dropped. */
  | { type: "error"; message: string };

type Q = "no" | "yes" | "wantno" | "wantyes";

export interface TelnetProtocolOptions {
  /** Sent for TERMINAL-TYPE (RFC 1091). */
  terminalType?: string;
  size: { cols: number; rows: number };
  /** Offer RFC 2217 COM-PORT-OPTION (rfc2217:// URLs). */
  comPort?: boolean;
}

const enum S {
  Data,
  Iac,
  Option,
  SbOption,
  SbData,
  SbIac,
}

/**
 * A telnet client's protocol state. Feed received bytes to `receive()`; send what `start()`,
 * `encodeData()`, `resize()`, `brk()` and the `send` events return. Never throws on input:
 * whatever the server sends, protocol bytes never reach the data events.
 *
 * What we do (local side): BINARY, NAWS, TERMINAL-TYPE, SGA, and COM-PORT-OPTION when asked for.
 * What we let the server do (remote side): ECHO, SGA, BINARY. Everything else is refused
 * (WONT / DONT), each option a bounded number of times.
 */
export class TelnetProtocol {
  readonly terminalType: string;
  readonly comPortEnabled: boolean;
  /** Server's answers to COM-PORT commands. */
  readonly comPort: ComPortState = {};
  #size: { cols: number; rows: number };
  readonly #local = new Map<number, Q>();
  readonly #remote = new Map<number, Q>();
  readonly #refusals = new Map<number, number>();
  #state = S.Data;
  #command = 0;
  #sbOption = 0;
  #sb = new Uint8Array(MAX_SUBNEGOTIATION_BYTES);
  #sbLength = 0;
  #sbOverflow = false;
  /** The last data byte was CR: a NUL after it is the NVT's "bare CR" padding (RFC 854) and is dropped. */
  #afterCr = false;
  /**
   * A byte 242 (DM) seen in data, not decided yet. telnetd sends "Synch" on an interrupt as
   * IAC DM with the IAC as TCP urgent data (RFC 854 "Synch"); without SO_OOBINLINE the kernel
   * takes that IAC out of the stream and a bare DM is left. Outside BINARY a 242 that does not
   * start a UTF-8 sequence (a continuation byte 0x80–0xBF next) is that DM and is dropped.
   */
  #heldDm = false;

  constructor(options: TelnetProtocolOptions) {
    this.terminalType = options.terminalType ?? "xterm-256color";
    this.comPortEnabled = options.comPort === true;
    this.#size = { ...options.size };
  }

  /** Whether an option is on: `local` (we WILL), `remote` (the server WILL). */
  enabled(side: "local" | "remote", option: number): boolean {
    return (side === "local" ? this.#local : this.#remote).get(option) === "yes";
  }

  /** Whether one of our own requests (start()) is still unanswered. */
  get negotiating(): boolean {
    for (const table of [this.#local, this.#remote]) for (const q of table.values()) if (q === "wantyes" || q === "wantno") return true;
    return false;
  }

  /** Our opening requests: character mode (DO SGA, DO ECHO), BINARY both ways, NAWS, TERMINAL-TYPE, COM-PORT. */
  start(): Uint8Array {
    const out: number[] = [];
    const ask = (table: Map<number, Q>, verb: number, option: number) => {
      if ((table.get(option) ?? "no") !== "no") return;
      table.set(option, "wantyes");
      out.push(IAC, verb, option);
    };
    ask(this.#remote, DO, OPT.SGA);
    ask(this.#remote, DO, OPT.ECHO);
    ask(this.#local, WILL, OPT.BINARY);
    ask(this.#remote, DO, OPT.BINARY);
    ask(this.#local, WILL, OPT.NAWS);
    ask(this.#local, WILL, OPT.TTYPE);
    if (this.comPortEnabled) ask(this.#local, WILL, OPT.COM_PORT);
    return Uint8Array.from(out);
  }

  /** Parses received bytes. Linear in the input; keeps at most one subnegotiation buffer. */
  receive(chunk: Uint8Array): TelnetEvent[] {
    const events: TelnetEvent[] = [];
    const data = new Uint8Array(chunk.length + 1);
    let n = 0;
    const flush = () => {
      if (n > 0) events.push({ type: "data", bytes: data.slice(0, n) });
      n = 0;
    };
    const binaryIn = () => this.enabled("remote", OPT.BINARY);
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      switch (this.#state) {
        case S.Data:
          if (this.#heldDm) {
            this.#heldDm = false;
            if (b >= 0x80 && b <= 0xbf) data[n++] = DM;
          }
          if (b === IAC) this.#state = S.Iac;
          else if (b === DM && !binaryIn()) this.#heldDm = true;
          else if (b === 0 && this.#afterCr && !binaryIn()) this.#afterCr = false;
          else {
            data[n++] = b;
            this.#afterCr = b === 13;
          }
          break;
        case S.Iac:
          if (b === IAC) {
            data[n++] = IAC;
            this.#afterCr = false;
            this.#state = S.Data;
          } else if (b === DO || b === DONT || b === WILL || b === WONT) {
            this.#command = b;
            this.#state = S.Option;
          } else if (b === SB) {
            flush();
            this.#state = S.SbOption;
          } else {
            // GA, NOP, BRK, AYT, DM, a stray SE or a byte that is no command: nothing to show.
            this.#state = S.Data;
            if (b >= SE) {
              flush();
              events.push({ type: "command", command: b });
            }
          }
          break;
        case S.Option: {
          this.#state = S.Data;
          flush();
          this.#negotiate(this.#command, b, events);
          break;
        }
        case S.SbOption:
          this.#sbOption = b;
          this.#sbLength = 0;
          this.#sbOverflow = false;
          this.#state = S.SbData;
          break;
        case S.SbData:
          if (b === IAC) this.#state = S.SbIac;
          else this.#sbPush(b, events);
          break;
        case S.SbIac:
          if (b === IAC) {
            this.#state = S.SbData;
            this.#sbPush(IAC, events);
          } else {
            // IAC SE ends it; any other command also ends it (RFC 855 allows no others inside) and is read as such.
            flush();
            if (!this.#sbOverflow) this.#subnegotiation(events);
            if (b === SE) this.#state = S.Data;
            else {
              this.#state = S.Iac;
              i--;
            }
          }
          break;
      }
    }
    flush();
    return events;
  }

  /**
   * Data to send: IAC doubled. Without BINARY a bare CR becomes CR NUL and CR LF stays the NVT's
   * newline (RFC 854), which telnetd reads as one Enter. With BINARY the server takes bytes
   * literally, so CR LF is sent as CR, the Enter key (what BSD telnet sends in binary mode):
   * otherwise a "\r\n" line ending is two Enters on a Unix host's PTY.
   */
  encodeData(bytes: Uint8Array): Uint8Array {
    const binary = this.enabled("local", OPT.BINARY);
    let grow = 0;
    let crlf = false;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b === IAC) grow++;
      else if (b === 13 && bytes[i + 1] === 10) crlf = true;
      else if (b === 13 && !binary) grow++;
    }
    if (grow === 0 && !(binary && crlf)) return bytes;
    const out = new Uint8Array(bytes.length + grow);
    let n = 0;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      out[n++] = b;
      if (b === IAC) out[n++] = IAC;
      else if (b === 13 && bytes[i + 1] === 10) {
        if (binary) i++;
      } else if (b === 13 && !binary) out[n++] = 0;
    }
    return n === out.length ? out : out.slice(0, n);
  }

  /** Records the window size; returns the NAWS message when the server accepted NAWS (empty otherwise). */
  resize(size: { cols: number; rows: number }): Uint8Array {
    this.#size = { ...size };
    return this.enabled("local", OPT.NAWS) ? this.#naws() : new Uint8Array(0);
  }

  /** Telnet BREAK (IAC BRK). */
  brk(): Uint8Array {
    return Uint8Array.of(IAC, BRK);
  }

  /** The RFC 2217 commands that set a serial line (IAC SB COM-PORT-OPTION command value… IAC SE each). */
  comPortSettings(settings: ComPortSettings): Uint8Array {
    return concat(settingsCommands(settings).map((payload) => subnegotiation(OPT.COM_PORT, payload)));
  }

  /** SET-CONTROL for BREAK / DTR / RTS (a CONTROL value). */
  comPortControl(value: number): Uint8Array {
    return subnegotiation(OPT.COM_PORT, Uint8Array.of(COM_PORT.SET_CONTROL, value));
  }

  #sbPush(b: number, events: TelnetEvent[]): void {
    if (this.#sbOverflow) return;
    if (this.#sbLength >= MAX_SUBNEGOTIATION_BYTES) {
      this.#sbOverflow = true;
      events.push({ type: "error", message: `the server sent a subnegotiation (option ${this.#sbOption}) longer than ${MAX_SUBNEGOTIATION_BYTES} bytes` });
      return;
    }
    this.#sb[this.#sbLength++] = b;
  }

  #subnegotiation(events: TelnetEvent[]): void {
    const option = this.#sbOption;
    const payload = this.#sb.slice(0, this.#sbLength);
    events.push({ type: "subnegotiation", option, payload });
    // RFC 1091: SB TERMINAL-TYPE SEND → SB TERMINAL-TYPE IS <name>.
    if (option === OPT.TTYPE && payload[0] === 1 && this.enabled("local", OPT.TTYPE)) {
      events.push({ type: "send", bytes: subnegotiation(OPT.TTYPE, Uint8Array.of(0, ...new TextEncoder().encode(this.terminalType))) });
    } else if (option === OPT.COM_PORT && payload.length > 0 && applyComPortAnswer(this.comPort, payload)) {
      events.push({ type: "com-port", command: payload[0]!, state: { ...this.comPort } });
    }
  }

  #supportedLocal(option: number): boolean {
    return option === OPT.BINARY || option === OPT.NAWS || option === OPT.TTYPE || option === OPT.SGA || (option === OPT.COM_PORT && this.comPortEnabled);
  }

  #supportedRemote(option: number): boolean {
    return option === OPT.ECHO || option === OPT.SGA || option === OPT.BINARY;
  }

  /** RFC 1143 §7 (without the queue bits): answer only what changes state, so no request loops. */
  #negotiate(command: number, option: number, events: TelnetEvent[]): void {
    const local = command === DO || command === DONT;
    const table = local ? this.#local : this.#remote;
    const on = command === DO || command === WILL;
    const agree = local ? WILL : DO;
    const refuse = local ? WONT : DONT;
    const side = local ? "local" : "remote";
    const state = table.get(option) ?? "no";
    const send = (verb: number) => events.push({ type: "send", bytes: Uint8Array.of(IAC, verb, option) });
    const changed = (enabled: boolean) => {
      events.push({ type: "option", side, option, enabled });
      if (enabled && local) this.#enabledLocally(option, events);
    };
    if (on) {
      if (state === "no") {
        if (local ? this.#supportedLocal(option) : this.#supportedRemote(option)) {
          table.set(option, "yes");
          send(agree);
          changed(true);
        } else {
          const count = this.#refusals.get(option * 2 + (local ? 1 : 0)) ?? 0;
          if (count < MAX_REFUSALS_PER_OPTION) send(refuse);
          this.#refusals.set(option * 2 + (local ? 1 : 0), count + 1);
        }
      } else if (state === "wantyes") {
        table.set(option, "yes");
        changed(true);
      } else if (state === "wantno") {
        // RFC 1143: a WILL/DO answering our WONT/DONT is an error by the peer; we stay off.
        table.set(option, "no");
      }
    } else {
      if (state === "yes") {
        table.set(option, "no");
        send(refuse);
        changed(false);
      } else if (state === "wantyes" || state === "wantno") {
        table.set(option, "no");
        if (state === "wantyes") events.push({ type: "option", side, option, enabled: false });
      }
    }
  }

  #enabledLocally(option: number, events: TelnetEvent[]): void {
    // RFC 1073: once NAWS is agreed the client sends its size at once and on every change.
    if (option === OPT.NAWS) events.push({ type: "send", bytes: this.#naws() });
  }

  #naws(): Uint8Array {
    const cols = Math.max(0, Math.min(65535, this.#size.cols));
    const rows = Math.max(0, Math.min(65535, this.#size.rows));
    return subnegotiation(OPT.NAWS, Uint8Array.of(cols >> 8, cols & 255, rows >> 8, rows & 255));
  }
}

/** IAC SB option payload IAC SE, with IAC bytes in the payload doubled (RFC 855). */
export function subnegotiation(option: number, payload: Uint8Array): Uint8Array {
  const out: number[] = [IAC, SB, option];
  for (const b of payload) {
    out.push(b);
    if (b === IAC) out.push(IAC);
  }
  out.push(IAC, SE);
  return Uint8Array.from(out);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
