// The output sinks a create_* call asks for (log_file, record), built in one place for every session type.
// Every sink is wrapped so that secrets held by send_secret/prepare_secret never reach a file.
import { heldSecrets } from "../secrets/held-secrets.ts";
import { redactingSink } from "../secrets/redacting-sink.ts";
import { AsciicastWriter } from "./asciicast.ts";
import { LogFile, MIN_LOG_ROTATE_BYTES } from "./log-file.ts";
import type { OutputSink } from "../session/sink.ts";

export interface SinkOptions {
  log_file?: string;
  /** MB; 0 = never rotate. */
  log_max_size?: number;
  log_max_files?: number;
  /** Path of an asciicast v2 recording. */
  record?: string;
  /** Initial terminal size, for the recording's header (SPEC §2 defaults 120x40). */
  cols?: number;
  rows?: number;
}

export const DEFAULT_LOG_MAX_MB = 10;
export const DEFAULT_LOG_MAX_FILES = 3;

/** MB to bytes; a size under the minimum (a peer's frame, say) is raised to it, 0 stays "never". */
function logRotateBytes(mb: number): number {
  if (!(mb > 0)) return 0;
  return Math.max(MIN_LOG_ROTATE_BYTES, Math.round(mb * 1024 * 1024));
}

export function buildSinks(options: SinkOptions): OutputSink[] {
  const sinks: OutputSink[] = [];
  if (options.log_file) {
    sinks.push(
      new LogFile({
        path: options.log_file,
        maxSize: logRotateBytes(options.log_max_size ?? DEFAULT_LOG_MAX_MB),
        maxFiles: options.log_max_files ?? DEFAULT_LOG_MAX_FILES,
      }),
    );
  }
  if (options.record) {
    try {
      sinks.push(AsciicastWriter.create(options.record, { cols: options.cols ?? 120, rows: options.rows ?? 40 }));
    } catch (err) {
      for (const sink of sinks) void sink.close();
      throw err;
    }
  }
  return sinks.map((sink) => redactingSink(sink, heldSecrets));
}
