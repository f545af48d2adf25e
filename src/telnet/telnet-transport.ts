// A console over TCP as a Transport: telnet (RFC 854) for terminal servers and lab consoles,
// RFC 2217 for serial ports behind a network server, or raw bytes (ser2net raw, netcat-style ports).
// The protocol lives in protocol.ts; this file only moves its bytes over a socket.
import { connect, type Socket } from "node:net";
import { PtyError } from "../errors.ts";
import { ExitOnce, HeldData, type Transport, type TransportCapabilities, type TransportExit } from "../session/transport.ts";
import { type ComPortSettings, type ComPortState, comPortInfo, CONTROL } from "./com-port.ts";
import { OPT, TelnetProtocol, type TelnetEvent } from "./protocol.ts";

export type { ComPortSettings };
export type ConsoleMode = "telnet" | "rfc2217" | "raw";

export interface TelnetConnectOptions {
  host: string;
  port: number;
  mode: ConsoleMode;
  /** CONN_FAILED when the TCP connection is not up within this time. */
  connectTimeoutMs: number;
  size: { cols: number; rows: number };
  /** rfc2217: the line settings to negotiate. */
  comPort?: ComPortSettings;
  /** rfc2217: how long to wait for the server's answers to the settings (default 5 s). */
  comPortAnswerTimeoutMs?: number;
  /** How long the first writes wait for the answers to our opening requests (default 1 s). */
  openingAnswerTimeoutMs?: number;
}

/** A server that leaves an opening request unanswered delays the first write this long, once. */
const OPENING_ANSWER_MS = 1000;

/** Default BREAK length, as a serial port's (POSIX tcsendbreak: at least 0.25 s). */
const DEFAULT_BREAK_MS = 250;

/**
 * A TCP console. Reads go through the telnet protocol core (unless raw) and only data
 * reaches onData (what arrives before the first listener is held for it); negotiation
 * answers are written back at once. Writes wait until the server answered our opening
 * requests (at most OPENING_ANSWER_MS), so data is encoded for the mode agreed. write() escapes data
 * (IAC doubled) and settles when the kernel has the bytes. The server closing the
 * connection ends the transport (onExit with a reason); a server that breaks the protocol
 * (an endless subnegotiation) ends it with errorCode PROTOCOL_ERROR.
 *
 * Capabilities: telnet sends `IAC BRK` for break; rfc2217 sends SET-CONTROL BREAK on/off and
 * DTR/RTS through SET-CONTROL, and keeps the server's answers in `comPort`.
 */
export class TelnetTransport implements Transport {
  readonly host: string;
  readonly port: number;
  readonly mode: ConsoleMode;
  readonly capabilities: TransportCapabilities;
  /** Said, not thrown: what the server did not confirm. */
  readonly warnings: string[] = [];

  readonly #socket: Socket;
  readonly #protocol: TelnetProtocol | undefined;
  readonly #data = new HeldData();
  readonly #exit = new ExitOnce();
  readonly #negotiationListeners = new Set<() => void>();
  #closePromise: Promise<void> | undefined;
  /** Until the server answered our opening requests (bounded): writes wait for it. */
  #opening: Promise<void> | undefined;
  #closing = false;
  /** The server answered our WILL COM-PORT-OPTION with DONT. */
  #comPortRefused = false;
  /** Answers to line-setting commands received since the settings were sent. */
  #comPortAnswers = 0;

  private constructor(socket: Socket, options: TelnetConnectOptions) {
    this.#socket = socket;
    this.host = options.host;
    this.port = options.port;
    this.mode = options.mode;
    this.#protocol = options.mode === "raw" ? undefined : new TelnetProtocol({ size: options.size, comPort: options.mode === "rfc2217" });
    const capabilities: TransportCapabilities = {};
    if (options.mode === "telnet") capabilities.sendBreak = () => this.#send(Uint8Array.of(255, 243));
    if (options.mode === "rfc2217") {
      capabilities.sendBreak = (durationMs) => this.#comPortBreak(durationMs ?? DEFAULT_BREAK_MS);
      capabilities.setModemLines = (lines) => this.#setModemLines(lines);
      capabilities.lineSettings = () => comPortInfo(this.comPort);
    }
    this.capabilities = capabilities;
    socket.on("data", (chunk: Buffer) => this.#receive(chunk));
    socket.on("error", () => {
      // "close" follows with hadError; the reason is said there.
    });
    socket.on("close", () => this.#finish({ code: null, signal: null, reason: this.#closing ? undefined : `The server ${this.host}:${this.port} closed the connection.` }));
  }

  /** Connects; throws PtyError CONN_FAILED (retryable) or, for rfc2217 refused by the server, PROTOCOL_ERROR. */
  static async connect(options: TelnetConnectOptions): Promise<TelnetTransport> {
    const socket = await openSocket(options.host, options.port, options.connectTimeoutMs);
    const transport = new TelnetTransport(socket, options);
    if (transport.#protocol) {
      const protocol = transport.#protocol;
      await transport.#send(protocol.start()).catch(() => {});
      // Data written before the server answered BINARY would be encoded for the other mode (an
      // Enter typed at once went out as CR LF, two Enters on a device behind ser2net): writes wait
      // for the answers, output does not.
      transport.#opening = transport.#until(() => !protocol.negotiating, options.openingAnswerTimeoutMs ?? OPENING_ANSWER_MS).then(() => {
        transport.#opening = undefined;
      });
      if (options.mode === "rfc2217") await transport.#negotiateComPort(options.comPort ?? {}, options.comPortAnswerTimeoutMs ?? 5000);
    }
    return transport;
  }

