// Secrets in persistent sessions (issue #21 item 1) and where send_secret types (item 2), through
// the compiled binary. The program prints what it read (a device that echoes a password): the
// daemon must redact it from its buffer, log file and recording, every mirror, and a server
// that reattaches later — for the session's life.
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanupDaemons, runtimeDir, server } from "./harness/daemon.ts";
import { McpHarness } from "./harness/mcp.ts";

setDefaultTimeout(90_000);
const SECRET = "Pers1stent-s3cret-42";
const dirs: string[] = [];
afterEach(async () => {
  await cleanupDaemons();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

type Json = Record<string, unknown>;

function secretDir(): string {
  const dir = mkdtempSync(join(tmpdir(), `pty-mcp-secret-persistent-${process.pid}-`));
  dirs.push(dir);
  writeFileSync(join(dir, "secret"), `${SECRET}\n`, { mode: 0o600 });
  return dir;
}

describe("secrets in persistent sessions", () => {
  test("send_secret into a persistent session: *** in the daemon's log file and recording, in the mirror, and after a new server reattaches", async () => {
    const dir = secretDir();
    const rt = runtimeDir();
    const h1 = await server(rt, { PTY_MCP_SECRET_COMMAND: `cat ${join(dir, "secret")}` });
    const log = join(dir, "session.log");
    const cast = join(dir, "session.cast");
    const script = 'read -s -p "Password: " p; echo; echo "you typed $p"; echo "again: $p"; sleep 600';
    const s = await h1.call<Json>("create_local_session", { command: `bash -c '${script}'`, persistent: true, log_file: log, record: cast });
    const id = s.session_id as string;
    expect(await h1.call("read_output", { session_id: id, wait_for: "Password:", timeout: 20 })).toMatchObject({ matched: true });
    expect(await h1.call("send_secret", { session_id: id })).toEqual({ success: true, length: SECRET.length });
    expect(await h1.call("read_output", { session_id: id, wait_for: "^again:", timeout: 20 })).toMatchObject({ matched: true });
    const mirror = await h1.call<Json>("read_output", { session_id: id, since_cursor: 0 });
    await h1.close();

    // A new server knows no secret: only the daemon's buffer can keep it out.
    const h2 = await server(rt);
    await h2.call("create_local_session", { session_id: id });
    const reattached = await h2.call<Json>("read_output", { session_id: id, since_cursor: 0 });
    const screen = await h2.call<{ lines: string[] }>("read_screen", { session_id: id });
    await h2.call("close_session", { session_id: id });
    const files = { log: readFileSync(log, "utf8"), cast: readFileSync(cast, "utf8") };
    expect({
      mirror: mirror.output,
      reattached: reattached.output,
      screen: screen.lines.filter((line) => line !== ""),
      logLeaks: files.log.includes("s3cret"),
      castLeaks: files.cast.includes("s3cret"),
      logRedacted: files.log.includes("you typed ***"),
      castRedacted: files.cast.includes("you typed ***"),
    }).toEqual({
      mirror: "Password: \nyou typed ***\nagain: ***\n",
      reattached: "Password: \nyou typed ***\nagain: ***\n",
      screen: ["Password: ", "you typed ***", "again: ***"],
      logLeaks: false,
      castLeaks: false,
      logRedacted: true,
      castRedacted: true,
    });
  });
});

describe("send_secret only where the secret is not shown", () => {
  test("a shell whose PS1 is 'Password: ' is not a password prompt: send_secret refuses, nothing typed, no history", async () => {
    const dir = secretDir();
    const h = await McpHarness.start({ env: { PTY_MCP_SECRET_COMMAND: `cat ${join(dir, "secret")}`, HOME: dir, HISTFILE: join(dir, "history") } });
    try {
      const s = await h.call<Json>("create_local_session", { command: "bash --norc --noprofile", env: { PS1: "Password: ", PROMPT_COMMAND: "", HISTFILE: join(dir, "history") } });
      const id = s.session_id as string;
      await h.call("read_output", { session_id: id, wait_for: "Password: $", timeout: 10 });
      const refused = await h.callError("send_secret", { session_id: id });
      await h.call("send_input", { session_id: id, input: "history -w; echo done", wait_for: "^done$", timeout: 10 });
      const all = await h.call<Json>("read_output", { session_id: id, since_cursor: 0 });
      expect({
        code: refused.code,
        refusedAtPrompt: refused.message.startsWith(`Refusing to type a secret: session ${id} is at its shell prompt`),
        typed: (all.output as string).includes("command not found"),
        history: existsSync(join(dir, "history")) ? readFileSync(join(dir, "history"), "utf8").includes("Pers1stent") : false,
      }).toEqual({ code: "INVALID_ARGUMENT", refusedAtPrompt: true, typed: false, history: false });
    } finally {
      await h.close();
    }
  });

  test("a local program that prints 'Password: ' with echo on: flags are known, send_secret refuses (the secret would be shown)", async () => {
    const dir = secretDir();
    const h = await McpHarness.start({ env: { PTY_MCP_SECRET_COMMAND: `cat ${join(dir, "secret")}` } });
    try {
      const s = await h.call<Json>("create_local_session", { command: `bash -c 'read -p "Password: " p; echo "you typed $p"; sleep 60'` });
      const id = s.session_id as string;
      await h.call("read_output", { session_id: id, wait_for: "Password:", timeout: 10 });
      const refused = await h.callError("send_secret", { session_id: id });
      expect({ code: refused.code, echoOn: refused.message.includes("terminal echo on") }).toEqual({ code: "INVALID_ARGUMENT", echoOn: true });
    } finally {
      await h.close();
    }
  });
});
