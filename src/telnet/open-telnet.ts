// create_telnet_session's and create_serial_session {device: "rfc2217://…" | "socket://…"}'s work:
// connect, then wrap the connection in a Session.
import { PtyError } from "../errors.ts";
import type { OutputSink } from "../record/sink.ts";
import type { SessionRegistry } from "../session/registry.ts";
import { Session } from "../session/session.ts";
import type { ComPortSettings, ComPortState } from "./com-port.ts";
import { type ConsoleMode, TelnetTransport } from "./telnet-transport.ts";

export interface OpenTelnetOptions {
  host: string;
  port: number;
  mode: ConsoleMode;
  /** The session's type and target as tools show them: telnet host:port, or serial with the URL. */
  type: "telnet" | "serial";
  target: string;
  connectTimeoutMs: number;
  comPort?: ComPortSettings;
  lineEnding: string;
  name?: string;
  cols: number;
  rows: number;
  autoPager?: boolean;
  sinks: OutputSink[];
}

/** A network serial port's URL as pyserial spells it: rfc2217://host:port or socket://host:port ([v6]:port too). */
export function parseSerialUrl(device: string): { mode: "rfc2217" | "raw"; host: string; port: number } | undefined {
  const m = /^(rfc2217|socket):\/\/(\[[0-9a-fA-F:.]+\]|[^:/?#\s[\]]+):(\d{1,5})\/?(?:\?.*)?$/.exec(device);
  if (!m) {
    if (/^(rfc2217|socket):/i.test(device)) throw new PtyError("INVALID_ARGUMENT", `${JSON.stringify(device)} is not a network serial URL: use rfc2217://host:port (RFC 2217) or socket://host:port (raw TCP).`);
    return undefined;
  }
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new PtyError("INVALID_ARGUMENT", `Port ${port} in ${device} is not a TCP port (1-65535).`);
  return { mode: m[1] === "rfc2217" ? "rfc2217" : "raw", host: m[2]!.replace(/^\[|\]$/g, ""), port };
}

/** Line settings as the RFC 2217 server answered them, with SPEC §2 names (only what it answered). */
export function comPortInfo(state: ComPortState): Record<string, unknown> {
  const info: Record<string, unknown> = {};
  if (state.baudRate !== undefined) info.baud_rate = state.baudRate;
  if (state.dataBits !== undefined) info.data_bits = state.dataBits;
  if (state.parity !== undefined) info.parity = state.parity;
  if (state.stopBits !== undefined) info.stop_bits = state.stopBits;
  if (state.flowControl !== undefined) info.flow_control = state.flowControl;
  if (state.dtr !== undefined) info.dtr = state.dtr;
  if (state.rts !== undefined) info.rts = state.rts;
  if (state.modemState !== undefined) info.modem_state = state.modemState;
  if (state.lineState !== undefined) info.line_state = state.lineState;
  if (state.signature !== undefined) info.signature = state.signature;
  return info;
}

/**
 * Opens a console over TCP. Capacity is checked before connecting; a failed connection closes
 * the sinks made for it. get_session_state shows the mode, the line ending and, for RFC 2217,
 * the server's current answers (`settings`).
 */
export async function openTelnetSession(registry: SessionRegistry, options: OpenTelnetOptions): Promise<{ session: Session; transport: TelnetTransport; warning?: string }> {
  registry.assertCapacity();
  let transport: TelnetTransport;
  try {
    transport = await TelnetTransport.connect({
      host: options.host,
      port: options.port,
      mode: options.mode,
      connectTimeoutMs: options.connectTimeoutMs,
      size: { cols: options.cols, rows: options.rows },
      comPort: options.comPort,
    });
  } catch (err) {
    await Promise.allSettled(options.sinks.map((sink) => sink.close()));
    throw err;
  }
  const warning = transport.warnings.length > 0 ? transport.warnings.join(" ") : undefined;
  const details: Record<string, unknown> = { mode: options.mode, line_ending: options.lineEnding };
  // The server's answers change (DTR, modem state): read them when the state is shown.
  if (options.mode === "rfc2217") Object.defineProperty(details, "settings", { enumerable: true, get: () => comPortInfo(transport.comPort) });
  if (warning) details.warning = warning;
  const session = new Session({
    id: registry.newId(options.type),
    type: options.type,
    target: options.target,
    name: options.name,
    transport,
    size: { cols: options.cols, rows: options.rows },
    lineEnding: options.lineEnding,
    autoPager: options.autoPager,
    sinks: options.sinks,
    details,
  });
  registry.add(session);
  return warning ? { session, transport, warning } : { session, transport };
}
