import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** One serial port as list_serial_ports reports it; facts the OS does not tell are null. */
export interface SerialPortInfo {
  path: string;
  /** Stable name under /dev/serial/by-id/ (Linux, USB adapters): survives replugging into another socket. */
  by_id: string | null;
  /** USB ids as 4 hex digits, e.g. "0403" (FTDI) / "6001". */
  vendor_id: string | null;
  product_id: string | null;
  manufacturer: string | null;
  product: string | null;
  serial_number: string | null;
  /** Kernel driver, e.g. ftdi_sio, cp210x, ch341, pl2303, cdc_acm, serial. */
  driver: string | null;
}

export interface ListPortsOptions {
  /** sysfs mount point (Linux); tests point it at a fake tree. */
  sysRoot?: string;
  /** Device directory; tests point it at a temp dir. */
  devRoot?: string;
  platform?: NodeJS.Platform;
}

function readAttr(dir: string, name: string): string | null {
  try {
    const value = readFileSync(join(dir, name), "utf8").trim();
    return value === "" ? null : value;
  } catch {
    return null;
  }
}

function linkName(path: string): string | null {
  try {
    return basename(realpathSync(path));
  } catch {
    return null;
  }
}

/**
 * Serial ports present on this machine.
 *
 * Linux: every /sys/class/tty/NAME that has a `device` (virtual consoles and ptys
 * have none) and a /dev/NAME node, except the legacy 8250 placeholders
 * (serial8250 on the platform bus: ttyS1…ttyS31 exist on every PC with or
 * without a UART). Since Linux 6.5 a port sits under a serial-base "port"/"ctrl"
 * pair; we step over it to the real device. USB adapters carry ids, strings and a
 * /dev/serial/by-id link. macOS: the /dev/cu.* callout devices (no USB details
 * without IOKit).
 */
export function listSerialPorts(options: ListPortsOptions = {}): SerialPortInfo[] {
  const platform = options.platform ?? process.platform;
  const devRoot = options.devRoot ?? "/dev";
  if (platform === "darwin") return listDarwin(devRoot);
  if (platform === "linux") return listLinux(options.sysRoot ?? "/sys", devRoot);
  return [];
}

function listDarwin(devRoot: string): SerialPortInfo[] {
  let names: string[];
  try {
    names = readdirSync(devRoot);
  } catch {
    return [];
  }
  return names
    .filter((name) => name.startsWith("cu."))
    .sort()
    .map((name) => ({ path: join(devRoot, name), by_id: null, vendor_id: null, product_id: null, manufacturer: null, product: null, serial_number: null, driver: null }));
}

function byIdLinks(devRoot: string): Map<string, string> {
  const dir = join(devRoot, "serial", "by-id");
  const map = new Map<string, string>();
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return map;
  }
  for (const name of names) {
    const target = linkName(join(dir, name));
    if (target && !map.has(target)) map.set(target, join(dir, name));
  }
  return map;
}

function listLinux(sysRoot: string, devRoot: string): SerialPortInfo[] {
  const classDir = join(sysRoot, "class", "tty");
  let names: string[];
  try {
    names = readdirSync(classDir);
  } catch {
    return [];
  }
  const byId = byIdLinks(devRoot);
  const ports: SerialPortInfo[] = [];
  for (const name of names.sort()) {
    let device: string;
    try {
      device = realpathSync(join(classDir, name, "device"));
    } catch {
      continue; // no device: a virtual console, pty or the like
    }
    if (!existsSync(join(devRoot, name))) continue;
    // Linux ≥ 6.5: tty → serial-base port → serial-base ctrl → the UART's device.
    while (linkName(join(device, "subsystem")) === "serial-base") device = dirname(device);
    const subsystem = linkName(join(device, "subsystem"));
    const driver = linkName(join(device, "driver"));
    if (subsystem === "platform" && driver === "serial8250") continue;
    let usbDevice: string | undefined;
    if (subsystem === "usb-serial") usbDevice = dirname(dirname(device)); // ttyUSB0 → interface → device
    else if (subsystem === "usb") usbDevice = dirname(device); // ttyACM: device is the interface
    ports.push({
      path: join(devRoot, name),
      by_id: byId.get(name) ?? null,
      vendor_id: usbDevice ? readAttr(usbDevice, "idVendor") : null,
      product_id: usbDevice ? readAttr(usbDevice, "idProduct") : null,
      manufacturer: usbDevice ? readAttr(usbDevice, "manufacturer") : null,
      product: usbDevice ? readAttr(usbDevice, "product") : null,
      serial_number: usbDevice ? readAttr(usbDevice, "serial") : null,
      driver,
    });
  }
  return ports;
}
