// The termios tables and the pure settings logic. The Linux table is checked against the C library's
// own headers by compiling a probe with the system C compiler; the macOS table is reviewed, not run.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { darwinTermios } from "../src/serial/termios-darwin";
import { linuxTermios } from "../src/serial/termios-linux";
import { applySettings, decodeTermios, encodeTermios, readSettings, settingsDifferences, speedFor, supportedBaudRates, type SerialSettings, type TermiosTable } from "../src/serial/termios";

const probe = String.raw`
#include <stdio.h>
#include <stddef.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/file.h>
#define P(x) printf("\"%s\":%lu,", #x, (unsigned long)(x))
#define S(rate) printf("\"%d\":%lu,", rate, (unsigned long)(B##rate))
int main(void) {
  printf("{");
  P(sizeof(struct termios)); P(offsetof(struct termios, c_iflag)); P(offsetof(struct termios, c_oflag));
  P(offsetof(struct termios, c_cflag)); P(offsetof(struct termios, c_lflag)); P(offsetof(struct termios, c_cc));
  P(offsetof(struct termios, c_ispeed)); P(offsetof(struct termios, c_ospeed)); P(NCCS);
  P(IGNBRK); P(BRKINT); P(IGNPAR); P(PARMRK); P(INPCK); P(ISTRIP); P(INLCR); P(IGNCR); P(ICRNL); P(IXON); P(IXANY); P(IXOFF); P(IMAXBEL);
  P(OPOST);
  P(CSIZE); P(CS5); P(CS6); P(CS7); P(CS8); P(CSTOPB); P(CREAD); P(PARENB); P(PARODD); P(HUPCL); P(CLOCAL); P(CRTSCTS); P(CMSPAR);
  P(ISIG); P(ICANON); P(ECHO); P(ECHOE); P(ECHOK); P(ECHONL); P(IEXTEN);
  P(VMIN); P(VTIME); P(VSTART); P(VSTOP);
  P(TCSANOW); P(TCIFLUSH); P(TCOFLUSH); P(TCIOFLUSH); P(TCOON);
  P(TIOCEXCL); P(TIOCNXCL); P(TIOCMGET); P(TIOCMBIS); P(TIOCMBIC); P(TIOCSBRK); P(TIOCCBRK); P(TIOCOUTQ); P(TIOCM_DTR); P(TIOCM_RTS);
  P(LOCK_EX); P(LOCK_NB);
  S(50); S(75); S(110); S(134); S(150); S(200); S(300); S(600); S(1200); S(1800); S(2400); S(4800); S(9600); S(19200); S(38400);
  S(57600); S(115200); S(230400); S(460800); S(500000); S(576000); S(921600); S(1000000); S(1152000); S(1500000); S(2000000);
  S(2500000); S(3000000); S(3500000); S(4000000);
  printf("\"end\":0}");
  return 0;
}`;

function tableAsHeaderValues(t: TermiosTable): Record<string, number> {
  const values: Record<string, number> = {
    "sizeof(struct termios)": t.size,
    "offsetof(struct termios, c_iflag)": t.offsets.iflag,
    "offsetof(struct termios, c_oflag)": t.offsets.oflag,
    "offsetof(struct termios, c_cflag)": t.offsets.cflag,
    "offsetof(struct termios, c_lflag)": t.offsets.lflag,
    "offsetof(struct termios, c_cc)": t.offsets.cc,
    "offsetof(struct termios, c_ispeed)": t.offsets.ispeed,
    "offsetof(struct termios, c_ospeed)": t.offsets.ospeed,
    NCCS: t.nccs,
    ...t.iflag,
    ...t.oflag,
    ...t.cflag,
    CMSPAR: t.cflag.CMSPAR ?? -1,
    ...t.lflag,
    ...t.cc,
    TCSANOW: t.TCSANOW,
    TCIFLUSH: t.TCIFLUSH,
    TCOFLUSH: t.TCOFLUSH,
    TCIOFLUSH: t.TCIOFLUSH,
    TCOON: t.TCOON,
    TIOCEXCL: t.ioctl.TIOCEXCL,
    TIOCNXCL: t.ioctl.TIOCNXCL,
    TIOCMGET: t.ioctl.TIOCMGET,
    TIOCMBIS: t.ioctl.TIOCMBIS,
    TIOCMBIC: t.ioctl.TIOCMBIC,
    TIOCSBRK: t.ioctl.TIOCSBRK,
    TIOCCBRK: t.ioctl.TIOCCBRK,
    TIOCOUTQ: t.ioctl.TIOCOUTQ,
    TIOCM_DTR: t.TIOCM_DTR,
    TIOCM_RTS: t.TIOCM_RTS,
    LOCK_EX: t.LOCK_EX,
    LOCK_NB: t.LOCK_NB,
    end: 0,
  };
  for (const [rate, code] of t.speeds) values[String(rate)] = code;
  return values;
}

