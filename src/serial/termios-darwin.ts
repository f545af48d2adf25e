import type { TermiosTable } from "./termios.ts";

/**
 * macOS termios ABI (x86_64 and arm64): values from <sys/termios.h> and
 * <sys/ttycom.h> of the XNU headers. tcflag_t and speed_t are `unsigned long`
 * (8 bytes), so struct termios is { 4 × u64 flags; cc_t c_cc[20]; 4 bytes
 * padding; u64 c_ispeed, c_ospeed } = 72 bytes. speed_t holds the rate itself
 * (B9600 == 9600). There is no CMSPAR (mark/space parity).
 *
 * Reviewed against the headers, NOT run: CI has no Mac. Linux is the tested table.
 */

// <sys/ioccom.h>: _IO/_IOR/_IOW encode direction, parameter size, group and number.
const IOC_VOID = 0x20000000;
const IOC_OUT = 0x40000000;
const IOC_IN = 0x80000000;
const io = (group: string, num: number) => (IOC_VOID | (group.charCodeAt(0) << 8) | num) >>> 0;
const ior = (group: string, num: number, size: number) => (IOC_OUT | ((size & 0x1fff) << 16) | (group.charCodeAt(0) << 8) | num) >>> 0;
const iow = (group: string, num: number, size: number) => (IOC_IN | ((size & 0x1fff) << 16) | (group.charCodeAt(0) << 8) | num) >>> 0;

const rates = [50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 7200, 9600, 14400, 19200, 28800, 38400, 57600, 76800, 115200, 230400];

export const darwinTermios: TermiosTable = {
  os: "darwin",
  libcNames: ["libSystem.B.dylib", "/usr/lib/libSystem.B.dylib"],
  errnoFunction: "__error",
  flagBytes: 8,
  speedBytes: 8,
  size: 72,
  offsets: { iflag: 0, oflag: 8, cflag: 16, lflag: 24, cc: 32, ispeed: 56, ospeed: 64 },
  nccs: 20,
  iflag: { IGNBRK: 0x1, BRKINT: 0x2, IGNPAR: 0x4, PARMRK: 0x8, INPCK: 0x10, ISTRIP: 0x20, INLCR: 0x40, IGNCR: 0x80, ICRNL: 0x100, IXON: 0x200, IXOFF: 0x400, IXANY: 0x800, IMAXBEL: 0x2000 },
  oflag: { OPOST: 0x1 },
  // CRTSCTS = CCTS_OFLOW (0x10000) | CRTS_IFLOW (0x20000).
  cflag: { CSIZE: 0x300, CS5: 0x0, CS6: 0x100, CS7: 0x200, CS8: 0x300, CSTOPB: 0x400, CREAD: 0x800, PARENB: 0x1000, PARODD: 0x2000, HUPCL: 0x4000, CLOCAL: 0x8000, CRTSCTS: 0x30000, CMSPAR: undefined },
  lflag: { ECHOK: 0x4, ECHOE: 0x2, ECHO: 0x8, ECHONL: 0x10, ISIG: 0x80, ICANON: 0x100, IEXTEN: 0x400 },
  cc: { VSTART: 12, VSTOP: 13, VMIN: 16, VTIME: 17 },
  TCSANOW: 0,
  TCIFLUSH: 1,
  TCOFLUSH: 2,
  TCIOFLUSH: 3,
  TCOON: 2,
  ioctl: {
    TIOCEXCL: io("t", 13),
    TIOCNXCL: io("t", 14),
    TIOCMGET: ior("t", 106, 4),
    TIOCMBIC: iow("t", 107, 4),
    TIOCMBIS: iow("t", 108, 4),
    TIOCCBRK: io("t", 122),
    TIOCSBRK: io("t", 123),
    TIOCOUTQ: ior("t", 115, 4),
    // <IOKit/serial/ioss.h>: _IOW('T', 2, speed_t) sets any rate the driver can do.
    IOSSIOSPEED: iow("T", 2, 8),
  },
  TIOCM_DTR: 0x2,
  TIOCM_RTS: 0x4,
  LOCK_EX: 2,
  LOCK_NB: 4,
  LOCK_UN: 8,
  speeds: new Map(rates.map((rate) => [rate, rate])),
  maxIoctlSpeed: 4000000,
  errnoNames: { 1: "EPERM", 2: "ENOENT", 5: "EIO", 6: "ENXIO", 9: "EBADF", 13: "EACCES", 16: "EBUSY", 19: "ENODEV", 22: "EINVAL", 25: "ENOTTY", 35: "EAGAIN" },
};
