// send_secret and prepare_secret through the compiled binary, driven by the MCP SDK client as an
// agent would, with PTY_MCP_SECRET_COMMAND standing in for the human. Every result, the log file,
// the recording and the audit log are searched for the secret afterwards.
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyChainFile } from "../src/audit/chain";
import { McpHarness } from "./harness/mcp";
import { startFakeSwitch, startSocatPair } from "./harness/socat";

/** dash with a fixed prompt: a plain shell prompt with the terminal's echo on. */
const plainSh = { command: "sh", env: { PS1: "$ ", ENV: "" } };


// Real processes on a shared 2-core machine.
setDefaultTimeout(60_000);
const SECRET = "S3cr3t-pa55 wörd";
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Env {
  dir: string;
  env: Record<string, string>;
}

/** A HOME whose config sends audit entries to a local file; the "human" answers from a file (so the secret is in no environment). */
function setup(secretCommand?: string): Env {
  const dir = mkdtempSync(join(tmpdir(), "pty-mcp-secret-e2e-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "secret"), `${SECRET}\n`, { mode: 0o600 });
  mkdirSync(join(dir, ".config", "pty-mcp"), { recursive: true });
  writeFileSync(join(dir, ".config", "pty-mcp", "config"), `audit-log=${join(dir, "audit.jsonl")}\naudit-user=tester\n`, { mode: 0o600 });
  return {
    dir,
    env: {
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, ".config"),
      PTY_MCP_SECRET_COMMAND: secretCommand ?? `cat ${join(dir, "secret")}`,
    },
  };
}

/** The harness, recording every result text it sees. */
async function start(env: Record<string, string>): Promise<{ mcp: McpHarness; results: string[]; call: McpHarness["call"] }> {
  const mcp = await McpHarness.start({ env });
  cleanups.push(() => mcp.close());
  const results: string[] = [];
  const call: McpHarness["call"] = async (name, args, options) => {
    const raw = await mcp.callRaw(name, args, options);
    results.push(JSON.stringify(raw));
    if (raw.isError) throw new Error(`${name} failed: ${JSON.stringify(raw.content)}`);
    return raw.structuredContent as never;
  };
  return { mcp, results, call };
}

describe("send_secret end to end", () => {
  test("send_secret: read -s gets the secret; an echo of it is *** in results, log file, recording and audit", async () => {
    const { dir, env } = setup();
    const { mcp, results, call } = await start(env);
    const log = join(dir, "session.log");
    const cast = join(dir, "session.cast");
    // The program prints what it read: the device that echoes a password, where redaction is the last defense.
    const script = 'read -s -p "Password: " p; echo; echo "got ${#p}"; echo "you typed $p"; read -p "done? " q';
    const created = await call<{ session_id: string }>("create_local_session", { command: `bash -c '${script}'`, log_file: log, record: cast });
    const id = created.session_id;
    expect(await call("read_output", { session_id: id, wait_for: "Password:", timeout: 10 })).toMatchObject({ matched: true });
    expect(await call("get_session_state", { session_id: id })).toMatchObject({ state: "password_prompt", echo_off: true, awaiting_secret: false });

    expect(await call("send_secret", { session_id: id })).toEqual({ success: true, length: 16 });
    const got = await call<{ match_line: string; context: string }>("read_output", { session_id: id, wait_for: "done\\?", timeout: 10, context_lines: 2 });
    expect(got.context).toBe("got 16\nyou typed ***\ndone? ");
    const screen = await call<{ lines: string[] }>("read_screen", { session_id: id });
    expect(screen.lines.filter((line) => line !== "")).toEqual(["Password: ", "got 16", "you typed ***", "done? "]);
    await call("send_input", { session_id: id, input: "yes", timeout_ms: 3000 });
    await call("close_session", { session_id: id });
    await mcp.close();

    const files = { log: readFileSync(log, "utf8"), cast: readFileSync(cast, "utf8"), audit: readFileSync(join(dir, "audit.jsonl"), "utf8"), stderr: mcp.stderr };
    for (const [name, text] of Object.entries({ ...files, results: results.join("\n") })) {
      expect({ name, leaked: text.includes("S3cr3t") }).toEqual({ name, leaked: false });
    }
    expect(files.log).toContain("you typed ***");
    expect(files.cast).toContain("you typed ***");
    const entries = files.audit.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries.map((e) => [e.event, e.cmd ?? e.key ?? null])).toEqual([
      ["create", null],
      ["secret", null],
      ["input", "yes"],
      ["output", null],
      ["close", null],
    ]);
    expect(await verifyChainFile(join(dir, "audit.jsonl"))).toEqual({ ok: true, entries: 5 });
  });

  test("send_secret: refused at a plain shell prompt, and the human is not even asked", async () => {
    const { dir, env } = setup();
    const asked = join(dir, "asked");
    const { call, mcp } = await start({ ...env, ...plainSh.env, PTY_MCP_SECRET_COMMAND: `touch ${asked}; cat ${join(dir, "secret")}` });
    const { session_id } = await call<{ session_id: string }>("create_local_session", { command: plainSh.command, env: plainSh.env });
    await call("read_output", { session_id, wait_for: "\\$ $", timeout: 10 });
    const started = performance.now();
    expect(await mcp.callError("send_secret", { session_id })).toEqual({
      code: "INVALID_ARGUMENT",
      message:
        `Refusing to type a secret: session ${session_id} is not at a password prompt (at_prompt "$", terminal echo on). ` +
        "A secret typed there would be shown and could be kept in history. Run the command that asks for it first (e.g. sudo true, ssh, enable) " +
        "and call send_secret when get_session_state says password_prompt, or use prepare_secret before that command.",
      retryable: false,
    });
    // It gave a prompt that might appear a moment to show up.
    expect(performance.now() - started).toBeGreaterThanOrEqual(1900);
    expect(existsSync(asked)).toBe(false);
  });

  test("send_secret: a bad line_ending is refused before anyone is asked", async () => {
    const { dir, env } = setup();
    const asked = join(dir, "asked");
    const { call, mcp } = await start({ ...env, PTY_MCP_SECRET_COMMAND: `touch ${asked}; cat ${join(dir, "secret")}` });
    const { session_id } = await call<{ session_id: string }>("create_local_session", { command: `bash -c 'read -s -p "PIN: " p; echo ok'` });
    expect(await mcp.callError("send_secret", { session_id, line_ending: "enter" })).toEqual({
      code: "INVALID_ARGUMENT",
      message: 'line_ending must be cr, lf, crlf or none (or "\\r", "\\n", "\\r\\n", ""), got "enter".',
      retryable: false,
    });
    expect(existsSync(asked)).toBe(false);
  });

  test("prepare_secret: a prompt that appears a second later gets the secret by itself, once", async () => {
    const { dir, env } = setup();
    const { call } = await start(env);
    const script = 'sleep 1; read -s -p "Password: " p; echo; echo "got ${#p}"; read -s -p "Again: " q; echo; echo "again ${#q}"';
    const { session_id } = await call<{ session_id: string }>("create_local_session", { command: `bash -c '${script}'` });
    expect(await call("prepare_secret", { session_id })).toEqual({ success: true, length: 16 });
    expect(await call("get_session_state", { session_id })).toMatchObject({ awaiting_secret: true });
    expect(await call("read_output", { session_id, wait_for: "^got \\d+", timeout: 10 })).toMatchObject({ matched: true, match_line: "got 16" });
    // The second echo-off prompt gets nothing: a prepared secret is typed once.
    expect(await call("read_output", { session_id, wait_for: "again", timeout: 1.5 })).toMatchObject({ matched: false, timed_out: true });
    expect(await call("get_session_state", { session_id })).toMatchObject({ state: "password_prompt", awaiting_secret: false });
    const audit = readFileSync(join(dir, "audit.jsonl"), "utf8");
    expect(audit.includes("S3cr3t")).toBe(false);
    expect(audit.split("\n").filter((line) => line.includes('"event":"secret"')).length).toBe(1);
  });

  test("send_secret: a prompt seen only in the terminal flags (getpass, \"Geheimzahl eingeben\", no password word) is a password_prompt with echo_off; the secret is accepted", async () => {
    const { dir, env } = setup();
    const { mcp, results, call } = await start(env);
    const py = 'import getpass\np = getpass.getpass("Geheimzahl eingeben: ")\nprint("Laenge", len(p))\nprint("Eingabe", p)\ninput("fertig? ")\n';
    writeFileSync(join(dir, "pin.py"), py);
    const { session_id } = await call<{ session_id: string }>("create_local_session", { command: `python3 ${join(dir, "pin.py")}` });
    expect(await call("read_output", { session_id, wait_for: "Geheimzahl eingeben:", timeout: 10 })).toMatchObject({ matched: true });
    // Only the flags say so (getpass turns echo off before it writes the prompt): canonical mode on, echo off.
    expect(await call("get_session_state", { session_id })).toMatchObject({ state: "password_prompt", echo_off: true, last_prompt: "Geheimzahl eingeben:" });
    expect(await call("send_secret", { session_id })).toEqual({ success: true, length: 16 });
    const got = await call<{ context: string }>("read_output", { session_id, wait_for: "fertig\\?", timeout: 10, context_lines: 2 });
    expect(got.context).toBe("Laenge 16\nEingabe ***\nfertig? ");
    // Back at input() with echo on: no secret goes there.
    expect(await call("get_session_state", { session_id })).toMatchObject({ echo_off: false });
    await call("close_session", { session_id });
    await mcp.close();
    for (const [name, text] of Object.entries({ results: results.join("\n"), audit: readFileSync(join(dir, "audit.jsonl"), "utf8"), stderr: mcp.stderr })) {
      expect({ name, leaked: text.includes("S3cr3t") }).toEqual({ name, leaked: false });
    }
  });

  test("send_secret: still *** in read_output from cursor 0 after the program exited, until close_session", async () => {
    const { dir, env } = setup();
    const { mcp, results, call } = await start(env);
    const script = 'read -s -p "Password: " p; echo; echo "you typed $p"; exit 3';
    const { session_id } = await call<{ session_id: string }>("create_local_session", { command: `bash -c '${script}'` });
    expect(await call("read_output", { session_id, wait_for: "Password:", timeout: 10 })).toMatchObject({ matched: true });
    expect(await call("send_secret", { session_id })).toEqual({ success: true, length: 16 });
    // Waits for the exit: the pattern never appears.
    expect(await call("read_output", { session_id, wait_for: "never printed", timeout: 10 })).toMatchObject({ matched: false, is_alive: false, exit_code: 3 });
    expect(await call("get_session_state", { session_id })).toMatchObject({ is_alive: false, exit_code: 3 });
    const again = await call<{ output: string }>("read_output", { session_id, since_cursor: 0 });
    expect(again.output).toBe("Password: \nyou typed ***\n");
    const screen = await call<{ lines: string[] }>("read_screen", { session_id });
    expect(screen.lines.filter((line) => line !== "")).toEqual(["Password: ", "you typed ***"]);
    await call("close_session", { session_id });
    await mcp.close();
    expect(results.join("\n").includes("S3cr3t")).toBe(false);
    const entries = readFileSync(join(dir, "audit.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    // One close entry, at the exit; close_session afterwards adds none.
    expect(entries.map((e) => [e.event, e.reason ?? null, e.exit_code ?? null])).toEqual([
      ["create", null, null],
      ["secret", null, null],
      ["close", "program exited", 3],
    ]);
  });

  test("prepare_secret on a serial console: the fake switch asks for the password after the login name; it is typed once, the switch logs in; the secret is nowhere", async () => {
    const SWITCH_SECRET = "Sw1tch-S3cret-42";
    const { dir, env } = setup();
    writeFileSync(join(dir, "switch-secret"), `${SWITCH_SECRET}\n`, { mode: 0o600 });
    const { mcp, results, call } = await start({ ...env, PTY_MCP_SECRET_COMMAND: `cat ${join(dir, "switch-secret")}` });
    const pair = await startSocatPair();
    cleanups.push(async () => {
      await pair[Symbol.asyncDispose]();
    });
    const sw = await startFakeSwitch(pair.b, ["--password", SWITCH_SECRET]);
    cleanups.push(async () => {
      await sw[Symbol.asyncDispose]();
    });
    const log = join(dir, "console.log");
    const cast = join(dir, "console.cast");
    const { session_id } = await call<{ session_id: string }>("create_serial_session", { device: pair.a, log_file: log, record: cast });

    expect(await call("prepare_secret", { session_id, prompt: "console password for admin" })).toEqual({ success: true, length: 16 });
    expect(await call("get_session_state", { session_id })).toMatchObject({ awaiting_secret: true });
    expect(await call("send_input", { session_id, input: "", wait_for: "Username: $" })).toMatchObject({ matched: true });
    // The switch asks for the password; the prepared secret answers it by itself.
    expect(await call("send_input", { session_id, input: "admin", wait_for: "^Router>$" })).toMatchObject({ matched: true, match_line: "Router>" });
    expect(await call("get_session_state", { session_id })).toMatchObject({ state: "at_prompt", awaiting_secret: false });
    // The next password prompt (enable) gets nothing: typed once.
    expect(await call("send_input", { session_id, input: "enable", wait_for: "Router#", wait_for_timeout: 1.5 })).toMatchObject({ matched: false, timed_out: true });
    expect(await call("get_session_state", { session_id })).toMatchObject({ state: "password_prompt", awaiting_secret: false });
    await call("close_session", { session_id });
    await mcp.close();

    const files = { log: readFileSync(log, "utf8"), cast: readFileSync(cast, "utf8"), audit: readFileSync(join(dir, "audit.jsonl"), "utf8"), stderr: mcp.stderr };
    for (const [name, text] of Object.entries({ ...files, results: results.join("\n") })) {
      expect({ name, leaked: text.includes("Sw1tch") }).toEqual({ name, leaked: false });
    }
    expect(files.log).toContain("User Access Verification");
    expect(files.log).toContain("Router>");
    const entries = files.audit.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries.filter((e) => e.event !== "output").map((e) => [e.event, e.cmd ?? null])).toEqual([
      ["create", null],
      ["input", ""],
      ["input", "admin"],
      ["secret", null],
      ["input", "enable"],
      ["close", null],
    ]);
    expect(await verifyChainFile(join(dir, "audit.jsonl"))).toEqual({ ok: true, entries: entries.length });
  });
});
