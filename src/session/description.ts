// What a session is connected to, as its transport describes it: one typed description per
// transport, discriminated by `type`. get_session_state shows every field but `type` and `target`
// under the same names (they are SPEC §3's field names), so tools read them without casts.
// A new transport adds its interface here and one line to SessionDescription.
import type { HookedShell } from "./shell-hooks.ts";

/** A program on a local PTY: in this process, or in the daemon (and mirrored here). */
export interface LocalDescription {
  type: "local";
  /** The command line, as given (or the argv run). */
  target: string;
  pid?: number;
  /** bash or zsh hooked for shell integration. */
  shell?: HookedShell;
}

export interface HostKeyFacts {
  fingerprint: string;
  key_type: string;
}

/** An SSH shell: in this process, or in the remote host's daemon (`remote_path` set). */
export interface SshDescription {
  type: "ssh";
  /** `user@host:port` of the final hop. */
  target: string;
  auth_method: string;
  host_key: HostKeyFacts;
  shell?: HookedShell;
  /** Persistent: the remote pty-mcp whose daemon holds the session. */
  remote_path?: string;
  pid?: number;
}

/** Line settings as tools report them (SPEC §2 parameter names). */
export interface SerialLineSettings {
  baud_rate: number;
  data_bits: number;
  parity: string;
  stop_bits: number;
  flow_control: string;
}

/** A serial console: a local port, or one behind a network serial server (rfc2217://, socket://). */
export interface SerialDescription {
  type: "serial";
  /** The device path or URL as given. */
  target: string;
  /** What the driver kept; for rfc2217:// what the server answered (and answers now, through the transport); absent for socket://. */
  settings?: Partial<SerialLineSettings>;
  line_ending: string;
  /** The device the path resolved to, when it is a link. */
  real_path?: string;
  /** What the driver refused. */
  warning?: string;
}

/** A console over TCP (create_telnet_session). */
export interface TelnetDescription {
  type: "telnet";
  /** `host:port` (`[v6]:port`). */
  target: string;
  /** telnet (RFC 854 negotiation) or raw TCP. */
  mode: "telnet" | "raw";
  line_ending: string;
  /** What the server did not confirm. */
  warning?: string;
}

export type SessionDescription =
  | LocalDescription
  | SshDescription
  | SerialDescription
  | TelnetDescription;

export type SessionType = SessionDescription["type"];

/** The description's facts for get_session_state (everything but type and target). */
export function describedFacts(description: SessionDescription): Record<string, unknown> {
  const { type: _type, target: _target, ...facts } = description;
  return facts;
}
