import { readFileSync, realpathSync, statSync, type Stats } from "node:fs";
import { PtyError } from "../errors.ts";

/**
 * The device path rules of SPEC §2 create_serial_session: the path given AND the
 * path it resolves to (symlinks such as /dev/serial/by-id/… → /dev/ttyUSB0) must
 * be under /dev/, contain no `..` segment, and name a character device. Path
 * mistakes are INVALID_ARGUMENT; a missing device is SERIAL_OPEN_FAILED
 * (retryable: it may be plugged in a moment later).
 */
export function checkDevicePath(device: string, devRoot = "/dev"): { path: string; realPath: string } {
  const prefix = `${devRoot}/`;
  if (device.split("/").includes("..")) {
    throw new PtyError("INVALID_ARGUMENT", `device "${device}" contains "..": give the device path itself, e.g. /dev/ttyUSB0 (list_serial_ports shows them).`);
  }
  if (!device.startsWith(prefix) || device.length === prefix.length) {
    throw new PtyError("INVALID_ARGUMENT", `device "${device}" is not under /dev/: serial ports are device files such as /dev/ttyUSB0, /dev/ttyACM0 or /dev/cu.usbserial-1410 (list_serial_ports shows them).`);
  }
  let realPath: string;
  let stats: Stats;
  try {
    realPath = realpathSync(device);
    stats = statSync(realPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new PtyError("SERIAL_OPEN_FAILED", `No device ${device}: nothing is plugged in there. Check the cable and call list_serial_ports to see the ports present (a USB adapter can take a second to appear, and may get another number after replugging).`, true, { cause: err });
    }
    if (code === "EACCES") throw permissionDenied(device, undefined, err);
    throw new PtyError("SERIAL_OPEN_FAILED", `Cannot look up ${device}: ${code ?? String(err)}.`, false, { cause: err });
  }
  if (!realPath.startsWith(prefix)) {
    throw new PtyError("INVALID_ARGUMENT", `device "${device}" resolves to ${realPath}, which is outside /dev/: only device files are allowed.`);
  }
  if (!stats.isCharacterDevice()) {
    const what = stats.isFile() ? "a regular file" : stats.isDirectory() ? "a directory" : "not a character device";
    throw new PtyError("INVALID_ARGUMENT", `device "${device}" is ${what}, not a serial port (a character device such as /dev/ttyUSB0). list_serial_ports shows the ports present.`);
  }
  return { path: device, realPath };
}

/** `crw-rw----` from a stat mode. */
function modeString(mode: number): string {
  const bits = "rwxrwxrwx";
  let out = "c";
  for (let i = 0; i < 9; i++) out += mode & (1 << (8 - i)) ? bits[i] : "-";
  return out;
}

function groupName(gid: number): string | undefined {
  try {
    for (const line of readFileSync("/etc/group", "utf8").split("\n")) {
      const [name, , id] = line.split(":");
      if (name && Number(id) === gid) return name;
    }
  } catch {
    // No /etc/group (e.g. a minimal container): fall back to the number.
  }
  return undefined;
}

/** SERIAL_OPEN_FAILED for EACCES, naming the group that grants access (dialout, uucp, tty…). */
export function permissionDenied(device: string, realPath: string | undefined, cause: unknown): PtyError {
  let detail = "";
  let advice = "Ask for access to the device or run as a user who has it.";
  try {
    const stats = statSync(realPath ?? device);
    const group = groupName(stats.gid) ?? `gid ${stats.gid}`;
    detail = ` (${modeString(stats.mode)}, group ${group})`;
    if ((stats.mode & 0o060) === 0o060) {
      advice =
        process.platform === "darwin"
          ? `Members of group "${group}" may open it: sudo dseditgroup -o edit -a "$USER" -t user ${group}, then log in again.`
          : `Members of group "${group}" may open it (usually dialout, or uucp on Arch): sudo usermod -aG ${group} "$USER", then log out and in again (or start a shell with: newgrp ${group}).`;
    }
  } catch {
    // stat itself was refused: keep the generic advice.
  }
  return new PtyError("SERIAL_OPEN_FAILED", `Permission denied opening ${device}${detail}. ${advice}`, false, { cause });
}
