import { z } from "zod";
import { listSerialPorts as portsPresent } from "../../serial/list-ports.ts";
import { defineTool } from "../tool.ts";

const port = z.object({
  path: z.string(),
  by_id: z.string().nullable(),
  vendor_id: z.string().nullable(),
  product_id: z.string().nullable(),
  manufacturer: z.string().nullable(),
  product: z.string().nullable(),
  serial_number: z.string().nullable(),
  driver: z.string().nullable(),
});

export const listSerialPorts = defineTool({
  name: "list_serial_ports",
  title: "List serial ports",
  description:
    "List the serial ports (USB serial adapters, ttyUSB, ttyACM) on this machine, for create_serial_session: path, the stable /dev/serial/by-id name (prefer it: it survives replugging), " +
    "USB vendor/product ids, manufacturer, product, serial number and kernel driver (Linux); the /dev/cu.* devices on macOS. " +
    "An empty list means no adapter is plugged in (or its driver is missing).",
  meta: { searchHint: "serial ports usb tty devices console adapter list" },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({}),
  output: z.looseObject({ ports: z.array(port) }),
  async run() {
    return { ports: portsPresent() };
  },
});