const cc = Bun.which("cc") ?? Bun.which("gcc");

describe("termios tables", () => {
  test.skipIf(process.platform !== "linux" || !cc)("linux table equals the C library's headers (compiled probe)", () => {
    const dir = mkdtempSync(join(tmpdir(), "pty-mcp-termios-"));
    try {
      writeFileSync(join(dir, "probe.c"), probe);
      const build = Bun.spawnSync([cc ?? "cc", "-o", join(dir, "probe"), join(dir, "probe.c")], { stderr: "pipe" });
      expect(build.stderr.toString()).toBe("");
      const run = Bun.spawnSync([join(dir, "probe")]);
      const fromHeaders = JSON.parse(run.stdout.toString()) as Record<string, number>;
      expect(fromHeaders).toEqual(tableAsHeaderValues(linuxTermios));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("darwin table: the ioctl numbers the XNU headers spell out", () => {
    expect(darwinTermios.ioctl).toEqual({
      TIOCEXCL: 0x2000740d,
      TIOCNXCL: 0x2000740e,
      TIOCMGET: 0x4004746a,
      TIOCMBIC: 0x8004746b,
      TIOCMBIS: 0x8004746c,
      TIOCCBRK: 0x2000747a,
      TIOCSBRK: 0x2000747b,
      TIOCOUTQ: 0x40047473,
      IOSSIOSPEED: 0x80085402,
    });
  });

  test("supported baud rates: Linux B* table; macOS termios up to 230400 plus IOSSIOSPEED above", () => {
    expect(supportedBaudRates(linuxTermios)).toEqual([50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000]);
    expect(speedFor(darwinTermios, 9600)).toEqual({ speed: 9600 });
    expect(speedFor(darwinTermios, 921600)).toEqual({ ioctl: 921600 });
    expect(speedFor(linuxTermios, 7200)).toBeUndefined();
  });

  for (const table of [linuxTermios, darwinTermios]) {
    test(`${table.os}: settings encode into struct termios and decode back`, () => {
      const base = decodeTermios(table, new Uint8Array(table.size).fill(0));
      const C = table.cflag;
      const cases: [SerialSettings, number][] = [
        [{ baudRate: 115200, dataBits: 7, parity: "even", stopBits: 2, flowControl: "rtscts" }, C.CS7 | C.PARENB | C.CSTOPB | C.CRTSCTS],
        [{ baudRate: 9600, dataBits: 8, parity: "none", stopBits: 1, flowControl: "none" }, C.CS8],
        [{ baudRate: 9600, dataBits: 5, parity: "odd", stopBits: 1, flowControl: "xonxoff" }, C.CS5 | C.PARENB | C.PARODD],
      ];
      for (const [settings, bits] of cases) {
        const t = applySettings(table, base, settings, false);
        expect((t.cflag >>> 0) === ((bits | C.CREAD | C.CLOCAL) >>> 0)).toBe(true);
        const roundTrip = decodeTermios(table, encodeTermios(table, t));
        expect(readSettings(table, roundTrip, settings.baudRate)).toEqual(settings);
        expect(roundTrip.cc[table.cc.VMIN]).toBe(1);
        expect(roundTrip.cc[table.cc.VTIME]).toBe(0);
        expect(roundTrip.lflag & (table.lflag.ICANON | table.lflag.ECHO | table.lflag.ISIG)).toBe(0);
      }
    });
  }

  test("linux: mark and space parity use CMSPAR; macOS has none", () => {
    const base = decodeTermios(linuxTermios, new Uint8Array(60));
    const mark = applySettings(linuxTermios, base, { baudRate: 9600, dataBits: 7, parity: "mark", stopBits: 1, flowControl: "none" }, true);
    expect(readSettings(linuxTermios, mark, 9600).parity).toBe("mark");
    const space = applySettings(linuxTermios, base, { baudRate: 9600, dataBits: 7, parity: "space", stopBits: 1, flowControl: "none" }, true);
    expect(readSettings(linuxTermios, space, 9600).parity).toBe("space");
    expect(() => applySettings(darwinTermios, decodeTermios(darwinTermios, new Uint8Array(72)), { baudRate: 9600, dataBits: 7, parity: "mark", stopBits: 1, flowControl: "none" }, true)).toThrow("mark parity is not available on darwin");
  });

  test("settingsDifferences names what the driver did not keep", () => {
    expect(
      settingsDifferences(
        { baudRate: 115200, dataBits: 7, parity: "even", stopBits: 2, flowControl: "rtscts" },
        { baudRate: 115200, dataBits: 8, parity: "none", stopBits: 2, flowControl: "rtscts" },
      ),
    ).toEqual(["data_bits 7 (kept 8)", "parity even (kept none)"]);
  });
});
