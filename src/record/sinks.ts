// The output sinks a create_* call asks for (log_file, record), built in one place for every session type.
import { LogFile } from "./log-file.ts";
import type { OutputSink } from "./sink.ts";

export interface SinkOptions {
  log_file?: string;
  /** MB; 0 = never rotate. */
  log_max_size?: number;
  log_max_files?: number;
}

export const DEFAULT_LOG_MAX_MB = 10;
export const DEFAULT_LOG_MAX_FILES = 3;

export function buildSinks(options: SinkOptions): OutputSink[] {
  const sinks: OutputSink[] = [];
  if (options.log_file) {
    sinks.push(
      new LogFile({
        path: options.log_file,
        maxSize: Math.round((options.log_max_size ?? DEFAULT_LOG_MAX_MB) * 1024 * 1024),
        maxFiles: options.log_max_files ?? DEFAULT_LOG_MAX_FILES,
      }),
    );
  }
  return sinks;
}
