/**
 * Where a session's output goes besides its buffer: a recording, a log file.
 * The session calls `write` from its data handler, so a sink never blocks: it
 * buffers and flushes asynchronously, and reports its own write errors (stderr)
 * instead of throwing into the session.
 */
export interface OutputSink {
  write(bytes: Uint8Array): void;          // output bytes as they arrive; must not block the caller (buffer + async flush)
  resize?(size: { cols: number; rows: number }): void;
  close(): Promise<void>;                  // flushes; safe twice
}
