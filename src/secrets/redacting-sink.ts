import type { OutputSink } from "../session/sink.ts";
import type { SecretRedactor } from "./secret-redactor.ts";

/**
 * Wraps a recording or log sink so that held secrets never reach it, even when
 * a device echoes one and it arrives split across reads.
 */
export function redactingSink(sink: OutputSink, redactor: SecretRedactor): OutputSink {
  const stream = redactor.stream();
  let closed = false;
  const result: OutputSink = {
    write(bytes) {
      if (closed) return;
      const safe = stream.push(bytes);
      if (safe.length > 0) sink.write(safe);
    },
    close() {
      if (!closed) {
        closed = true;
        const rest = stream.end();
        if (rest.length > 0) sink.write(rest);
      }
      return sink.close();
    },
  };
  if (sink.resize) result.resize = (size) => sink.resize?.(size);
  return result;
}
