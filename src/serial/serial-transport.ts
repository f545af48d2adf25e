import { close as closeCallback, constants, openSync, readdirSync, readFileSync, readlinkSync, write as writeCallback } from "node:fs";
import { PtyError } from "../errors.ts";
import { Emitter, ExitOnce, type Transport, type TransportCapabilities, type TransportExit } from "../session/transport.ts";
import { checkDevicePath, permissionDenied } from "./device-path.ts";
import { Libc, LibcError } from "./libc.ts";
import {
  applySettings,
  baudRateOf,
  DEFAULT_SETTINGS,
  readSettings,
  settingsDifferences,
  speedFor,
  supportedBaudRates,
  type SerialSettings,
} from "./termios.ts";

export interface SerialOpenOptions extends Partial<SerialSettings> {
  /** Device path under /dev/ (symlinks allowed when they resolve under /dev/ too). */
  device: string;
  /** Initial DTR / RTS level; omitted = leave as the driver set them on open (both on, on Linux). */
  dtr?: boolean;
  rts?: boolean;
  /** Root the path rules use; tests only. */
  devRoot?: string;
}

/** Default BREAK length: POSIX tcsendbreak(fd, 0) sends "at least 0.25 s". */
const DEFAULT_BREAK_MS = 250;
/** Longest wait for queued output to leave the UART on close before it is discarded. */
const MAX_DRAIN_ON_CLOSE_MS = 2000;

function closeFd(fd: number): Promise<void> {
  // Asynchronous close: a serial driver may wait for output to drain (closing_wait); keep that off the event loop.
  return new Promise((resolve) => closeCallback(fd, () => resolve()));
}

function writeFd(fd: number, bytes: Uint8Array, offset: number): Promise<number> {
  return new Promise((resolve, reject) => writeCallback(fd, bytes, offset, bytes.length - offset, null, (err, written) => (err ? reject(err) : resolve(written))));
}

/**
 * A serial port as a Transport.
 *
 * Reads: the port is opened O_NONBLOCK and read through `Bun.file(fd).stream()`,
 * which waits in Bun's epoll/kqueue loop (no thread, no polling). Writes: a second,
 * blocking descriptor of the same port written with `fs.write`, which runs on Bun's
 * thread pool, so a slow 9600-baud line or a peer holding CTS low never blocks the
 * event loop or burns CPU (Bun's own writers block the loop or spin on EAGAIN for a
 * tty). A write settles when the kernel has taken all bytes. Writes are serialized.
 *
 * Exclusive: flock(LOCK_EX|LOCK_NB) plus TIOCEXCL, so a second session or another
 * program (screen, minicom) cannot open the same port.
 *
 * The device vanishing (USB unplugged, the far end of a pty gone) ends the read
 * stream: the transport releases the port and fires onExit once with a `reason`.
 * close() cancels the reader, gives queued output a bounded time to drain, discards
 * the rest (so close never hangs on flow control), closes both descriptors and
 * fires onExit.
 */
export class SerialTransport implements Transport {
  readonly device: string;
  readonly realPath: string;
  /** What the driver actually kept (a pty keeps CS8 and no parity whatever is asked). */
  readonly settings: SerialSettings;
  /** Settings the device did not accept, modem lines it does not have: said, not thrown. */
  readonly warnings: string[];
  readonly capabilities: TransportCapabilities;

  readonly #libc: Libc;
  readonly #readFd: number;
  readonly #writeFd: number;
  readonly #data = new Emitter<Uint8Array>();
  readonly #exit = new ExitOnce();
  #reader: { cancel(): Promise<void> } | undefined;
  #readLoop: Promise<void> = Promise.resolve();
  #writeChain: Promise<void> = Promise.resolve();
  #writesInFlight = 0;
  #state: "open" | "closing" | "closed" = "open";
  #closePromise: Promise<void> | undefined;
  #releasePromise: Promise<void> | undefined;

  private constructor(init: { device: string; realPath: string; libc: Libc; readFd: number; writeFd: number; settings: SerialSettings; warnings: string[] }) {
    this.device = init.device;
    this.realPath = init.realPath;
    this.#libc = init.libc;
    this.#readFd = init.readFd;
    this.#writeFd = init.writeFd;
    this.settings = init.settings;
    this.warnings = init.warnings;
    this.capabilities = {
      sendBreak: (durationMs) => this.sendBreak(durationMs),
      setModemLines: (lines) => this.setModemLines(lines),
    };
  }

