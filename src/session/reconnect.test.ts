// reconnect_session's core over in-memory transports: a link that ends, attempts that fail, a new
// transport that continues the same buffer.
import { describe, expect, test } from "bun:test";
import { PtyError } from "../errors.ts";
import { gapLine, isCutShort, reconnectSession as reconnectNow, setReopener, type Reopener } from "./reconnect.ts";
import { MemoryTransport, memorySession } from "../../test/harness/memory-transport.ts";
import type { Session } from "./session.ts";
import type { Transport, TransportExit } from "./transport.ts";

/** A link: an in-memory transport whose close() reports a lost connection. */
class Link extends MemoryTransport {
  override closeExit: TransportExit | undefined = { code: null, signal: null, reason: "closed" };
  get closed(): boolean {
    return this.closes > 0;
  }
}

const refused = () => new PtyError("SSH_CONN_FAILED", "Connection refused.", true);

/** A reopener whose attempts fail `failures` times, then give `next`. */
function reopener(failures: number, next: Link, log: number[] = []): Reopener {
  let n = 0;
  return {
    open: async () => {
      log.push(performance.now());
      if (n++ < failures) throw refused();
      return next;
    },
  };
}

function session(link: Link): Session {
  return memorySession(link, { id: "ssh-1", description: { type: "ssh", target: "root@h:22", auth_method: "publickey", host_key: { fingerprint: "SHA256:x", key_type: "ssh-ed25519" } }, resumable: true });
}

/** reconnect_session with this reopener (the opener would have set it at creation). */
function reconnectSession(s: Session, reopen: Reopener, options: Parameters<typeof reconnectNow>[1]) {
  setReopener(s, reopen);
  return reconnectNow(s, options);
}

