// run_dialog end to end: the compiled binary driven by the MCP SDK client, the scripted Cisco-style
// console (test/fixtures/fake-switch-fixture.ts) on the far end of a socat pair, secrets from
// PTY_MCP_SECRET_COMMAND (standing in for the human), the audit trail in a local JSONL file, and
// local bash sessions for an ssh-style branch and an echo that holds the next pattern.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { showVersion } from "./fixtures/fake-switch-output.ts";
import { McpHarness, plainBash } from "./harness/mcp.ts";
import { startFakeSwitch, startSocatPair } from "./harness/socat.ts";

type Result = Record<string, unknown>;
const SECRET = "Sw1tch-S3cret";
const any = expect.any(Number);

let h: McpHarness;
let dir: string;
const cleanups: (() => PromiseLike<unknown> | unknown)[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), `pty-mcp-dialog-${process.pid}-`));
  writeFileSync(join(dir, "secret"), `${SECRET}\n`, { mode: 0o600 });
  mkdirSync(join(dir, ".config", "pty-mcp"), { recursive: true });
  writeFileSync(join(dir, ".config", "pty-mcp", "config"), `audit-log=${join(dir, "audit.jsonl")}\naudit-user=tester\n`, { mode: 0o600 });
  h = await McpHarness.start({
    env: { HOME: dir, XDG_CONFIG_HOME: join(dir, ".config"), PTY_MCP_SECRET_COMMAND: `cat ${join(dir, "secret")}`, ...plainBash.env },
  });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The fake switch (user admin, login and enable secret SECRET) behind a socat pair, and a serial session on it. */
async function switchConsole(): Promise<string> {
  const p = await startSocatPair();
  cleanups.push(() => p[Symbol.asyncDispose]());
  const sw = await startFakeSwitch(p.b, ["--password", SECRET, "--enable", SECRET]);
  cleanups.push(() => sw[Symbol.asyncDispose]());
  const created = await h.call<{ session_id: string }>("create_serial_session", { device: p.a });
  cleanups.push(() => h.callRaw("close_session", { session_id: created.session_id }));
  return created.session_id;
}

async function local(command: string): Promise<string> {
  const created = await h.call<{ session_id: string }>("create_local_session", { command });
  cleanups.push(() => h.callRaw("close_session", { session_id: created.session_id }));
  return created.session_id;
}

