// How long a typed secret stays redacted: from the moment the human entered it until the session
// is closed (not merely until its program exits: the output stays readable until close_session).
// Session.onClose, and the audit entries for close and detach, against a scripted transport.
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { attachAudit } from "../src/audit/attach.ts";
import { AuditLog } from "../src/audit/audit-log.ts";
import { heldSecrets } from "../src/secrets/held-secrets.ts";
import { sendSecret } from "../src/secrets/secret-input.ts";
import { SessionRegistry } from "../src/session/registry.ts";
import type { Session, SessionClose } from "../src/session/session.ts";
import { memorySession, MemoryTransport } from "./harness/memory-transport.ts";

setDefaultTimeout(30_000);
const SECRET = "Lifetime-S3cret";
const dec = new TextDecoder();

let dir: string;
const savedCommand = process.env.PTY_MCP_SECRET_COMMAND;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pty-mcp-secret-life-"));
  writeFileSync(join(dir, "secret"), `${SECRET}\n`, { mode: 0o600 });
  process.env.PTY_MCP_SECRET_COMMAND = `cat ${join(dir, "secret")}`;
});
afterAll(() => {
  if (savedCommand === undefined) delete process.env.PTY_MCP_SECRET_COMMAND;
  else process.env.PTY_MCP_SECRET_COMMAND = savedCommand;
  rmSync(dir, { recursive: true, force: true });
});
const sessions: Session[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
});

/** A device stand-in: prints what the test says; echoes what is typed (the worst case for a secret). */
function newDevice(): MemoryTransport {
  const device = new MemoryTransport((text) => `\r\nyou typed ${text.trimEnd()}\r\n`);
  device.closeExit = undefined; // says nothing on close
  return device;
}

function open(transport: MemoryTransport, registry?: SessionRegistry): Session {
  const session = memorySession(transport, {
    id: `serial-${sessions.length}`,
    description: { type: "serial", target: "/dev/ttyFAKE", settings: { baud_rate: 9600, data_bits: 8, parity: "none", stop_bits: 1, flow_control: "none" }, line_ending: "\r" },
  });
  sessions.push(session);
  registry?.add(session);
  return session;
}

const all = (s: Session) => heldSecrets.redactText(dec.decode(s.buffer.read(s.buffer.start).bytes));

describe("secret lifetime", () => {
  test("a typed secret stays redacted after the program exited, until the session is closed; then it is released", async () => {
    const device = newDevice();
    const session = open(device);
    device.print("Password: ");
    expect(await sendSecret(session, { lineEnding: "\r" })).toBe(SECRET.length);
    await session.waitFor({ waitFor: "you typed", from: 0, timeoutMs: 5000 });
    expect(all(session)).toBe("Password: \r\nyou typed ***\r\n");
    expect(heldSecrets.size).toBe(1);

    device.exit();
    expect(session.isAlive).toBe(false);
    // The program is gone but its output can still be read: the secret is still held.
    expect(all(session)).toBe("Password: \r\nyou typed ***\r\n");
    expect(heldSecrets.redactText(`x ${SECRET} y`)).toBe("x *** y");

    await session.close();
    expect(heldSecrets.size).toBe(0);
    expect(heldSecrets.redactText(`x ${SECRET} y`)).toBe(`x ${SECRET} y`);
  });

  test("onClose fires once, after close(); detached when the program goes on elsewhere", async () => {
    const closed: SessionClose[] = [];
    const a = open(newDevice());
    a.onClose((event) => closed.push(event));
    await a.close();
    await a.close();
    expect(closed).toEqual([{ detached: false }]);

    const b = open(newDevice());
    b.onClose((event) => closed.push(event));
    await b.close({ detached: true });
    expect(closed).toEqual([{ detached: false }, { detached: true }]);
  });
});

describe("audit of a session's end", () => {
  async function audited(run: (registry: SessionRegistry) => Promise<void>): Promise<Record<string, unknown>[]> {
    const file = join(dir, `audit-${Math.random().toString(16).slice(2)}.jsonl`);
    const audit = new AuditLog({ mode: "best-effort", user: "tester", logPath: file });
    const registry = new SessionRegistry();
    attachAudit(registry, audit);
    await run(registry);
    await audit.close();
    return readFileSync(file, "utf8").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
  }
  const summary = (entries: Record<string, unknown>[]) => entries.map((e) => [e.event, e.session_id, e.reason ?? null, e.exit_code ?? null]);

  test("detach: one detach entry, no close (the program goes on in the daemon)", async () => {
    const entries = await audited(async (registry) => {
      const session = open(newDevice(), registry);
      registry.remove(session.id);
      await session.close({ detached: true });
    });
    expect(summary(entries)).toEqual([
      ["create", "serial-0", null, null],
      ["detach", "serial-0", "detached; the program keeps running in the daemon", null],
    ]);
    expect(entries[1]).toMatchObject({ type: "serial", target: "/dev/ttyFAKE", user: "tester" });
  });

  test("close: once, whether the transport reports an exit on close, the program exited before, or close ends it without an exit", async () => {
    const entries = await audited(async (registry) => {
      // 1. close_session while the program runs; this transport says nothing on close.
      const quiet = open(newDevice(), registry);
      await registry.close(quiet.id);
      // 2. The program exits by itself, then close_session: the exit is the one close entry.
      const device = newDevice();
      const exited = open(device, registry);
      device.exit();
      await registry.close(exited.id);
      // 3. A transport that reports its exit when closed.
      const reporting = newDevice();
      reporting.closeExit = { code: null, signal: "SIGHUP" };
      const hup = open(reporting, registry);
      await registry.close(hup.id);
    });
    expect(summary(entries)).toEqual([
      ["create", "serial-0", null, null],
      ["close", "serial-0", "close_session", null],
      ["create", "serial-1", null, null],
      ["close", "serial-1", "program exited", 0],
      ["create", "serial-2", null, null],
      ["close", "serial-2", "close_session", null],
    ]);
  });
});