describe("reconnect core", () => {
  test("the new transport continues the same buffer after one gap line; input goes to it", async () => {
    const old = new Link();
    const next = new Link();
    const s = session(old);
    old.print("$ uptime\r\n up 3 days\r\n$ ");
    old.exit({ code: null, signal: null, reason: "connection lost" });
    const ended = s.buffer.end;
    const r = await reconnectSession(s, reopener(1, next), { timeoutMs: 10_000, signal: new AbortController().signal });
    expect(r).toEqual({ reconnected: true, down_for_ms: expect.any(Number), attempts: 2, cursor: s.buffer.end });
    expect(r.down_for_ms).toBeGreaterThanOrEqual(1000);
    next.print("$ ");
    const text = s.textBetween(ended).text;
    expect(text).toMatch(/^\n\[pty-mcp: link to root@h:22 ended \S+Z, reconnected \S+Z \(down 1\.\d s, 2 attempts\); a new shell follows\]\n\$ $/);
    expect(s.isAlive).toBe(true);
    await s.write("ls\r", { kind: "input", data: "ls" });
    expect([old.written, next.written]).toEqual(["", "ls\r"]);
    await s.close();
    expect(next.closed).toBe(true);
  });

  test("backoff 1 s, then 2 s between attempts; the timeout ends it with the attempts and the last error", async () => {
    const s = session(new Link());
    (s.transport as Link).exit({ code: null, signal: null });
    const times: number[] = [];
    const r = await reconnectSession(s, reopener(99, new Link(), times), { timeoutMs: 3500, signal: new AbortController().signal });
    expect(r).toEqual({ reconnected: false, down_for_ms: expect.any(Number), attempts: 3, cursor: 0, timed_out: true, last_error: { code: "SSH_CONN_FAILED", message: "Connection refused." } });
    const gaps = times.slice(1).map((t, i) => Math.round((t - times[i]!) / 1000));
    expect(gaps).toEqual([1, 2]);
  }, 10_000);

  /** A reopener whose attempts fail in turn with these: an error at once, or "hang" (a silent host: times out when its connect time is up). */
  function scripted(outcomes: Array<PtyError | "hang">, budgets: number[] = []): Reopener {
    let n = 0;
    return {
      open: ({ connectTimeoutMs }) => {
        budgets.push(connectTimeoutMs);
        const outcome = outcomes[Math.min(n++, outcomes.length - 1)]!;
        if (outcome !== "hang") return Promise.reject(outcome);
        return new Promise<Transport>((_, reject) => setTimeout(() => reject(timedOut(connectTimeoutMs)), connectTimeoutMs));
      },
    };
  }
  const timedOut = (ms: number) => new PtyError("SSH_CONN_FAILED", `Connecting to root@h:22 timed out after ${Math.round(ms)} ms.`, true);

  test("the last attempt cut short by the timeout: last_error is the last error an attempt got by itself (refused), not the cut-short timeout", async () => {
    const s = session(new Link());
    (s.transport as Link).exit({ code: null, signal: null });
    const budgets: number[] = [];
    const r = await reconnectSession(s, scripted([refused(), "hang"], budgets), { timeoutMs: 1600, signal: new AbortController().signal });
    expect(r).toEqual({ reconnected: false, down_for_ms: expect.any(Number), attempts: 2, cursor: 0, timed_out: true, last_error: { code: "SSH_CONN_FAILED", message: "Connection refused." } });
    // The first attempt had the whole 1.6 s, the second only what was left of it (about 0.6 s).
    expect([budgets.length, budgets[0]! > 1500, budgets[1]! < 1000]).toEqual([2, true, true]);
  }, 10_000);

  test("every attempt cut short (the only one): last_error is its timeout; a later error of its own wins over an earlier one", async () => {
    const only = session(new Link());
    (only.transport as Link).exit({ code: null, signal: null });
    const r = await reconnectSession(only, scripted(["hang"]), { timeoutMs: 300, signal: new AbortController().signal });
    expect(r).toEqual({ reconnected: false, down_for_ms: expect.any(Number), attempts: 1, cursor: 0, timed_out: true, last_error: { code: "SSH_CONN_FAILED", message: "Connecting to root@h:22 timed out after 300 ms." } });

    const s = session(new Link());
    (s.transport as Link).exit({ code: null, signal: null });
    const dns = new PtyError("SSH_CONN_FAILED", 'Host name "h" does not resolve (DNS).', true);
    const r2 = await reconnectSession(s, scripted([refused(), dns]), { timeoutMs: 1500, signal: new AbortController().signal });
    expect(r2).toEqual({ reconnected: false, down_for_ms: expect.any(Number), attempts: 2, cursor: 0, timed_out: true, last_error: { code: "SSH_CONN_FAILED", message: dns.message } });
  }, 10_000);

  test("isCutShort: less than a whole connect timeout (10 s), and all of it used", () => {
    expect([isCutShort(400, 400), isCutShort(400, 395), isCutShort(400, 120), isCutShort(10_000, 10_000), isCutShort(10_000, 12_000)]).toEqual([true, true, false, false, false]);
  });

  test("a non-retryable failure (a changed host key) ends it with that error", async () => {
    const s = session(new Link());
    (s.transport as Link).exit({ code: null, signal: null });
    const mismatch = new PtyError("SSH_HOST_KEY_MISMATCH", "HOST KEY CHANGED", false);
    const err = await reconnectSession(s, { open: async () => Promise.reject(mismatch) }, { timeoutMs: 10_000, signal: new AbortController().signal }).catch((e: unknown) => e);
    expect(err).toBe(mismatch);
    expect(s.isAlive).toBe(false);
  });

  test("abort ends it at once; a transport that arrives later is closed", async () => {
    const s = session(new Link());
    (s.transport as Link).exit({ code: null, signal: null });
    const late = new Link();
    let arrive: (t: Transport) => void = () => undefined;
    const abort = new AbortController();
    const pending = reconnectSession(s, { open: () => new Promise<Transport>((resolve) => (arrive = resolve)) }, { timeoutMs: 60_000, signal: abort.signal });
    await Bun.sleep(20);
    abort.abort();
    expect(await pending).toMatchObject({ reconnected: false, cancelled: true, attempts: 1 });
    arrive(late);
    await Bun.sleep(0);
    expect([late.closed, s.isAlive]).toEqual([true, false]);
  });

  test("a session without a reopener (local, serial, persistent, an SSH command) is refused", async () => {
    const s = memorySession(new Link(), { id: "local-1", description: { type: "local", target: "true" } });
    (s.transport as Link).exit({ code: 0, signal: null });
    await expect(reconnectNow(s, { timeoutMs: 1000, signal: new AbortController().signal })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "Session local-1 cannot be reconnected: only SSH and telnet sessions can be reconnected, this one is local.",
    });
  });

  test("a live session, a closed one and a second call at once are refused", async () => {
    const link = new Link();
    const s = session(link);
    const signal = new AbortController().signal;
    await expect(reconnectSession(s, reopener(0, new Link()), { timeoutMs: 1000, signal })).rejects.toMatchObject({ code: "INVALID_ARGUMENT", retryable: true });
    link.exit({ code: null, signal: null });
    const first = reconnectSession(s, reopener(1, new Link()), { timeoutMs: 5000, signal });
    await expect(reconnectSession(s, reopener(0, new Link()), { timeoutMs: 1000, signal })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect((await first).reconnected).toBe(true);
    await s.close();
    await expect(reconnectSession(s, reopener(0, new Link()), { timeoutMs: 1000, signal })).rejects.toMatchObject({ code: "SESSION_CLOSED" });
  });

  test("gapLine says when the link ended and came back", () => {
    expect(gapLine("root@h:22", new Date("2026-12-01T10:00:00.000Z"), new Date("2026-12-01T10:00:07.250Z"), 3)).toBe(
      "[pty-mcp: link to root@h:22 ended 2026-12-01T10:00:00.000Z, reconnected 2026-12-01T10:00:07.250Z (down 7.3 s, 3 attempts); a new shell follows]",
    );
  });
});
