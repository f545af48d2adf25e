// What a Session is built from (the opener, open-session.ts, assembles it; tests build one directly).
import type { SessionDescription } from "./description.ts";
import type { OutputSink } from "./sink.ts";
import type { Transport } from "./transport.ts";

export interface SessionInit {
  id: string;
  /** What the session is connected to, from its transport (SessionDescription's `type`, `target` …). */
  description: SessionDescription;
  name?: string;
  transport: Transport;
  size: { cols: number; rows: number };
  /** Appended to send_input's text unless raw. Default "\r" (Enter on a terminal). */
  lineEnding?: string;
  /** Answer pagers (--More-- and kin) by itself. */
  autoPager?: boolean;
  persistent?: boolean;
  bufferSize?: number;
  /**
   * Absolute cursor of the first byte this session will receive (default 0). A mirror of a
   * session held elsewhere (the daemon) starts where its attachment starts, so that its
   * cursors are the original's.
   */
  outputOffset?: number;
  /** When the session began (default now; a mirror's is the daemon's). */
  createdAt?: Date;
  /** Log file, recording: get every output byte. */
  sinks?: OutputSink[];
  /** The link may be reopened (reconnect_session, src/session/reconnect.ts): sinks stay open until close(). */
  resumable?: boolean;
}
