/**
 * The parts of termios(3) the serial transport uses, described once per OS in a
 * table (termios-linux.ts, termios-darwin.ts), plus the pure logic that turns
 * serial settings into a `struct termios` and back. No I/O here: libc.ts does
 * the calls, so everything in this file is unit-testable.
 */

export type Parity = "none" | "even" | "odd" | "mark" | "space";
export type FlowControl = "none" | "rtscts" | "xonxoff";
export type DataBits = 5 | 6 | 7 | 8;
export type StopBits = 1 | 2;

/** Line settings of a serial port (the classic "9600 8N1, no flow control"). */
export interface SerialSettings {
  baudRate: number;
  dataBits: DataBits;
  parity: Parity;
  stopBits: StopBits;
  flowControl: FlowControl;
}

export const DEFAULT_SETTINGS: SerialSettings = {
  baudRate: 9600,
  dataBits: 8,
  parity: "none",
  stopBits: 1,
  flowControl: "none",
};

/** One OS's termios ABI: struct layout, flag bits, c_cc indices, ioctl numbers, errno names. */
export interface TermiosTable {
  os: "linux" | "darwin";
  /** dlopen candidates, first that loads wins. */
  libcNames: readonly string[];
  /** Name of the function returning `int *errno` for the calling thread. */
  errnoFunction: string;
  /** Byte size of tcflag_t and speed_t (4 on Linux, 8 on macOS where both are unsigned long). */
  flagBytes: 4 | 8;
  speedBytes: 4 | 8;
  /** sizeof(struct termios) and field offsets, for the libc's struct (glibc/musl, not the kernel's). */
  size: number;
  offsets: { iflag: number; oflag: number; cflag: number; lflag: number; cc: number; ispeed: number; ospeed: number };
  nccs: number;
  iflag: { IGNBRK: number; BRKINT: number; IGNPAR: number; PARMRK: number; INPCK: number; ISTRIP: number; INLCR: number; IGNCR: number; ICRNL: number; IXON: number; IXANY: number; IXOFF: number; IMAXBEL: number };
  oflag: { OPOST: number };
  cflag: { CSIZE: number; CS5: number; CS6: number; CS7: number; CS8: number; CSTOPB: number; CREAD: number; PARENB: number; PARODD: number; HUPCL: number; CLOCAL: number; CRTSCTS: number; CMSPAR: number | undefined };
  lflag: { ISIG: number; ICANON: number; ECHO: number; ECHOE: number; ECHOK: number; ECHONL: number; IEXTEN: number };
  cc: { VMIN: number; VTIME: number; VSTART: number; VSTOP: number };
  TCSANOW: number;
  TCIFLUSH: number;
  TCOFLUSH: number;
  TCIOFLUSH: number;
  TCOON: number;
  ioctl: { TIOCEXCL: number; TIOCNXCL: number; TIOCMGET: number; TIOCMBIS: number; TIOCMBIC: number; TIOCSBRK: number; TIOCCBRK: number; TIOCOUTQ: number; IOSSIOSPEED: number | undefined };
  TIOCM_DTR: number;
  TIOCM_RTS: number;
  LOCK_EX: number;
  LOCK_NB: number;
  LOCK_UN: number;
  /** baud rate → speed_t value for cfsetispeed/cfsetospeed (Linux: B* codes; macOS: the number itself). */
  speeds: ReadonlyMap<number, number>;
  /** Rates above the termios table that a driver ioctl can still set (macOS IOSSIOSPEED). */
  maxIoctlSpeed: number | undefined;
  errnoNames: Readonly<Record<number, string>>;
}

/** A decoded `struct termios`; `raw` keeps the bytes so fields we do not model survive a round trip. */
export interface Termios {
  iflag: number;
  oflag: number;
  cflag: number;
  lflag: number;
  cc: number[];
  raw: Uint8Array;
}

function readFlag(view: DataView, offset: number, bytes: 4 | 8): number {
  // Flag words fit in 32 bits on every supported OS; on macOS the upper half of the unsigned long is zero.
  return bytes === 4 ? view.getUint32(offset, true) : Number(view.getBigUint64(offset, true) & 0xffffffffn);
}

function writeFlag(view: DataView, offset: number, bytes: 4 | 8, value: number): void {
  if (bytes === 4) view.setUint32(offset, value >>> 0, true);
  else view.setBigUint64(offset, BigInt(value >>> 0), true);
}

/** Decodes the libc's struct termios (little-endian: every target we build is). */
export function decodeTermios(table: TermiosTable, raw: Uint8Array): Termios {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const { offsets: o, flagBytes: b } = table;
  return {
    iflag: readFlag(view, o.iflag, b),
    oflag: readFlag(view, o.oflag, b),
    cflag: readFlag(view, o.cflag, b),
    lflag: readFlag(view, o.lflag, b),
    cc: Array.from(raw.subarray(o.cc, o.cc + table.nccs)),
    raw: raw.slice(),
  };
}

export function encodeTermios(table: TermiosTable, termios: Termios): Uint8Array {
  const raw = termios.raw.slice();
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const { offsets: o, flagBytes: b } = table;
  writeFlag(view, o.iflag, b, termios.iflag);
  writeFlag(view, o.oflag, b, termios.oflag);
  writeFlag(view, o.cflag, b, termios.cflag);
  writeFlag(view, o.lflag, b, termios.lflag);
  raw.set(termios.cc.slice(0, table.nccs), o.cc);
  return raw;
}

/** The standard rates people ask for, 50 to 4000000 (Linux B* names plus the macOS extras). */
export const STANDARD_BAUD_RATES: readonly number[] = [
  50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 7200, 9600, 14400, 19200, 28800, 38400,
  57600, 76800, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000,
  2500000, 3000000, 3500000, 4000000,
];

