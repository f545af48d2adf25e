// list_serial_ports over a fake sysfs tree and /dev built in a temp dir, shaped like a real
// Linux 6.x machine: an FTDI adapter (usb-serial), an Arduino (cdc_acm), a PNP UART behind the
// serial-base port/ctrl pair, a legacy 8250 placeholder and a virtual console.
import { afterEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { listSerialPorts } from "../src/serial/list-ports";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function fakeMachine() {
  const root = mkdtempSync(join(tmpdir(), "pty-mcp-sysfs-"));
  dirs.push(root);
  const sys = join(root, "sys");
  const dev = join(root, "dev");
  const dir = (path: string) => {
    mkdirSync(path, { recursive: true });
    return path;
  };
  const link = (path: string, target: string) => {
    mkdirSync(dirname(path), { recursive: true });
    symlinkSync(target, path);
  };
  const file = (path: string, text: string) => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${text}\n`);
  };
  const bus = (name: string, driver?: string) => (driver ? dir(join(sys, "bus", name, "drivers", driver)) : dir(join(sys, "bus", name)));
  const node = (path: string, subsystem: string, driver?: string) => {
    dir(path);
    link(join(path, "subsystem"), bus(subsystem));
    if (driver) link(join(path, "driver"), bus(subsystem, driver));
    return path;
  };
  const tty = (name: string, device: string | undefined, parent: string) => {
    const classDir = dir(join(parent, "tty", name));
    if (device) link(join(classDir, "device"), device);
    link(join(sys, "class", "tty", name), classDir);
  };

  // FTDI FT232R: usb device → interface → ttyUSB0 (usb-serial) → tty/ttyUSB0
  const ftdi = dir(join(sys, "devices/pci0000:00/0000:00:14.0/usb1/1-2"));
  file(join(ftdi, "idVendor"), "0403");
  file(join(ftdi, "idProduct"), "6001");
  file(join(ftdi, "manufacturer"), "FTDI");
  file(join(ftdi, "product"), "FT232R USB UART");
  file(join(ftdi, "serial"), "A50285BI");
  const ftdiIf = node(join(ftdi, "1-2:1.0"), "usb", "ftdi_sio");
  const ttyUSB0 = node(join(ftdiIf, "ttyUSB0"), "usb-serial", "ftdi_sio");
  tty("ttyUSB0", ttyUSB0, ttyUSB0);
  // A second adapter known to sysfs but without a /dev node (udev not done yet): not listed.
  const ttyUSB1 = node(join(ftdiIf, "ttyUSB1"), "usb-serial", "ftdi_sio");
  tty("ttyUSB1", ttyUSB1, ttyUSB1);

  // Arduino Uno: cdc_acm, the tty's device is the interface itself
  const uno = dir(join(sys, "devices/pci0000:00/0000:00:14.0/usb1/1-3"));
  file(join(uno, "idVendor"), "2341");
  file(join(uno, "idProduct"), "0043");
  file(join(uno, "manufacturer"), "Arduino (www.arduino.cc)");
  file(join(uno, "serial"), "75735353038351B0D1A1");
  const unoIf = node(join(uno, "1-3:1.0"), "usb", "cdc_acm");
  tty("ttyACM0", unoIf, unoIf);

  // PNP UART behind serial-base ctrl/port (Linux ≥ 6.5)
  const pnp = node(join(sys, "devices/pnp0/00:00"), "pnp", "serial");
  const ctrl = node(join(pnp, "00:00:0"), "serial-base", "ctrl");
  const port = node(join(ctrl, "00:00:0.0"), "serial-base", "port");
  tty("ttyS0", port, port);

  // Legacy 8250 placeholder on the platform bus: hidden
  const legacy = node(join(sys, "devices/platform/serial8250"), "platform", "serial8250");
  const legacyPort = node(join(node(join(legacy, "serial8250:0"), "serial-base", "ctrl"), "serial8250:0.1"), "serial-base", "port");
  tty("ttyS1", legacyPort, legacyPort);

  // Virtual console: no device link
  tty("tty0", undefined, dir(join(sys, "devices/virtual")));

  for (const name of ["ttyUSB0", "ttyACM0", "ttyS0", "ttyS1", "tty0"]) file(join(dev, name), "");
  link(join(dev, "serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0"), "../../ttyUSB0");
  link(join(dev, "serial/by-id/usb-Arduino__www.arduino.cc__0043_75735353038351B0D1A1-if00"), "../../ttyACM0");
  return { sys, dev };
}

test("list_serial_ports: Linux sysfs with USB adapters, a PNP UART, 8250 placeholders and consoles", () => {
  const { sys, dev } = fakeMachine();
  expect(listSerialPorts({ sysRoot: sys, devRoot: dev, platform: "linux" })).toEqual([
    {
      path: join(dev, "ttyACM0"),
      by_id: join(dev, "serial/by-id/usb-Arduino__www.arduino.cc__0043_75735353038351B0D1A1-if00"),
      vendor_id: "2341",
      product_id: "0043",
      manufacturer: "Arduino (www.arduino.cc)",
      product: null,
      serial_number: "75735353038351B0D1A1",
      driver: "cdc_acm",
    },
    { path: join(dev, "ttyS0"), by_id: null, vendor_id: null, product_id: null, manufacturer: null, product: null, serial_number: null, driver: "serial" },
    {
      path: join(dev, "ttyUSB0"),
      by_id: join(dev, "serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0"),
      vendor_id: "0403",
      product_id: "6001",
      manufacturer: "FTDI",
      product: "FT232R USB UART",
      serial_number: "A50285BI",
      driver: "ftdi_sio",
    },
  ]);
});

test("list_serial_ports: macOS lists the /dev/cu.* callout devices", () => {
  const root = mkdtempSync(join(tmpdir(), "pty-mcp-devcu-"));
  dirs.push(root);
  for (const name of ["cu.usbserial-A50285BI", "tty.usbserial-A50285BI", "cu.Bluetooth-Incoming-Port", "null"]) writeFileSync(join(root, name), "");
  expect(listSerialPorts({ devRoot: root, platform: "darwin" })).toEqual([
    { path: join(root, "cu.Bluetooth-Incoming-Port"), by_id: null, vendor_id: null, product_id: null, manufacturer: null, product: null, serial_number: null, driver: null },
    { path: join(root, "cu.usbserial-A50285BI"), by_id: null, vendor_id: null, product_id: null, manufacturer: null, product: null, serial_number: null, driver: null },
  ]);
});

test("list_serial_ports: no sysfs (a container without /sys) is an empty list, not an error", () => {
  const root = mkdtempSync(join(tmpdir(), "pty-mcp-nosys-"));
  dirs.push(root);
  expect(listSerialPorts({ sysRoot: join(root, "sys"), devRoot: join(root, "dev"), platform: "linux" })).toEqual([]);
});
