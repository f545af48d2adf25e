/**
 * Connects an AuditLog to a session registry: every session's creation, every
 * input before it reaches the transport (an input hook, so strict mode can
 * refuse it), the output that followed an input, and the end of the session
 * (`close` once: the program's exit or close_session; `detach` for a persistent
 * session left running in the daemon).
 * A secret is recorded as `event: "secret"` with no data; no output snippet
 * follows it.
 */
import { errorMessage } from "../errors.ts";
import type { SessionRegistry } from "../session/registry.ts";
import type { InputEvent, Session } from "../session/session.ts";
import type { Transport } from "../session/transport.ts";
import { newCmdId, type AuditLog, type AuditRecord } from "./audit-log.ts";

/** The output after an input is taken once the session is quiet this long (or at the cap, or at the next input). */
const OUTPUT_QUIET_MS = 500;
const OUTPUT_MAX_WAIT_MS = 10_000;
/** Text read for a snippet; the AuditLog keeps the first 2 KiB of it. */
const OUTPUT_READ_BYTES = 8192;

function recordFor(event: InputEvent): AuditRecord {
  const { session } = event;
  const base = { session_id: session.id, type: session.type, target: session.target };
  switch (event.kind) {
    case "input":
      return { ...base, event: "input", cmd: event.data };
    case "raw":
      return { ...base, event: "input", cmd: event.data, raw: true };
    case "control":
      return { ...base, event: "control", key: event.data };
    case "secret":
      return { ...base, event: "secret" };
    case "auto_pager":
      return { ...base, event: "input", raw: true, reason: "auto_pager answered a pager" };
  }
}

/**
 * Hooks `audit` into `registry` (sessions added afterwards get the input hook).
 * Call once, before the first session is created.
 */
export function attachAudit(registry: SessionRegistry, audit: AuditLog): void {
  /** Per session: the input whose output is being collected. */
  const pending = new WeakMap<Session, { cmdId: string; start: number; token: object; written?: Disposable }>();

  const flushOutput = (session: Session): void => {
    const p = pending.get(session);
    if (!p) return;
    pending.delete(session);
    p.written?.[Symbol.dispose]();
    const text = session.textBetween(p.start, session.buffer.end, OUTPUT_READ_BYTES).text;
    void audit.recordOutput({ session_id: session.id, cmd_id: p.cmdId, output: text });
  };

  const collectOutput = async (session: Session, token: object): Promise<void> => {
    const writtenAt = performance.now();
    const deadline = writtenAt + OUTPUT_MAX_WAIT_MS;
    for (;;) {
      if (pending.get(session)?.token !== token) return; // a newer input took over
      // Quiet since the input or its last output byte, whichever is later (a session idle before the input is not "done").
      const quiet = Math.min(session.quietMs(), performance.now() - writtenAt);
      const remaining = deadline - performance.now();
      if (!session.isAlive || remaining <= 0 || quiet >= OUTPUT_QUIET_MS) break;
      await session.changed(Math.min(remaining, OUTPUT_QUIET_MS - quiet));
    }
    if (pending.get(session)?.token === token) flushOutput(session);
  };

  registry.inputHooks.push(async (event) => {
    const { session } = event;
    // The previous input's output ends where this input begins.
    flushOutput(session);
    const cmdId = await audit.record(recordFor(event));
    if (event.kind === "input" || event.kind === "raw" || event.kind === "control") {
      const token = {};
      // Collection starts once the input was written (the same event object comes back from onInput).
      const written = session.onInput((done) => {
        if (done !== event && (done.kind !== event.kind || done.data !== event.data)) return;
        written[Symbol.dispose]();
        void collectOutput(session, token);
      });
      pending.set(session, { cmdId, start: session.buffer.end, token, written });
    }
  });

  // run_on_hosts and transfer_file: one input entry per call (type "fleet", the hosts as target)
  // before anything is sent — strict mode refuses the call when it cannot be delivered — and the
  // outcome (groups, failures) as its output.
  registry.fleetHooks.push(async (input) => {
    const session_id = `fleet-${newCmdId().slice(0, 8)}`;
    const cmdId = await audit.record({ event: "input", session_id, type: "fleet", target: input.target, cmd: `${input.tool}: ${input.cmd}` });
    return (outcome) => void audit.recordOutput({ session_id, cmd_id: cmdId, output: outcome });
  });

  registry.onAdded((session) => {
    audit.record({ event: "create", session_id: session.id, type: session.type, target: session.target }).catch((err: unknown) => {
      console.error(`pty-mcp: audit of session ${session.id}'s creation failed: ${errorMessage(err)}`);
    });
    const base = { session_id: session.id, type: session.type, target: session.target };
    const failed = (err: unknown): void => console.error(`pty-mcp: audit of session ${session.id}'s end failed: ${errorMessage(err)}`);
    let closeRecorded = false;
    const watchExit = (transport: Transport) =>
      transport.onExit((exit) => {
        flushOutput(session);
        closeRecorded = true;
        const reason = session.isClosed ? "close_session" : (exit.reason ?? (exit.signal ? `signal ${exit.signal}` : "program exited"));
        audit.record({ event: "close", ...base, exit_code: exit.code, reason }).catch(failed);
      });
    watchExit(session.transport);
    // reconnect_session: the same session on a new connection, which ends (and is recorded) in its turn.
    session.onResume((transport) => {
      closeRecorded = false;
      audit.record({ event: "reconnect", ...base, reason: "reconnect_session: a new connection after the link ended" }).catch(failed);
      watchExit(transport);
    });
    // close() without an exit from the transport: a detached persistent session (its program goes on
    // in the daemon), or a transport that had nothing left to end.
    session.onClose(({ detached }) => {
      flushOutput(session);
      if (detached) {
        audit.record({ event: "detach", ...base, reason: "detached; the program keeps running in the daemon" }).catch(failed);
      } else if (!closeRecorded) {
        closeRecorded = true;
        audit.record({ event: "close", ...base, exit_code: session.exit?.code ?? null, reason: "close_session" }).catch(failed);
      }
    });
  });
}
