/**
 * Where a session's output goes besides its buffer: a log file, an asciicast recording.
 * `write` gets the bytes as they arrive and must not block the caller (buffer, flush
 * asynchronously); `close` flushes and is safe to call twice.
 */
export interface OutputSink {
  write(bytes: Uint8Array): void;
  resize?(size: { cols: number; rows: number }): void;
  close(): Promise<void>;
}