/** How to set a rate on this OS: a termios speed_t, a driver ioctl (macOS IOSSIOSPEED), or not at all. */
export function speedFor(table: TermiosTable, baudRate: number): { speed: number } | { ioctl: number } | undefined {
  const speed = table.speeds.get(baudRate);
  if (speed !== undefined) return { speed };
  if (table.ioctl.IOSSIOSPEED !== undefined && table.maxIoctlSpeed !== undefined && baudRate <= table.maxIoctlSpeed && STANDARD_BAUD_RATES.includes(baudRate)) {
    return { ioctl: baudRate };
  }
  return undefined;
}

/** The rates this OS can set, ascending. */
export function supportedBaudRates(table: TermiosTable): number[] {
  return STANDARD_BAUD_RATES.filter((rate) => speedFor(table, rate) !== undefined);
}

/** The baud rate a speed_t stands for (reverse of the table). */
export function baudRateOf(table: TermiosTable, speed: number): number | undefined {
  for (const [rate, code] of table.speeds) if (code === speed) return rate;
  return undefined;
}

/**
 * Raw mode as cfmakeraw(3) documents it, then the line settings on top.
 * CLOCAL: ignore modem status lines, so neither open nor read waits for carrier
 * (consoles rarely wire DCD). CREAD: enable the receiver. VMIN=1/VTIME=0: a read
 * returns as soon as one byte is there (the fd is non-blocking anyway).
 * `hangupOnClose` (HUPCL) drops DTR on the last close; it is cleared when the
 * caller keeps DTR low, so closing does not pulse a board's reset line.
 */
export function applySettings(table: TermiosTable, base: Termios, settings: SerialSettings, hangupOnClose: boolean): Termios {
  const { iflag: I, oflag: O, cflag: C, lflag: L, cc: V } = table;
  let iflag = base.iflag & ~(I.IGNBRK | I.BRKINT | I.PARMRK | I.ISTRIP | I.INLCR | I.IGNCR | I.ICRNL | I.IXON | I.IXOFF | I.IXANY | I.INPCK | I.IGNPAR);
  const oflag = base.oflag & ~O.OPOST;
  const lflag = base.lflag & ~(L.ECHO | L.ECHONL | L.ICANON | L.ISIG | L.IEXTEN | L.ECHOE | L.ECHOK);
  let cflag = base.cflag & ~(C.CSIZE | C.PARENB | C.PARODD | C.CSTOPB | C.CRTSCTS | C.HUPCL | (C.CMSPAR ?? 0));
  cflag |= C.CREAD | C.CLOCAL;
  if (hangupOnClose) cflag |= C.HUPCL;
  cflag |= { 5: C.CS5, 6: C.CS6, 7: C.CS7, 8: C.CS8 }[settings.dataBits];
  if (settings.stopBits === 2) cflag |= C.CSTOPB;
  switch (settings.parity) {
    case "none":
      break;
    case "even":
      cflag |= C.PARENB;
      break;
    case "odd":
      cflag |= C.PARENB | C.PARODD;
      break;
    case "mark":
    case "space":
      // Linux "stick" parity: CMSPAR with PARODD = mark (1), without = space (0). termios(3).
      if (C.CMSPAR === undefined) throw new RangeError(`${settings.parity} parity is not available on ${table.os}`);
      cflag |= C.PARENB | C.CMSPAR | (settings.parity === "mark" ? C.PARODD : 0);
      break;
  }
  // Like pyserial: check parity on input when it is on (a bad byte reads as \0).
  if (settings.parity !== "none") iflag |= I.INPCK;
  if (settings.flowControl === "rtscts") cflag |= C.CRTSCTS;
  if (settings.flowControl === "xonxoff") iflag |= I.IXON | I.IXOFF;
  const cc = base.cc.slice();
  cc[V.VMIN] = 1;
  cc[V.VTIME] = 0;
  cc[V.VSTART] = 0x11; // ^Q
  cc[V.VSTOP] = 0x13; // ^S
  return { iflag, oflag, cflag, lflag, cc, raw: base.raw };
}

/** Reads the line settings back out of a termios (for checking what the driver kept). */
export function readSettings(table: TermiosTable, termios: Termios, baudRate: number): SerialSettings {
  const C = table.cflag;
  const size = termios.cflag & C.CSIZE;
  const dataBits: DataBits = size === C.CS5 ? 5 : size === C.CS6 ? 6 : size === C.CS7 ? 7 : 8;
  let parity: Parity = "none";
  if (termios.cflag & C.PARENB) {
    const odd = (termios.cflag & C.PARODD) !== 0;
    if (C.CMSPAR !== undefined && termios.cflag & C.CMSPAR) parity = odd ? "mark" : "space";
    else parity = odd ? "odd" : "even";
  }
  const flowControl: FlowControl = ((termios.cflag & C.CRTSCTS) >>> 0) === C.CRTSCTS ? "rtscts" : termios.iflag & table.iflag.IXON ? "xonxoff" : "none";
  return { baudRate, dataBits, parity, stopBits: termios.cflag & C.CSTOPB ? 2 : 1, flowControl };
}

/** Human-readable differences between what was asked and what the driver kept, e.g. `data_bits 7 (kept 8)`. */
export function settingsDifferences(wanted: SerialSettings, got: SerialSettings): string[] {
  const names: [keyof SerialSettings, string][] = [
    ["baudRate", "baud_rate"],
    ["dataBits", "data_bits"],
    ["parity", "parity"],
    ["stopBits", "stop_bits"],
    ["flowControl", "flow_control"],
  ];
  return names.filter(([key]) => wanted[key] !== got[key]).map(([key, name]) => `${name} ${wanted[key]} (kept ${got[key]})`);
}
