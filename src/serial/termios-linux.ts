import type { TermiosTable } from "./termios.ts";

/**
 * Linux termios ABI for x86_64 and aarch64, glibc and musl (identical there):
 * values from asm-generic/termbits.h, asm-generic/ioctls.h and the libc's
 * struct termios { tcflag_t c_iflag, c_oflag, c_cflag, c_lflag; cc_t c_line;
 * cc_t c_cc[32]; speed_t c_ispeed, c_ospeed; } (60 bytes). Checked against a C
 * compiler in test/serial-termios.test.ts. (Other Linux architectures such as
 * mips, powerpc, sparc and alpha use different values; we do not build for them.)
 */
const arch = process.arch === "arm64" ? "aarch64" : "x86_64";

export const linuxTermios: TermiosTable = {
  os: "linux",
  libcNames: ["libc.so.6", `libc.musl-${arch}.so.1`, "libc.so"],
  errnoFunction: "__errno_location",
  flagBytes: 4,
  speedBytes: 4,
  size: 60,
  offsets: { iflag: 0, oflag: 4, cflag: 8, lflag: 12, cc: 17, ispeed: 52, ospeed: 56 },
  nccs: 32,
  iflag: { IGNBRK: 0o1, BRKINT: 0o2, IGNPAR: 0o4, PARMRK: 0o10, INPCK: 0o20, ISTRIP: 0o40, INLCR: 0o100, IGNCR: 0o200, ICRNL: 0o400, IXON: 0o2000, IXANY: 0o4000, IXOFF: 0o10000, IMAXBEL: 0o20000 },
  oflag: { OPOST: 0o1 },
  cflag: { CSIZE: 0o60, CS5: 0o0, CS6: 0o20, CS7: 0o40, CS8: 0o60, CSTOPB: 0o100, CREAD: 0o200, PARENB: 0o400, PARODD: 0o1000, HUPCL: 0o2000, CLOCAL: 0o4000, CRTSCTS: 0o20000000000, CMSPAR: 0o10000000000 },
  lflag: { ISIG: 0o1, ICANON: 0o2, ECHO: 0o10, ECHOE: 0o20, ECHOK: 0o40, ECHONL: 0o100, IEXTEN: 0o100000 },
  cc: { VTIME: 5, VMIN: 6, VSTART: 8, VSTOP: 9 },
  TCSANOW: 0,
  TCIFLUSH: 0,
  TCOFLUSH: 1,
  TCIOFLUSH: 2,
  TCOON: 1,
  ioctl: { TIOCEXCL: 0x540c, TIOCNXCL: 0x540d, TIOCMGET: 0x5415, TIOCMBIS: 0x5416, TIOCMBIC: 0x5417, TIOCSBRK: 0x5427, TIOCCBRK: 0x5428, TIOCOUTQ: 0x5411, IOSSIOSPEED: undefined },
  TIOCM_DTR: 0x002,
  TIOCM_RTS: 0x004,
  LOCK_EX: 2,
  LOCK_NB: 4,
  LOCK_UN: 8,
  // B* codes: B0..B38400 are 0..15, the rest carry CBAUDEX (0o10000).
  speeds: new Map([
    [50, 0o1], [75, 0o2], [110, 0o3], [134, 0o4], [150, 0o5], [200, 0o6], [300, 0o7], [600, 0o10],
    [1200, 0o11], [1800, 0o12], [2400, 0o13], [4800, 0o14], [9600, 0o15], [19200, 0o16], [38400, 0o17],
    [57600, 0o10001], [115200, 0o10002], [230400, 0o10003], [460800, 0o10004], [500000, 0o10005],
    [576000, 0o10006], [921600, 0o10007], [1000000, 0o10010], [1152000, 0o10011], [1500000, 0o10012],
    [2000000, 0o10013], [2500000, 0o10014], [3000000, 0o10015], [3500000, 0o10016], [4000000, 0o10017],
  ]),
  maxIoctlSpeed: undefined,
  errnoNames: { 1: "EPERM", 2: "ENOENT", 5: "EIO", 6: "ENXIO", 9: "EBADF", 11: "EAGAIN", 13: "EACCES", 16: "EBUSY", 19: "ENODEV", 22: "EINVAL", 25: "ENOTTY" },
};
