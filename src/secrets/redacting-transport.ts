import type { Transport, TransportExit } from "../session/transport.ts";
import { Emitter } from "../session/transport.ts";
import type { SecretRedactor } from "./secret-redactor.ts";

/** A tail held back as a possible start of a secret is let go after this much quiet: it was not one. */
const RELEASE_TAIL_MS = 1000;

/**
 * A transport whose output has the held secrets redacted before anyone sees it: the session's
 * buffer, screen and sinks, and (in the daemon) every client attached now or later. A secret
 * split across reads is caught (RedactingStream); a tail that could start a secret waits for the
 * next read, at most RELEASE_TAIL_MS.
 */
export function redactingTransport(inner: Transport, redactor: SecretRedactor): Transport {
  const data = new Emitter<Uint8Array>();
  const exit = new Emitter<TransportExit>();
  const stream = redactor.stream();
  let timer: Timer | undefined;
  const release = () => {
    timer = undefined;
    const rest = stream.end();
    if (rest.length > 0) data.emit(rest);
  };
  inner.onData((bytes) => {
    const safe = stream.push(bytes);
    if (safe.length > 0) data.emit(safe);
    if (timer) clearTimeout(timer);
    timer = redactor.size > 0 ? setTimeout(release, RELEASE_TAIL_MS) : undefined;
  });
  inner.onExit((info) => {
    if (timer) clearTimeout(timer);
    release();
    exit.emit(info);
  });
  const wrapped: Transport = {
    write: (bytes) => inner.write(bytes),
    resize: (size) => inner.resize(size),
    close: () => inner.close(),
    onData: (listener) => data.on(listener),
    onExit: (listener) => exit.on(listener),
  };
  if (inner.capabilities) Object.assign(wrapped, { capabilities: inner.capabilities });
  return wrapped;
}
