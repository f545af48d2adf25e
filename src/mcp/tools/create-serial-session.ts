import { z } from "zod";
import { PtyError } from "../../errors.ts";
import { buildSinks } from "../../record/sinks.ts";
import { openSerialSession } from "../../serial/open-serial.ts";
import { bool, createCommon, DEFAULT_COLS, DEFAULT_ROWS, int } from "../params.ts";
import { defineTool } from "../tool.ts";

/** Spellings of a line ending that survive clients and prompts that cannot send a bare CR. */
const LINE_ENDING_NAMES: Record<string, string> = { cr: "\r", lf: "\n", crlf: "\r\n", none: "" };

/** "\r", "\r\n" as characters, the escaped forms `\r`/`\n` as typed in a prompt, or cr/lf/crlf/none. */
function lineEnding(value: string): string | undefined {
  const named = LINE_ENDING_NAMES[value.trim().toLowerCase()];
  if (named !== undefined) return named;
  if (/^(?:\\[rn])+$/.test(value)) return value.replaceAll("\\r", "\r").replaceAll("\\n", "\n");
  if (/^[\r\n]*$/.test(value)) return value;
  return undefined;
}

const settingsShape = z.object({
  baud_rate: z.number(),
  data_bits: z.number(),
  parity: z.string(),
  stop_bits: z.number(),
  flow_control: z.string(),
});

const output = z.looseObject({
  session_id: z.string(),
  type: z.literal("serial"),
  target: z.string(),
  name: z.string().optional(),
  settings: settingsShape,
  line_ending: z.string(),
  cols: z.number(),
  rows: z.number(),
  warning: z.string().optional(),
});

export const createSerialSession = defineTool({
  name: "create_serial_session",
  title: "Open a serial console",
  description:
    "Open a serial console: a serial port (a router's, switch's or board's console: USB adapter /dev/ttyUSB0, /dev/ttyACM0, macOS /dev/cu.usbserial-…) " +
    "as a session: 9600 8N1 without flow control unless told otherwise, raw mode, exclusive. send_input appends a bare CR (line_ending). " +
    "Consoles are often silent until Enter: send_input with an empty input wakes them. list_serial_ports shows the ports present. " +
    "send_control break sends a real BREAK; dtr_on/dtr_off/rts_on/rts_off set the modem lines. " +
    "The result's settings are what the driver actually kept; warning names what it refused.",
  meta: { searchHint: "serial console tty uart baud router switch cisco embedded board usb minicom screen" },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  input: z.object({
    device: z.string().min(1).optional().describe("Device path under /dev/, e.g. /dev/ttyUSB0 or a /dev/serial/by-id/… link (no `..`). Required (or its alias `port`)."),
    port: z.string().min(1).optional().describe("Alias of device."),
    baud_rate: int(1, 100_000_000).optional().describe("Line speed (default 9600). Standard rates 50…4000000 where the OS has them; Cisco consoles 9600, many boards 115200."),
    baud: int(1, 100_000_000).optional().describe("Alias of baud_rate."),
    data_bits: int(5, 8).optional().describe("5, 6, 7 or 8 (default 8)."),
    parity: z.enum(["none", "even", "odd", "mark", "space"]).optional().describe("none (default), even, odd; mark and space on Linux."),
    stop_bits: int(1, 2).optional().describe("1 (default) or 2."),
    flow_control: z.enum(["none", "rtscts", "xonxoff"]).optional().describe("none (default), rtscts (hardware) or xonxoff (software)."),
    line_ending: z
      .string()
      .max(8)
      .optional()
      .describe('What send_input appends (default "\\r", the Enter key). "\\r\\n" submits twice on many consoles (an empty password). Also cr, lf, crlf, none.'),
    dtr: bool.optional().describe("DTR level right after opening (default: as the driver sets it, on). false keeps boards that reset on DTR from resetting on close too."),
    rts: bool.optional().describe("RTS level right after opening (default: as the driver sets it, on)."),
    ...createCommon,
  }),
  output,
  async run(input, { sessions }) {
    const device = pick("device", input.device, "port", input.port);
    if (device === undefined) throw new PtyError("INVALID_ARGUMENT", "device is required: the serial port's path, e.g. /dev/ttyUSB0 (list_serial_ports shows the ports present).");
    const baudRate = pick("baud_rate", input.baud_rate, "baud", input.baud);
    let ending: string | undefined;
    if (input.line_ending !== undefined) {
      ending = lineEnding(input.line_ending);
      if (ending === undefined) throw new PtyError("INVALID_ARGUMENT", `line_ending ${JSON.stringify(input.line_ending)} is not a line ending: use "\\r" (default), "\\n", "\\r\\n", or the names cr, lf, crlf, none.`);
    }
    const cols = input.cols ?? DEFAULT_COLS;
    const rows = input.rows ?? DEFAULT_ROWS;
    const { session, settings, warning } = await openSerialSession(sessions, {
      device,
      baudRate,
      dataBits: input.data_bits as 5 | 6 | 7 | 8 | undefined,
      parity: input.parity,
      stopBits: input.stop_bits as 1 | 2 | undefined,
      flowControl: input.flow_control,
      lineEnding: ending,
      dtr: input.dtr,
      rts: input.rts,
      name: input.name,
      cols,
      rows,
      autoPager: input.auto_pager,
      sinks: () => buildSinks(input),
    });
    const result: z.input<typeof output> = { session_id: session.id, type: "serial", target: session.target, settings, line_ending: session.lineEnding, cols, rows };
    if (input.name) result.name = input.name;
    if (warning) result.warning = warning;
    return result;
  },
});

/** A parameter given under its name or its alias; both given and different is a mistake worth saying. */
function pick<T>(name: string, value: T | undefined, alias: string, aliasValue: T | undefined): T | undefined {
  if (value !== undefined && aliasValue !== undefined && value !== aliasValue) {
    throw new PtyError("INVALID_ARGUMENT", `${name} and its alias ${alias} disagree (${JSON.stringify(value)} vs ${JSON.stringify(aliasValue)}): give one of them.`);
  }
  return value ?? aliasValue;
}
