// create_serial_session's work: open and configure the port, then wrap it in a Session.
import type { OutputSink } from "../record/sink.ts";
import type { SessionRegistry } from "../session/registry.ts";
import { Session } from "../session/session.ts";
import { SerialTransport } from "./serial-transport.ts";
import type { SerialSettings } from "./termios.ts";

export interface OpenSerialOptions extends Partial<SerialSettings> {
  device: string;
  /** Appended by send_input (default "\r": Enter on a console; "\r\n" submits twice on many). */
  lineEnding?: string;
  /** Modem line levels right after opening; omitted = as the driver left them. */
  dtr?: boolean;
  rts?: boolean;
  name?: string;
  cols: number;
  rows: number;
  autoPager?: boolean;
  sinks: OutputSink[];
}

/** Line settings as tools report them (SPEC §2 parameter names). */
export interface SerialSettingsInfo {
  baud_rate: number;
  data_bits: number;
  parity: string;
  stop_bits: number;
  flow_control: string;
}

export function settingsInfo(settings: SerialSettings): SerialSettingsInfo {
  return {
    baud_rate: settings.baudRate,
    data_bits: settings.dataBits,
    parity: settings.parity,
    stop_bits: settings.stopBits,
    flow_control: settings.flowControl,
  };
}

/**
 * Opens a serial console session. Capacity is checked before the port is touched; a port
 * that fails to open closes the sinks made for it. `details` (settings, line ending, what the
 * driver refused) show in get_session_state.
 */
export async function openSerialSession(registry: SessionRegistry, options: OpenSerialOptions): Promise<{ session: Session; settings: SerialSettingsInfo; warning?: string }> {
  registry.assertCapacity();
  let transport: SerialTransport;
  try {
    transport = await SerialTransport.open({
      device: options.device,
      baudRate: options.baudRate,
      dataBits: options.dataBits,
      parity: options.parity,
      stopBits: options.stopBits,
      flowControl: options.flowControl,
      dtr: options.dtr,
      rts: options.rts,
    });
  } catch (err) {
    await Promise.allSettled(options.sinks.map((sink) => sink.close()));
    throw err;
  }
  const settings = settingsInfo(transport.settings);
  const lineEnding = options.lineEnding ?? "\r";
  const warning = transport.warnings.length > 0 ? transport.warnings.join(" ") : undefined;
  const details: Record<string, unknown> = { settings, line_ending: lineEnding };
  if (transport.realPath !== transport.device) details.real_path = transport.realPath;
  if (warning) details.warning = warning;
  const session = new Session({
    id: registry.newId("serial"),
    type: "serial",
    target: transport.device,
    name: options.name,
    transport,
    size: { cols: options.cols, rows: options.rows },
    lineEnding,
    autoPager: options.autoPager,
    sinks: options.sinks,
    details,
  });
  registry.add(session);
  return warning ? { session, settings, warning } : { session, settings };
}
