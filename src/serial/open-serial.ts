// create_serial_session's work: open and configure the port, then wrap it in a Session.
import type { SerialDescription, SerialLineSettings } from "../session/description.ts";
import { openSession } from "../session/open-session.ts";
import type { SessionRegistry } from "../session/registry.ts";
import type { Session } from "../session/session.ts";
import type { OutputSink } from "../session/sink.ts";
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
  /** Opened once the port is (see openSession). */
  sinks?: () => OutputSink[];
}

export function settingsInfo(settings: SerialSettings): SerialLineSettings {
  return {
    baud_rate: settings.baudRate,
    data_bits: settings.dataBits,
    parity: settings.parity,
    stop_bits: settings.stopBits,
    flow_control: settings.flowControl,
  };
}

/**
 * Opens a serial console session. Capacity is checked before the port is touched; the sinks are
 * opened after it. The description (settings, line ending, what the driver refused) shows in
 * get_session_state.
 */
export async function openSerialSession(registry: SessionRegistry, options: OpenSerialOptions): Promise<{ session: Session; settings: SerialLineSettings; warning?: string }> {
  const lineEnding = options.lineEnding ?? "\r";
  const { session, transport } = await openSession(registry, {
    open: async () => {
      const transport = await SerialTransport.open({
        device: options.device,
        baudRate: options.baudRate,
        dataBits: options.dataBits,
        parity: options.parity,
        stopBits: options.stopBits,
        flowControl: options.flowControl,
        dtr: options.dtr,
        rts: options.rts,
      });
      const description: SerialDescription = { type: "serial", target: transport.device, settings: settingsInfo(transport.settings), line_ending: lineEnding };
      if (transport.realPath !== transport.device) description.real_path = transport.realPath;
      if (transport.warnings.length > 0) description.warning = transport.warnings.join(" ");
      return { transport, description };
    },
    sinks: options.sinks,
    name: options.name,
    size: { cols: options.cols, rows: options.rows },
    lineEnding,
    autoPager: options.autoPager,
  });
  const settings = settingsInfo(transport.settings);
  const warning = transport.warnings.length > 0 ? transport.warnings.join(" ") : undefined;
  return warning ? { session, settings, warning } : { session, settings };
}
