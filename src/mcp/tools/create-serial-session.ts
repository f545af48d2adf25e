import { z } from "zod";
import { PtyError } from "../../errors.ts";
import { buildSinks } from "../../record/sinks.ts";
import { openSerialSession } from "../../serial/open-serial.ts";
import { comPortInfo } from "../../telnet/com-port.ts";
import { openTelnetSession, parseSerialUrl } from "../../telnet/open-telnet.ts";
import { bool, createCommon, DEFAULT_COLS, DEFAULT_ROWS, int, lineEnding, num } from "../params.ts";
import { defineTool } from "../tool.ts";

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
  settings: settingsShape.partial().optional(),
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
    "The result's settings are what the driver actually kept; warning names what it refused. " +
    "A serial port behind a network server: device rfc2217://host:port (RFC 2217: the line settings are negotiated and settings are the server's answers) " +
    "or socket://host:port (raw TCP: the server's own settings apply).",
  meta: { searchHint: "serial console tty uart baud router switch cisco embedded board usb minicom screen rfc2217 ser2net console server" },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  input: z.object({
    device: z
      .string()
      .min(1)
      .optional()
      .describe("Device path under /dev/, e.g. /dev/ttyUSB0 or a /dev/serial/by-id/… link (no `..`), or a network serial port rfc2217://host:port / socket://host:port. Required (or its alias `port`)."),
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
    connect_timeout: num(0.1, 600).optional().describe("rfc2217:// and socket:// only: seconds to wait for the TCP connection (default 15)."),
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
    const url = parseSerialUrl(device);
    if (url) {
      const dataBits = input.data_bits as 5 | 6 | 7 | 8 | undefined;
      const stopBits = input.stop_bits as 1 | 2 | undefined;
      const { session, transport, warning } = await openTelnetSession(sessions, {
        host: url.host,
        port: url.port,
        mode: url.mode,
        type: "serial",
        target: device,
        connectTimeoutMs: (input.connect_timeout ?? 15) * 1000,
        // RFC 2217 sets every line parameter, with SPEC §2's defaults (9600 8N1, no flow control).
        comPort: url.mode === "rfc2217" ? { baudRate: baudRate ?? 9600, dataBits: dataBits ?? 8, parity: input.parity ?? "none", stopBits: stopBits ?? 1, flowControl: input.flow_control ?? "none" } : undefined,
        lineEnding: ending ?? "\r",
        name: input.name,
        cols,
        rows,
        autoPager: input.auto_pager,
        sinks: () => buildSinks({ ...input, cols, rows }),
      });
      if (url.mode === "rfc2217" && (input.dtr !== undefined || input.rts !== undefined)) await transport.capabilities.setModemLines?.({ dtr: input.dtr, rts: input.rts });
      const result: z.input<typeof output> = { session_id: session.id, type: "serial", target: device, line_ending: session.lineEnding, cols, rows };
      if (url.mode === "rfc2217") result.settings = comPortInfo(transport.comPort);
      if (input.name) result.name = input.name;
      const ignored = url.mode === "raw" && [baudRate, input.data_bits, input.parity, input.stop_bits, input.flow_control, input.dtr, input.rts].some((v) => v !== undefined);
      const warnings = [warning, ignored ? "socket:// is raw TCP: line settings and modem lines cannot be set through it (the server's own settings apply); use rfc2217:// to set them." : undefined].filter(Boolean);
      if (warnings.length > 0) result.warning = warnings.join(" ");
      return result;
    }
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