  /** The COM-PORT server's answers (rfc2217), a copy. */
  get comPort(): ComPortState {
    return { ...(this.#protocol?.comPort ?? {}) };
  }

  /** Whether the server echoes (telnet ECHO on its side): false means it expects local echo. */
  get remoteEcho(): boolean {
    return this.#protocol?.enabled("remote", OPT.ECHO) ?? false;
  }

  onData(listener: (bytes: Uint8Array) => void): Disposable {
    return this.#data.on(listener);
  }

  onExit(listener: (exit: TransportExit) => void): Disposable {
    return this.#exit.on(listener);
  }

  write(bytes: Uint8Array): Promise<void> {
    const protocol = this.#protocol;
    if (!protocol) return this.#send(bytes);
    // Encoded when sent: BINARY may be agreed while the write waits for the opening answers.
    if (this.#opening) return this.#opening.then(() => this.#send(protocol.encodeData(bytes)));
    return this.#send(protocol.encodeData(bytes));
  }

  /** Telnet: NAWS again (RFC 1073); raw and a server without NAWS never learn the size. */
  resize(size: { cols: number; rows: number }): void {
    const message = this.#protocol?.resize(size);
    if (message && message.length > 0) this.#send(message).catch(() => {});
  }

  close(): Promise<void> {
    this.#closePromise ??= new Promise<void>((resolve) => {
      this.#closing = true;
      if (this.#exit.exit) return resolve();
      this.#exit.on(() => resolve());
      this.#socket.destroy();
    });
    return this.#closePromise;
  }

  #send(bytes: Uint8Array): Promise<void> {
    if (this.#exit.exit || this.#closing) return Promise.reject(this.#closedError());
    return new Promise((resolve, reject) => {
      this.#socket.write(bytes, (err) => {
        if (!err) return resolve();
        reject(this.#exit.exit ? this.#closedError() : new PtyError("WRITE_FAILED", `Writing to ${this.host}:${this.port} failed: ${err.message}.`, false, { cause: err }));
      });
    });
  }

  #receive(chunk: Uint8Array): void {
    if (!this.#protocol) {
      this.#data.emit(chunk);
      return;
    }
    let events: TelnetEvent[];
    try {
      events = this.#protocol.receive(chunk);
    } catch (err) {
      this.#protocolError(err instanceof Error ? err.message : String(err));
      return;
    }
    for (const event of events) {
      switch (event.type) {
        case "data":
          this.#data.emit(event.bytes);
          break;
        case "send":
          this.#send(event.bytes).catch(() => {});
          break;
        case "error":
          this.#protocolError(event.message);
          return;
        case "option":
          if (event.side === "local" && event.option === OPT.COM_PORT && !event.enabled) this.#comPortRefused = true;
          for (const listener of this.#negotiationListeners) listener();
          break;
        case "com-port":
          // Answers to SET-BAUDRATE … SET-CONTROL (101…105) count towards the opening negotiation.
          if (event.command >= 101 && event.command <= 105) this.#comPortAnswers++;
          for (const listener of this.#negotiationListeners) listener();
          break;
      }
    }
  }

  #protocolError(message: string): void {
    if (this.#exit.exit) return;
    this.#finish({ code: null, signal: null, reason: `The server ${this.host}:${this.port} broke the telnet protocol (${message}); the connection was closed. If it is a plain TCP console, use raw: true (or socket://).`, errorCode: "PROTOCOL_ERROR" });
    this.#socket.destroy();
  }

  /** Waits until `done()` holds, the connection ends or the time is up; true when done. */
  #until(done: () => boolean, timeoutMs: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!done() && !this.#exit.exit) return;
        finish();
      };
      const finish = () => {
        clearTimeout(timer);
        this.#negotiationListeners.delete(check);
        exit[Symbol.dispose]();
        resolve(done());
      };
      const timer = setTimeout(finish, timeoutMs);
      const exit = this.#exit.on(finish);
      this.#negotiationListeners.add(check);
    });
  }

  async #negotiateComPort(settings: ComPortSettings, timeoutMs: number): Promise<void> {
    const protocol = this.#protocol!;
    const agreed = await this.#until(() => protocol.enabled("local", OPT.COM_PORT) || this.#comPortRefused, timeoutMs);
    if (!agreed || this.#comPortRefused) {
      await this.close();
      throw new PtyError(
        "PROTOCOL_ERROR",
        `${this.host}:${this.port} ${agreed ? "refused" : "did not answer"} RFC 2217 COM-PORT-OPTION: it is not an RFC 2217 server (ser2net needs "telnet(rfc2217)" in the accepter). Use socket://${this.host}:${this.port} for a raw port, or create_telnet_session.`,
      );
    }
    await this.#send(protocol.comPortSettings(settings)).catch(() => {});
    const wanted: (keyof ComPortSettings)[] = [];
    if (settings.baudRate !== undefined) wanted.push("baudRate");
    if (settings.dataBits !== undefined) wanted.push("dataBits");
    if (settings.parity !== undefined) wanted.push("parity");
    if (settings.stopBits !== undefined) wanted.push("stopBits");
    if (settings.flowControl !== undefined) wanted.push("flowControl");
    this.#comPortAnswers = 0;
    const answeredAll = await this.#until(() => this.#comPortAnswers >= wanted.length, timeoutMs);
    if (this.#exit.exit) throw new PtyError("CONN_FAILED", `${this.host}:${this.port} closed the connection during RFC 2217 negotiation.`, true);
    if (!answeredAll) this.warnings.push(`The server did not confirm every line setting within ${timeoutMs} ms; get_session_state shows what it answered.`);
    const got = protocol.comPort;
    const refused = wanted.filter((key) => got[key] !== undefined && got[key] !== settings[key]);
    if (refused.length > 0) this.warnings.push(`The server kept different settings: ${refused.map((key) => `${key} ${String(got[key])} (asked ${String(settings[key])})`).join(", ")}.`);
  }

  async #comPortBreak(durationMs: number): Promise<void> {
    const protocol = this.#protocol!;
    await this.#send(protocol.comPortControl(CONTROL.BREAK_ON));
    try {
      await Bun.sleep(durationMs);
    } finally {
      if (!this.#exit.exit) await this.#send(protocol.comPortControl(CONTROL.BREAK_OFF));
    }
  }

  async #setModemLines(lines: { dtr?: boolean; rts?: boolean }): Promise<void> {
    const protocol = this.#protocol!;
    if (lines.dtr !== undefined) await this.#send(protocol.comPortControl(lines.dtr ? CONTROL.DTR_ON : CONTROL.DTR_OFF));
    if (lines.rts !== undefined) await this.#send(protocol.comPortControl(lines.rts ? CONTROL.RTS_ON : CONTROL.RTS_OFF));
  }

  #finish(exit: TransportExit): void {
    this.#exit.fire(exit);
  }

  #closedError(): PtyError {
    if (this.#exit.exit?.errorCode === "PROTOCOL_ERROR") return new PtyError("PROTOCOL_ERROR", this.#exit.exit.reason ?? "The server broke the telnet protocol.");
    return new PtyError("SESSION_CLOSED", this.#exit.exit?.reason ? `${this.#exit.exit.reason} Create a new session to reconnect.` : `The connection to ${this.host}:${this.port} is closed. Create a new session.`);
  }
}

