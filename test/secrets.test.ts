// askSecret for real, each call in a process of its own (test/fixtures/ask-secret.ts) started
// with setsid (no controlling terminal) or under script(1) (a real one): the configured command,
// zenity/kdialog stand-ins on PATH, /dev/tty with echo off, and the error when nothing works.
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";


// Real processes on a shared 2-core machine.
setDefaultTimeout(30_000);
const fixture = join(import.meta.dir, "fixtures", "ask-secret.ts");
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Setup {
  dir: string;
  bin: string;
  env: Record<string, string>;
}

/** A temp HOME with no config, and a bin dir first on PATH for stand-in dialogs. */
function setup(): Setup {
  const dir = mkdtempSync(join(tmpdir(), "pty-mcp-secret-"));
  dirs.push(dir);
  const bin = join(dir, "bin");
  mkdirSync(bin);
  return { dir, bin, env: { HOME: dir, PATH: `${bin}:/usr/bin:/bin`, ASK_SECRET_RESULT: join(dir, "result.json") } };
}

function script(path: string, body: string): string {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

type Result = { ok: true; text: string; length: number; tty_echo?: boolean } | { ok: false; code: string; message: string; tty_echo?: boolean };

/** Runs the fixture without a controlling terminal. */
async function ask(s: Setup, prompt: string, env: Record<string, string> = {}): Promise<Result> {
  const proc = Bun.spawn(["setsid", "-w", process.execPath, fixture, prompt], { env: { ...s.env, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`fixture exited ${code}: ${stderr}`);
  return JSON.parse(readFileSync(s.env.ASK_SECRET_RESULT ?? "", "utf8")) as Result;
}

/** As ask(), and what the fixture (so askSecret) wrote to stderr. */
async function askWithStderr(s: Setup, prompt: string, env: Record<string, string> = {}): Promise<{ result: Result; stderr: string }> {
  const proc = Bun.spawn(["setsid", "-w", process.execPath, fixture, prompt], { env: { ...s.env, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`fixture exited ${code}: ${stderr}`);
  return { result: JSON.parse(readFileSync(s.env.ASK_SECRET_RESULT ?? "", "utf8")) as Result, stderr };
}

describe("askSecret", () => {
  test("PTY_MCP_SECRET_COMMAND: its stdout is the secret, one trailing newline stripped", async () => {
    const s = setup();
    const result = await ask(s, "Password:", { PTY_MCP_SECRET_COMMAND: "printf 'hunter2 with spaces\\n\\n'" });
    expect(result).toEqual({ ok: true, text: "hunter2 with spaces\n", length: 20 });
  });

  test("PTY_MCP_SECRET_COMMAND: the prompt arrives in PTY_MCP_SECRET_PROMPT, never in argv; $(…) and `…` in it run nothing", async () => {
    const s = setup();
    const marker = join(s.dir, "pwned");
    const prompt = `Password for $(touch ${marker}) \`touch ${marker}2\` '; touch ${marker}3':`;
    const helper = script(
      join(s.bin, "lookup"),
      [
        `printf '%s' "$PTY_MCP_SECRET_PROMPT" > ${s.dir}/prompt`,
        // Our argv and the argv of the /bin/sh -c that runs us.
        `tr '\\0' ' ' < /proc/$$/cmdline > ${s.dir}/argv`,
        `tr '\\0' ' ' < /proc/$PPID/cmdline >> ${s.dir}/argv`,
        "printf 'from-manager\\n'",
      ].join("\n"),
    );
    const result = await ask(s, prompt, { PTY_MCP_SECRET_COMMAND: `${helper} --item sw1` });
    expect(result).toEqual({ ok: true, text: "from-manager", length: 12 });
    expect(readFileSync(join(s.dir, "prompt"), "utf8")).toBe(prompt);
    expect(readFileSync(join(s.dir, "argv"), "utf8")).toBe(`/bin/sh ${helper} --item sw1 /bin/sh -c ${helper} --item sw1 `);
    expect([existsSync(marker), existsSync(`${marker}2`), existsSync(`${marker}3`)]).toEqual([false, false, false]);
  });

  test("PTY_MCP_SECRET_COMMAND: control characters in the prompt become spaces", async () => {
    const s = setup();
    const result = await ask(s, "Pass\x1b[2J\nword:\x07", { PTY_MCP_SECRET_COMMAND: `printf '%s' "$PTY_MCP_SECRET_PROMPT"` });
    expect(result).toEqual({ ok: true, text: "Pass [2J word:", length: 14 });
  });

  test("PTY_MCP_SECRET_COMMAND: a failure is final; the agent gets our message only, the helper's stderr goes to our log (stderr)", async () => {
    const s = setup();
    script(join(s.bin, "zenity"), "printf 'should-not-be-asked'");
    const { result, stderr } = await askWithStderr(s, "Password:", {
      PTY_MCP_SECRET_COMMAND: "echo 'looking up…' >&2; echo 'pass: entry sw1 not found, token=tk-5ecret' >&2; exit 3",
      DISPLAY: ":99",
    });
    expect({ result, logged: stderr.includes("looking up…\npass: entry sw1 not found, token=tk-5ecret\n") }).toEqual({
      result: {
        ok: false,
        code: "INVALID_ARGUMENT",
        message: "The secret command (PTY_MCP_SECRET_COMMAND) failed with exit 3; its error output is in pty-mcp's log (stderr). Nothing was typed.",
      },
      logged: true,
    });
  });

  test("secret-command from the config file when the variable is unset", async () => {
    const s = setup();
    mkdirSync(join(s.dir, ".config", "pty-mcp"), { recursive: true });
    writeFileSync(join(s.dir, ".config", "pty-mcp", "config"), "secret-command=printf 'from-config'\n", { mode: 0o600 });
    expect(await ask(s, "Password:")).toEqual({ ok: true, text: "from-config", length: 11 });
  });

  test("zenity with a display: --password --no-markup, the prompt as a plain argv title", async () => {
    const s = setup();
    script(join(s.bin, "zenity"), `for a in "$@"; do printf '%s\\n' "$a"; done > ${s.dir}/args\nprintf 'zen secret\\n'`);
    const result = await ask(s, "Password for <b>sw1</b>:", { DISPLAY: ":99" });
    expect(result).toEqual({ ok: true, text: "zen secret", length: 10 });
    expect(readFileSync(join(s.dir, "args"), "utf8")).toBe("--password\n--no-markup\n--title=Password for <b>sw1</b>:\n");
  });

  test("zenity cancelled (exit 1): an error, and no other method is tried", async () => {
    const s = setup();
    script(join(s.bin, "zenity"), "exit 1");
    script(join(s.bin, "kdialog"), "printf 'should-not-be-asked'");
    expect(await ask(s, "Password:", { WAYLAND_DISPLAY: "wayland-0" })).toEqual({
      ok: false,
      code: "INVALID_ARGUMENT",
      message: "The secret prompt was cancelled (zenity). Nothing was typed.",
    });
  });

  test("zenity that cannot open the display falls through to kdialog", async () => {
    const s = setup();
    script(join(s.bin, "zenity"), "echo 'cannot open display: :99' >&2; exit 255");
    script(join(s.bin, "kdialog"), `for a in "$@"; do printf '%s\\n' "$a"; done > ${s.dir}/args\nprintf 'kd-secret'`);
    const result = await ask(s, "Password for sw1:", { DISPLAY: ":99" });
    expect(result).toEqual({ ok: true, text: "kd-secret", length: 9 });
    expect(readFileSync(join(s.dir, "args"), "utf8")).toBe("--title\npty-mcp\n--password\nPassword for sw1:\n");
  });

  test("nothing available: the error lists every method and why it did not work", async () => {
    const s = setup();
    script(join(s.bin, "zenity"), "echo 'cannot open display: :99' >&2; exit 255");
    const withDisplay = await ask(s, "Password:", { DISPLAY: ":99" });
    expect(withDisplay).toEqual({
      ok: false,
      code: "INVALID_ARGUMENT",
      message:
        "No way to ask the human for a secret here (tried PTY_MCP_SECRET_COMMAND: not set; osascript: not macOS; WSL2 Get-Credential: not WSL; " +
        "zenity: zenity failed (exit 255: cannot open display: :99); kdialog: kdialog not found; /dev/tty: no controlling terminal). " +
        "Set PTY_MCP_SECRET_COMMAND in the MCP server's environment to a command that prints the secret (it gets the prompt in $PTY_MCP_SECRET_PROMPT), " +
        "or run pty-mcp where a dialog or terminal is available.",
    });
    const bare = await ask(s, "Password:");
    expect(bare.ok === false && bare.message.split(". Set")[0]).toBe(
      "No way to ask the human for a secret here (tried PTY_MCP_SECRET_COMMAND: not set; osascript: not macOS; WSL2 Get-Credential: not WSL; " +
        "zenity: no DISPLAY or WAYLAND_DISPLAY; kdialog: no DISPLAY or WAYLAND_DISPLAY; /dev/tty: no controlling terminal)",
    );
  });
});

/** The fixture on a real terminal: script(1) gives it a pty; what we write to script's stdin is typed there. */
async function askOnTerminal(s: Setup, env: Record<string, string>, typed: string | undefined) {
  const command = `${process.execPath} ${fixture} 'Password for sw1:'`;
  const proc = Bun.spawn(["script", "-qfec", command, "/dev/null"], {
    env: { ...s.env, ASK_SECRET_REPORT_TTY: "1", ...env },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  let transcript = "";
  const decoder = new TextDecoder();
  const reader = proc.stdout.getReader();
  const prompted = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      transcript += decoder.decode(value, { stream: true });
      if (transcript.includes("Password for sw1: ")) return;
    }
  })();
  await prompted;
  if (typed !== undefined) {
    proc.stdin.write(typed);
    await proc.stdin.flush();
  }
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    transcript += decoder.decode(value, { stream: true });
  }
  await proc.stdin.end();
  const code = await proc.exited;
  return { code, transcript, result: JSON.parse(readFileSync(s.env.ASK_SECRET_RESULT ?? "", "utf8")) as Result };
}

describe("askSecret on /dev/tty", () => {
  test("/dev/tty: the typed secret is read with echo off and never shown; echo is restored", async () => {
    const s = setup();
    const { code, transcript, result } = await askOnTerminal(s, {}, "tty s3cret!\r");
    expect(code).toBe(0);
    expect(result).toEqual({ ok: true, text: "tty s3cret!", length: 11, tty_echo: true });
    expect(transcript.includes("s3cret")).toBe(false);
    expect(transcript).toContain("Password for sw1: ");
  });

  test("/dev/tty: nobody answers in time: a clear error, and echo is restored", async () => {
    const s = setup();
    const { result } = await askOnTerminal(s, { ASK_SECRET_TIMEOUT_MS: "700" }, undefined);
    expect(result).toEqual({ ok: false, code: "INVALID_ARGUMENT", message: "Nobody answered the secret prompt in time. Nothing was typed.", tty_echo: true });
  });
});