  /** Opens, locks and configures the port; throws PtyError INVALID_ARGUMENT / SERIAL_OPEN_FAILED. */
  static async open(options: SerialOpenOptions): Promise<SerialTransport> {
    const wanted: SerialSettings = {
      baudRate: options.baudRate ?? DEFAULT_SETTINGS.baudRate,
      dataBits: options.dataBits ?? DEFAULT_SETTINGS.dataBits,
      parity: options.parity ?? DEFAULT_SETTINGS.parity,
      stopBits: options.stopBits ?? DEFAULT_SETTINGS.stopBits,
      flowControl: options.flowControl ?? DEFAULT_SETTINGS.flowControl,
    };
    let libc: Libc;
    try {
      libc = new Libc();
    } catch (err) {
      throw new PtyError("SERIAL_OPEN_FAILED", `Serial ports are not available here: ${err instanceof Error ? err.message : String(err)}.`, false, { cause: err });
    }
    const table = libc.table;
    const speed = speedFor(table, wanted.baudRate);
    if (!speed) {
      throw new PtyError("INVALID_ARGUMENT", `baud_rate ${wanted.baudRate} is not a rate this OS can set. Valid: ${supportedBaudRates(table).join(", ")}.`);
    }
    if ((wanted.parity === "mark" || wanted.parity === "space") && table.cflag.CMSPAR === undefined) {
      throw new PtyError("INVALID_ARGUMENT", `parity "${wanted.parity}" is not supported on ${table.os}; use none, even or odd.`);
    }
    const { path, realPath } = checkDevicePath(options.device, options.devRoot);

    // O_NONBLOCK: open must not wait for carrier (DCD) and reads go through the event loop.
    // O_NOCTTY: the port must never become our controlling terminal.
    let readFd: number;
    try {
      readFd = openSync(realPath, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    } catch (err) {
      throw openError(path, realPath, err);
    }
    let writeFd: number | undefined;
    try {
      try {
        libc.flock(readFd, table.LOCK_EX | table.LOCK_NB);
      } catch (err) {
        if (err instanceof LibcError && (err.errnoName === "EAGAIN" || err.errnoName === "EWOULDBLOCK")) throw busy(path, realPath, err, readFd);
        throw err;
      }
      const warnings: string[] = [];
      const before = libc.tcgetattr(readFd);
      const keepDtrOnClose = options.dtr !== false;
      const next = applySettings(table, before, wanted, keepDtrOnClose);
      libc.tcsetattr(readFd, next, "speed" in speed ? speed.speed : undefined);
      if ("ioctl" in speed && table.ioctl.IOSSIOSPEED !== undefined) libc.ioctlSpeed(readFd, "IOSSIOSPEED", table.ioctl.IOSSIOSPEED, speed.ioctl);
      // tcsetattr succeeds if ANY change was applied (termios(3)): read back what the driver kept.
      const after = libc.tcgetattr(readFd);
      const keptRate = "speed" in speed ? (baudRateOf(table, libc.cfgetospeed(after)) ?? 0) : wanted.baudRate;
      const settings = readSettings(table, after, keptRate);
      const differences = settingsDifferences(wanted, settings);
      if (differences.length > 0) {
        warnings.push(`The device did not accept: ${differences.join(", ")}. A pseudo-terminal ignores these; on a real port the driver or adapter cannot do them.`);
      }
      // CLOCAL is set now, so this blocking open cannot wait for carrier.
      writeFd = openSync(realPath, constants.O_WRONLY | constants.O_NOCTTY);
      try {
        libc.ioctl(readFd, "TIOCEXCL", table.ioctl.TIOCEXCL);
      } catch {
        // Some drivers lack TIOCEXCL; the flock above still keeps our own sessions apart.
      }
      if (options.dtr !== undefined || options.rts !== undefined) {
        try {
          setModemLines(libc, readFd, { dtr: options.dtr, rts: options.rts });
        } catch (err) {
          warnings.push(`Could not set ${describeLines({ dtr: options.dtr, rts: options.rts })}: ${err instanceof LibcError ? err.errnoName : String(err)}. This device has no modem control lines (a pseudo-terminal, or an adapter without DTR/RTS).`);
        }
      }
      const transport = new SerialTransport({ device: path, realPath, libc, readFd, writeFd, settings, warnings });
      transport.#startReading();
      return transport;
    } catch (err) {
      if (writeFd !== undefined) await closeFd(writeFd);
      await closeFd(readFd);
      if (err instanceof PtyError) throw err;
      throw new PtyError("SERIAL_OPEN_FAILED", `Cannot configure ${path}: ${err instanceof Error ? err.message : String(err)}. Is it a serial port?`, false, { cause: err });
    }
  }

  get isOpen(): boolean {
    return this.#state === "open";
  }

  onData(listener: (bytes: Uint8Array) => void): Disposable {
    return this.#data.on(listener);
  }

  onExit(listener: (exit: TransportExit) => void): Disposable {
    return this.#exit.on(listener);
  }

  /** A serial line has no window size; the device never learns the terminal's size. */
  resize(_size: { cols: number; rows: number }): void {}

  write(bytes: Uint8Array): Promise<void> {
    if (this.#state !== "open") return Promise.reject(this.#closedError());
    this.#writesInFlight++;
    const job = this.#writeChain.then(() => this.#writeAll(bytes));
    const settled = job.finally(() => void this.#writesInFlight--);
    this.#writeChain = settled.catch(() => {});
    return settled;
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      if (this.#state !== "open") throw this.#closedError();
      try {
        offset += await writeFd(this.#writeFd, bytes, offset);
      } catch (err) {
        if (this.#state !== "open") throw this.#closedError();
        const code = (err as NodeJS.ErrnoException).code;
        const gone = code === "EIO" || code === "ENXIO" || code === "ENODEV";
        throw new PtyError("WRITE_FAILED", gone ? `The serial device ${this.device} went away (unplugged?); ${offset} of ${bytes.length} bytes were sent. Plug it back in and create a new session.` : `Writing to ${this.device} failed: ${code ?? String(err)}.`, !gone, { cause: err });
      }
    }
  }

  /** BREAK: TIOCSBRK, hold, TIOCCBRK (what tcsendbreak does), timed by the event loop instead of sleeping in the kernel. */
  async sendBreak(durationMs = DEFAULT_BREAK_MS): Promise<void> {
    if (this.#state !== "open") throw this.#closedError();
    const { ioctl } = this.#libc.table;
    try {
      this.#libc.ioctl(this.#readFd, "TIOCSBRK", ioctl.TIOCSBRK);
    } catch (err) {
      throw new PtyError("WRITE_FAILED", `Could not send BREAK on ${this.device}: ${err instanceof LibcError ? err.errnoName : String(err)}.`, false, { cause: err });
    }
    try {
      await Bun.sleep(durationMs);
    } finally {
      if (this.#state === "open") this.#libc.ioctl(this.#readFd, "TIOCCBRK", ioctl.TIOCCBRK);
    }
  }

  async setModemLines(lines: { dtr?: boolean; rts?: boolean }): Promise<void> {
    if (this.#state !== "open") throw this.#closedError();
    try {
      setModemLines(this.#libc, this.#readFd, lines);
    } catch (err) {
      throw new PtyError("INVALID_ARGUMENT", `Cannot set ${describeLines(lines)} on ${this.device}: ${err instanceof LibcError ? err.errnoName : String(err)}. The device has no modem control lines (a pseudo-terminal, or an adapter without DTR/RTS).`, false, { cause: err });
    }
  }

  close(): Promise<void> {
    this.#closePromise ??= this.#close();
    return this.#closePromise;
  }

  async #close(): Promise<void> {
    if (this.#state === "open") this.#state = "closing";
    await this.#reader?.cancel().catch(() => {});
    // If the device vanished meanwhile, the read loop has released the port and reported the exit.
    await this.#readLoop;
    await this.#releaseOnce();
    this.#finish({ code: null, signal: null });
  }

  #startReading(): void {
    // Bun dups the fd for the stream and closes its dup when the stream ends or is cancelled.
    const reader = Bun.file(this.#readFd).stream().getReader();
    this.#reader = reader;
    this.#readLoop = (async () => {
      let failure: string | undefined;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (value.length > 0) this.#data.emit(value);
        }
      } catch (err) {
        failure = (err as NodeJS.ErrnoException).code ?? String(err);
      }
      if (this.#state === "open") {
        // Not our close: the device hung up (USB unplugged, pty peer gone, driver detached).
        this.#state = "closing";
        await this.#releaseOnce();
        this.#finish({ code: null, signal: null, reason: `The serial device ${this.device} went away${failure ? ` (${failure})` : ""}: unplugged, powered off, or its driver detached.` });
      }
    })();
  }

  /** The descriptors are closed exactly once: a second close() of a reused fd number would hit someone else's file. */
  #releaseOnce(): Promise<void> {
    this.#releasePromise ??= this.#release();
    return this.#releasePromise;
  }

  /** Frees the port: never blocks on output that cannot leave (flow control, a dead peer). */
  async #release(): Promise<void> {
    const { table } = this.#libc;
    try {
      if (this.#writesInFlight > 0) {
        // A writer is blocked in the kernel: discard queued output and resume a stopped line so it returns.
        for (let attempt = 0; attempt < 20 && this.#writesInFlight > 0; attempt++) {
          this.#libc.tcflush(this.#readFd, table.TCOFLUSH);
          this.#libc.tcflow(this.#readFd, table.TCOON);
          await Promise.race([this.#writeChain, Bun.sleep(25)]);
        }
      } else {
        // Give bytes already queued (e.g. "reload\r") the time the line needs to send them, once.
        const queued = this.#libc.ioctl(this.#readFd, "TIOCOUTQ", table.ioctl.TIOCOUTQ, 0);
        if (queued > 0) {
          const bitsPerChar = 1 + this.settings.dataBits + (this.settings.parity === "none" ? 0 : 1) + this.settings.stopBits;
          await Bun.sleep(Math.min(MAX_DRAIN_ON_CLOSE_MS, Math.ceil((queued * bitsPerChar * 1000) / this.settings.baudRate) + 20));
        }
        this.#libc.tcflush(this.#readFd, table.TCOFLUSH);
      }
    } catch {
      // The device is gone: nothing to flush.
    }
    // Our claim on the port ends now, not when the last descriptor of this open file goes: Bun's read
    // stream closes its dup of readFd a moment after cancel() returns, and until then that dup held the
    // flock (it belongs to the open file, not to one fd) and TIOCEXCL (to the tty), so a session that
    // reopened the port at once was refused as busy by our own process (~1 in 150 under load).
    try {
      this.#libc.ioctl(this.#readFd, "TIOCNXCL", table.ioctl.TIOCNXCL);
    } catch {
      // A driver without TIOCEXCL, or the device is gone.
    }
    try {
      this.#libc.flock(this.#readFd, table.LOCK_UN);
    } catch {
      // The device is gone: the lock goes with its descriptors.
    }
    await closeFd(this.#writeFd);
    await closeFd(this.#readFd);
  }

  #finish(exit: TransportExit): void {
    if (this.#exit.exit) return;
    this.#state = "closed";
    this.#exit.fire(exit);
  }

  #closedError(): PtyError {
    return new PtyError("SESSION_CLOSED", this.#exit.exit?.reason ? `${this.#exit.exit.reason} Create a new session once it is back.` : `The serial session on ${this.device} is closed. Create a new one.`);
  }
}

function setModemLines(libc: Libc, fd: number, lines: { dtr?: boolean; rts?: boolean }): void {
  const { table } = libc;
  let set = 0;
  let clear = 0;
  if (lines.dtr === true) set |= table.TIOCM_DTR;
  if (lines.dtr === false) clear |= table.TIOCM_DTR;
  if (lines.rts === true) set |= table.TIOCM_RTS;
  if (lines.rts === false) clear |= table.TIOCM_RTS;
  if (set) libc.ioctl(fd, "TIOCMBIS", table.ioctl.TIOCMBIS, set);
  if (clear) libc.ioctl(fd, "TIOCMBIC", table.ioctl.TIOCMBIC, clear);
}

function describeLines(lines: { dtr?: boolean; rts?: boolean }): string {
  const parts: string[] = [];
  if (lines.dtr !== undefined) parts.push(`DTR ${lines.dtr ? "on" : "off"}`);
  if (lines.rts !== undefined) parts.push(`RTS ${lines.rts ? "on" : "off"}`);
  return parts.join(" and ") || "modem lines";
}

/** Who holds the port, from /proc/PID/fd (Linux; processes of other users are invisible unless we are root). */
function holders(realPath: string, ownFd: number | undefined): { self: boolean; others: string[] } {
  const result = { self: false, others: [] as string[] };
  if (process.platform !== "linux") return result;
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return result;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      if (Number(pid) === process.pid && Number(fd) === ownFd) continue;
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (target !== realPath) continue;
      if (Number(pid) === process.pid) result.self = true;
      else {
        let comm = "?";
        try {
          comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
        } catch {
          // gone meanwhile
        }
        result.others.push(`pid ${pid} (${comm})`);
      }
      break;
    }
  }
  return result;
}

function busy(device: string, realPath: string, cause: unknown, ownFd?: number): PtyError {
  const held = holders(realPath, ownFd);
  const who = held.self
    ? "another session of this pty-mcp server has it open exclusively"
    : held.others.length > 0
      ? `it is held open by ${held.others.join(", ")}`
      : "another session or program (screen, minicom, picocom, a serial console getty) has it open exclusively";
  return new PtyError("SERIAL_OPEN_FAILED", `${device} is busy: ${who}. Close that session (close_session) or quit that program, then try again.`, true, { cause });
}

function openError(device: string, realPath: string, err: unknown): PtyError {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case "EACCES":
    case "EPERM":
      return permissionDenied(device, realPath, err);
    case "EBUSY":
      return busy(device, realPath, err);
    case "ENOENT":
    case "ENXIO":
    case "ENODEV":
      return new PtyError("SERIAL_OPEN_FAILED", `${device} exists but has no device behind it (${code}): the adapter was unplugged or its driver is not loaded. Replug it and call list_serial_ports.`, true, { cause: err });
    default:
      return new PtyError("SERIAL_OPEN_FAILED", `Cannot open ${device}: ${code ?? String(err)}.`, false, { cause: err });
  }
}
