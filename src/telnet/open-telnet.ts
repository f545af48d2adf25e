// create_telnet_session's and create_serial_session {device: "rfc2217://…" | "socket://…"}'s work:
// connect, then wrap the connection in a Session.
import { PtyError } from "../errors.ts";
import type { SessionDescription } from "../session/description.ts";
import { openSession } from "../session/open-session.ts";
import type { Reopener } from "../session/reconnect.ts";
import type { SessionRegistry } from "../session/registry.ts";
import type { Session } from "../session/session.ts";
import type { OutputSink } from "../session/sink.ts";
import { type ComPortSettings, comPortInfo } from "./com-port.ts";
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
  /** Opened once the connection is (see openSession). */
  sinks?: () => OutputSink[];
  /** After reconnect_session opened the connection again (a telnet console): the login, as at creation. */
  relogin?: (session: Session, signal: AbortSignal) => Promise<{ completed: boolean }>;
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

/**
 * Opens a console over TCP through the one opener: capacity first, then the connection, then the
 * sinks. The description (mode, line ending, RFC 2217's first answers) shows in get_session_state;
 * the RFC 2217 server's answers as they are now come from the transport (`lineSettings`).
 */
export async function openTelnetSession(registry: SessionRegistry, options: OpenTelnetOptions): Promise<{ session: Session; transport: TelnetTransport; warning?: string }> {
  const connect = (size: { cols: number; rows: number }, connectTimeoutMs: number) =>
    TelnetTransport.connect({ host: options.host, port: options.port, mode: options.mode, connectTimeoutMs, size, comPort: options.comPort });
  // reconnect_session (a rebooted host or console server): the same host, port and mode, then the login again.
  const reopener: Reopener = {
    open: ({ connectTimeoutMs, size }) => connect(size, Math.min(connectTimeoutMs, options.connectTimeoutMs)),
    ready: async (session, _transport, signal) => (options.relogin ? { login: await options.relogin(session, signal) } : undefined),
  };
  const { session, transport } = await openSession(registry, {
    open: async () => {
      const transport = await connect({ cols: options.cols, rows: options.rows }, options.connectTimeoutMs);
      const warning = transport.warnings.length > 0 ? transport.warnings.join(" ") : undefined;
      let description: SessionDescription;
      if (options.type === "telnet") {
        description = { type: "telnet", target: options.target, mode: options.mode === "raw" ? "raw" : "telnet", line_ending: options.lineEnding };
      } else {
        description = { type: "serial", target: options.target, line_ending: options.lineEnding };
        if (options.mode === "rfc2217") description.settings = comPortInfo(transport.comPort);
      }
      if (warning) description.warning = warning;
      return { transport, description };
    },
    sinks: options.sinks,
    name: options.name,
    size: { cols: options.cols, rows: options.rows },
    lineEnding: options.lineEnding,
    autoPager: options.autoPager,
    ...(options.type === "telnet" ? { reopener } : {}),
  });
  const warning = transport.warnings.length > 0 ? transport.warnings.join(" ") : undefined;
  return warning ? { session, transport, warning } : { session, transport };
}
