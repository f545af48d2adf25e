import { dlopen, FFIType, read, type Pointer } from "bun:ffi";
import { darwinTermios } from "./termios-darwin.ts";
import { linuxTermios } from "./termios-linux.ts";
import { decodeTermios, encodeTermios, type Termios, type TermiosTable } from "./termios.ts";

/** The termios table of the OS we run on; undefined where serial is not supported (Windows). */
export function currentTermiosTable(): TermiosTable | undefined {
  if (process.platform === "linux") return linuxTermios;
  if (process.platform === "darwin") return darwinTermios;
  return undefined;
}

/** A failed libc call: `errno` plus its name (EBUSY…) for messages and decisions. */
export class LibcError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
    readonly errnoName: string,
  ) {
    super(`${call} failed: ${errnoName}`);
  }
}

function symbols(table: TermiosTable) {
  const speed = table.speedBytes === 8 ? FFIType.u64 : FFIType.u32;
  // ioctl(2) is variadic. On Apple arm64 variadic arguments travel on the stack, not in
  // registers, so the argument is declared as the 9th parameter: x0–x7 carry the first
  // eight, the ninth lands at [sp] where va_arg looks. Elsewhere variadic and fixed
  // integer arguments are passed alike. (Apple "Writing ARM64 code for Apple platforms".)
  const stackVariadic = table.os === "darwin" && process.arch === "arm64";
  const ioctlArgs = stackVariadic
    ? [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.ptr]
    : [FFIType.i32, FFIType.u64, FFIType.ptr];
  return {
    tcgetattr: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    tcsetattr: { args: [FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    cfsetispeed: { args: [FFIType.ptr, speed], returns: FFIType.i32 },
    cfsetospeed: { args: [FFIType.ptr, speed], returns: FFIType.i32 },
    cfgetospeed: { args: [FFIType.ptr], returns: speed },
    tcsendbreak: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    tcflush: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    tcflow: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    ioctl: { args: ioctlArgs, returns: FFIType.i32 },
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    [table.errnoFunction]: { args: [], returns: FFIType.ptr },
  } as const;
}

type Lib = ReturnType<typeof dlopen<ReturnType<typeof symbols>>>;

let loaded: { table: TermiosTable; lib: Lib; stackVariadic: boolean } | undefined;

function load(): { table: TermiosTable; lib: Lib; stackVariadic: boolean } {
  if (loaded) return loaded;
  const table = currentTermiosTable();
  if (!table) throw new Error(`serial ports are not supported on ${process.platform}`);
  const errors: string[] = [];
  for (const name of table.libcNames) {
    try {
      const lib = dlopen(name, symbols(table));
      loaded = { table, lib, stackVariadic: table.os === "darwin" && process.arch === "arm64" };
      return loaded;
    } catch (err) {
      errors.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new Error(`cannot load the C library for termios (${errors.join("; ")})`);
}

/**
 * Thin, synchronous termios calls on an open fd. Every failure throws LibcError
 * with the errno read right after the call (same thread, nothing in between).
 */
export class Libc {
  readonly table: TermiosTable;
  readonly #lib: Lib;
  readonly #stackVariadic: boolean;

  constructor() {
    const { table, lib, stackVariadic } = load();
    this.table = table;
    this.#lib = lib;
    this.#stackVariadic = stackVariadic;
  }

  #errno(): number {
    const fn = this.#lib.symbols[this.table.errnoFunction];
    const location = fn ? (fn() as Pointer | null) : null;
    return location ? read.i32(location, 0) : 0;
  }

  #check(call: string, result: number): number {
    if (result === -1) {
      const errno = this.#errno();
      throw new LibcError(call, errno, this.table.errnoNames[errno] ?? `errno ${errno}`);
    }
    return result;
  }

  tcgetattr(fd: number): Termios {
    const raw = new Uint8Array(this.table.size);
    this.#check("tcgetattr", this.#lib.symbols.tcgetattr(fd, raw));
    return decodeTermios(this.table, raw);
  }

  /** Sets the line; `speed` is a speed_t from the table (or undefined to keep the current one). */
  tcsetattr(fd: number, termios: Termios, speed: number | undefined): void {
    const raw = encodeTermios(this.table, termios);
    if (speed !== undefined) {
      this.#check("cfsetispeed", this.#lib.symbols.cfsetispeed(raw, speed));
      this.#check("cfsetospeed", this.#lib.symbols.cfsetospeed(raw, speed));
    }
    this.#check("tcsetattr", this.#lib.symbols.tcsetattr(fd, this.table.TCSANOW, raw));
  }

  /** The output speed_t of a termios (cfgetospeed: the libc knows where it keeps it). */
  cfgetospeed(termios: Termios): number {
    return Number(this.#lib.symbols.cfgetospeed(termios.raw));
  }

  tcsendbreak(fd: number): void {
    // duration 0: "at least 0.25 s and at most 0.5 s" (POSIX tcsendbreak).
    this.#check("tcsendbreak", this.#lib.symbols.tcsendbreak(fd, 0));
  }

  tcflush(fd: number, queue: number): void {
    this.#check("tcflush", this.#lib.symbols.tcflush(fd, queue));
  }

  tcflow(fd: number, action: number): void {
    this.#check("tcflow", this.#lib.symbols.tcflow(fd, action));
  }

  /** ioctl with an optional int argument (passed by pointer); returns the int afterwards. */
  ioctl(fd: number, name: string, request: number, arg?: number): number {
    const cell = arg === undefined ? null : new Int32Array([arg]);
    const result = this.#stackVariadic
      ? this.#lib.symbols.ioctl(fd, request, 0, 0, 0, 0, 0, 0, cell)
      : this.#lib.symbols.ioctl(fd, request, cell);
    this.#check(`ioctl(${name})`, result);
    return cell?.[0] ?? 0;
  }

  /** ioctl whose argument is a speed_t passed by pointer (macOS IOSSIOSPEED). */
  ioctlSpeed(fd: number, name: string, request: number, speed: number): void {
    const cell = new BigUint64Array([BigInt(speed)]);
    const result = this.#stackVariadic
      ? this.#lib.symbols.ioctl(fd, request, 0, 0, 0, 0, 0, 0, cell)
      : this.#lib.symbols.ioctl(fd, request, cell);
    this.#check(`ioctl(${name})`, result);
  }

  flock(fd: number, operation: number): void {
    this.#check("flock", this.#lib.symbols.flock(fd, operation));
  }
}