function auditOf(id: string): Result[] {
  return readFileSync(join(dir, "audit.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Result)
    .filter((e) => e.session_id === id && e.event !== "output" && e.event !== "create")
    .map((e) => {
      const picked: Result = { event: e.event };
      for (const k of ["cmd", "key", "raw"]) if (e[k] !== undefined) picked[k] = e[k];
      return picked;
    });
}

const loginSteps = [
  { expect: "Username:", send: "admin" },
  { expect: "Password:", secret: true },
  { expect: ">\\s*$", send: "enable" },
  { expect: "Password:", secret: true },
  { expect: "#\\s*$", send: "show version" },
  { expect: "uptime is" },
  { expect: "#\\s*$" },
  { expect: "% Login invalid", optional: true, timeout: 1 },
];

describe("run_dialog on a serial console", () => {
  test("run_dialog: login, password from the human, enable, show version in one call; every answer audited, the secrets never", async () => {
    const id = await switchConsole();
    // The console sleeps until RETURN; the dialog's first step sees the prompt already on screen.
    expect((await h.call("send_input", { session_id: id, input: "" })).output).toBe("\nUser Access Verification\n\nUsername: ");
    const progress: number[] = [];
    const r = await h.call("run_dialog", { session_id: id, steps: loginSteps }, { onprogress: (p) => progress.push(p.progress) });
    expect(r).toEqual({
      completed: true,
      steps: [
        { index: 0, matched: true, match_line: "Username: ", elapsed_ms: any },
        { index: 1, matched: true, match_line: "Password: ", elapsed_ms: any },
        { index: 2, matched: true, match_line: "Router>", elapsed_ms: any },
        { index: 3, matched: true, match_line: "Password: ", elapsed_ms: any },
        { index: 4, matched: true, match_line: "Router#", elapsed_ms: any },
        { index: 5, matched: true, match_line: "Router uptime is 3 weeks, 2 days, 4 hours, 12 minutes", elapsed_ms: any },
        { index: 6, matched: true, match_line: "Router#", elapsed_ms: any },
        { index: 7, matched: false, skipped: true, elapsed_ms: any },
      ],
      output: `Username: admin\nPassword: \n\nRouter>enable\nPassword: \nRouter#show version\n${showVersion("Router").join("\n")}\nRouter#`,
      cursor: any,
      cursor_start: any,
      state: "at_prompt",
      is_alive: true,
    });
    expect(progress.filter(Number.isInteger)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await h.call("get_session_state", { session_id: id })).cli_mode).toBe("enable");
    expect(auditOf(id)).toEqual([
      { event: "input", cmd: "" },
      { event: "input", cmd: "admin" },
      { event: "secret" },
      { event: "input", cmd: "enable" },
      { event: "secret" },
      { event: "input", cmd: "show version" },
    ]);
    expect(readFileSync(join(dir, "audit.jsonl"), "utf8")).not.toContain(SECRET);
  });

  test("run_dialog: a step that never comes fails the dialog, naming the step and what the console showed then", async () => {
    const id = await switchConsole();
    await h.call("send_input", { session_id: id, input: "" });
    const r = await h.call("run_dialog", {
      session_id: id,
      steps: [...loginSteps.slice(0, 4), { expect: "#\\s*$", send: "show versoin" }, { expect: "uptime is", timeout: 1 }, { expect: "#" }],
    });
    expect(r).toEqual({
      completed: false,
      failed_step: 5,
      steps: [
        { index: 0, matched: true, match_line: "Username: ", elapsed_ms: any },
        { index: 1, matched: true, match_line: "Password: ", elapsed_ms: any },
        { index: 2, matched: true, match_line: "Router>", elapsed_ms: any },
        { index: 3, matched: true, match_line: "Password: ", elapsed_ms: any },
        { index: 4, matched: true, match_line: "Router#", elapsed_ms: any },
        { index: 5, matched: false, elapsed_ms: any },
      ],
      output: "Username: admin\nPassword: \n\nRouter>enable\nPassword: \nRouter#show versoin\n       ^\n% Invalid input detected at '^' marker.\n\nRouter#",
      cursor: any,
      cursor_start: any,
      state: "at_prompt",
      is_alive: true,
      timed_out: true,
      tail: "Username: admin\nPassword: \n\nRouter>enable\nPassword: \nRouter#show versoin\n       ^\n% Invalid input detected at '^' marker.\n\nRouter#",
    });
  });

  test("run_dialog: a 2 MB answer and a lookahead pattern are refused before anything is typed", async () => {
    const id = await switchConsole();
    const before = (await h.call<{ cursor: number }>("get_session_state", { session_id: id })).cursor;
    expect(await h.callError("run_dialog", { session_id: id, steps: [{ expect: "Username:", send: "admin" }, { expect: "Password:", send: "x".repeat(2 * 1024 * 1024) }] })).toEqual({
      code: "INVALID_ARGUMENT",
      message: "steps[1].send is 2097153 bytes; the limit is 1048576 (1 MB). Nothing was typed. Copy large content as a file instead.",
      retryable: false,
    });
    expect(await h.callError("run_dialog", { session_id: id, steps: [{ expect: "Username:", send: "admin" }, { expect: "(?!x)y" }] })).toEqual({
      code: "REGEX_REJECTED",
      message:
        'steps[1].expect: wait_for "(?!x)y" uses lookaround or backreferences, which cannot be matched in linear time. ' +
        "Rewrite it without (?=, (?!, (?<=, (?<! or \\1 (RE2 syntax), or use a list of simpler patterns.",
      retryable: false,
    });
    expect((await h.call<{ cursor: number }>("get_session_state", { session_id: id })).cursor).toBe(before);
    expect(auditOf(id)).toEqual([]);
  });
});

describe("run_dialog on a local terminal", () => {
  test("run_dialog: an ssh-style first connection — (yes/no) or password answered by index, the same steps both times", async () => {
    // Like ssh: an unknown host asks (yes/no) first, a known one asks only the password (not echoed).
    const script = join(dir, "fake-ssh.sh");
    const known = join(dir, "known");
    writeFileSync(
      script,
      `if [ ! -f ${known} ]; then read -r -p "Are you sure you want to continue connecting (yes/no/[fingerprint])? " a; [ "$a" = yes ] && touch ${known}; fi\n` +
        `read -r -s -p "admin@sw1's password: " p; echo; [ "$p" = hunter2 ] && echo "Welcome to sw1" || echo "Permission denied"\nexec bash --norc --noprofile\n`,
    );
    chmodSync(script, 0o755);
    const steps = [
      { expect: ["\\(yes/no", "assword:"], send: ["yes", "hunter2"] },
      { expect: "assword:", send: "hunter2", optional: true },
      { expect: "^Welcome|^Permission denied" },
    ];
    const first = await h.call("run_dialog", { session_id: await local(`bash ${script}`), steps });
    expect([first.completed, first.steps]).toEqual([
      true,
      [
        { index: 0, matched: true, matched_index: 0, match_line: "Are you sure you want to continue connecting (yes/no/[fingerprint])? ", elapsed_ms: any },
        { index: 1, matched: true, match_line: "admin@sw1's password: ", elapsed_ms: any },
        { index: 2, matched: true, match_line: "Welcome to sw1", elapsed_ms: any },
      ],
    ]);
    const second = await h.call("run_dialog", { session_id: await local(`bash ${script}`), steps });
    expect([second.completed, second.steps]).toEqual([
      true,
      [
        { index: 0, matched: true, matched_index: 1, match_line: "admin@sw1's password: ", elapsed_ms: any },
        { index: 1, matched: false, skipped: true, elapsed_ms: any },
        { index: 2, matched: true, match_line: "Welcome to sw1", elapsed_ms: any },
      ],
    ]);
  });

  test("run_dialog: the echo of the dialog's own typing holds the next pattern and never matches it", async () => {
    const id = await local(plainBash.command);
    const r = await h.call("run_dialog", {
      session_id: id,
      steps: [{ expect: "\\$ $", send: "sleep 0.5; echo Finished" }, { expect: "Finished" }, { expect: "\\$ $", send: "echo second" }, { expect: "^second" }, { expect: "\\$ $" }],
    });
    expect([r.completed, r.steps]).toEqual([
      true,
      [
        { index: 0, matched: true, match_line: "$ ", elapsed_ms: any },
        { index: 1, matched: true, match_line: "Finished", elapsed_ms: any },
        { index: 2, matched: true, match_line: "$ ", elapsed_ms: any },
        { index: 3, matched: true, match_line: "second", elapsed_ms: any },
        { index: 4, matched: true, match_line: "$ ", elapsed_ms: any },
      ],
    ]);
    expect(r.output).toBe("$ sleep 0.5; echo Finished\nFinished\n$ echo second\nsecond\n$ ");
  });
});