/** TCP connect with a deadline; every failure is CONN_FAILED (retryable) with what to check. */
function openSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // Keepalive: a console server that vanishes (power, a cut link) ends the session instead of leaving it hanging.
    const socket = connect({ host, port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 30_000 });
    const fail = (err: PtyError) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new PtyError("CONN_FAILED", `No connection to ${host}:${port} within ${Math.round(timeoutMs / 1000)} s: the host is unreachable or a firewall drops the packets. Check the address and port, or raise connect_timeout.`, true)),
      timeoutMs,
    );
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (err: NodeJS.ErrnoException) => fail(connectError(host, port, err)));
  });
}

function connectError(host: string, port: number, err: NodeJS.ErrnoException): PtyError {
  const why: Record<string, string> = {
    ECONNREFUSED: `nothing listens on port ${port} (connection refused): check the port, or whether the console server's port is enabled`,
    ENOTFOUND: `the name ${host} does not resolve (DNS)`,
    EAI_AGAIN: `the name ${host} could not be resolved now (DNS temporarily failing)`,
    EHOSTUNREACH: "the host is unreachable (no route)",
    ENETUNREACH: "the network is unreachable (no route)",
    ECONNRESET: "the server reset the connection (a console port already in use, or an access list)",
    ETIMEDOUT: "the connection timed out",
  };
  const reason = why[err.code ?? ""] ?? err.message;
  return new PtyError("CONN_FAILED", `Cannot connect to ${host}:${port}: ${reason}.`, true, { cause: err });
}
