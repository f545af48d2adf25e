/**
 * Asks the human for a secret outside the agent's context (SPEC §3 send_secret),
 * trying in order:
 *  1. `PTY_MCP_SECRET_COMMAND` (or `secret-command` in the config file): a command
 *     line the user configured, e.g. a password-manager lookup, run by /bin/sh;
 *     the secret is its stdout. Its failure is final (no fallback to a dialog).
 *  2. macOS: an `osascript` dialog with a hidden answer.
 *  3. WSL2: Windows PowerShell `Get-Credential`.
 *  4. `zenity` or `kdialog` when DISPLAY or WAYLAND_DISPLAY is set.
 *  5. `/dev/tty` with echo off, when the server has a controlling terminal.
 *
 * The prompt (agent-supplied, so untrusted) never becomes code: it reaches every
 * helper in the environment variable PTY_MCP_SECRET_PROMPT, or as a plain argv
 * element where no shell or markup parser sees it; control characters are removed.
 * The secret comes back as bytes (one trailing newline stripped) so the caller
 * can zero them after use.
 */
import { sessionEnvironment } from "../child-env.ts";
import { readFileSync } from "node:fs";
import { type Env, readConfigFile } from "../config-file.ts";
import { PtyError, errorMessage } from "../errors.ts";

export interface AskSecretOptions {
  prompt: string;
  signal?: AbortSignal;
  env?: Env;
  platform?: NodeJS.Platform;
  /** How long the human has to answer (5 min). */
  timeoutMs?: number;
}

const MAX_SECRET_BYTES = 64 * 1024;
const PROMPT_VARIABLE = "PTY_MCP_SECRET_PROMPT";

type Outcome = { kind: "secret"; bytes: Uint8Array } | { kind: "cancelled" } | { kind: "unavailable"; reason: string };

interface Method {
  name: string;
  /** Why it cannot run here, or undefined when it can. */
  skip(): string | undefined;
  run(): Promise<Outcome>;
}

/** Printable text only: no ESC sequences for the terminal, no newlines to fake a second prompt. */
export function cleanPrompt(prompt: string): string {
  const clean = prompt.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ").trim();
  return (clean === "" ? "Password:" : clean).slice(0, 300);
}

interface HelperResult {
  code: number | null;
  stdout: Uint8Array;
  stderr: string;
}

/** Runs a helper with stdin closed; kills it on abort or timeout; stdout is collected as bytes and the pieces zeroed. */
async function runHelper(argv: string[], env: Env, signal: AbortSignal): Promise<HelperResult> {
  signal.throwIfAborted();
  const proc = Bun.spawn(argv, { env: { ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const kill = (): void => proc.kill("SIGTERM");
  signal.addEventListener("abort", kill, { once: true });
  try {
    const chunks: Uint8Array[] = [];
    let size = 0;
    let tooLarge = false;
    const stderrText = new Response(proc.stderr).text();
    for await (const chunk of proc.stdout) {
      size += chunk.length;
      if (size > MAX_SECRET_BYTES) {
        tooLarge = true;
        chunk.fill(0);
        kill();
        break;
      }
      chunks.push(chunk);
    }
    const code = await proc.exited;
    const stdout = new Uint8Array(tooLarge ? 0 : size);
    let offset = 0;
    for (const chunk of chunks) {
      if (!tooLarge) stdout.set(chunk, offset);
      offset += chunk.length;
      chunk.fill(0);
    }
    signal.throwIfAborted();
    if (tooLarge) return { code: null, stdout, stderr: `printed more than ${MAX_SECRET_BYTES} bytes` };
    return { code, stdout, stderr: (await stderrText).trim() };
  } finally {
    signal.removeEventListener("abort", kill);
  }
}

/** Drops one trailing "\n" (or "\r\n") and zeroes the original. */
function stripNewline(bytes: Uint8Array): Uint8Array {
  let end = bytes.length;
  if (bytes[end - 1] === 0x0a) {
    end--;
    if (bytes[end - 1] === 0x0d) end--;
  }
  if (end === bytes.length) return bytes;
  const result = bytes.slice(0, end);
  bytes.fill(0);
  return result;
}

function lastLine(text: string): string {
  const line = text.split("\n").filter((l) => l.trim() !== "").pop() ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

function secretOrFailure(result: HelperResult, name: string, cancelCodes: readonly number[]): Outcome {
  if (result.code === 0) return { kind: "secret", bytes: stripNewline(result.stdout) };
  result.stdout.fill(0);
  if (result.code !== null && cancelCodes.includes(result.code)) return { kind: "cancelled" };
  return { kind: "unavailable", reason: `${name} failed (exit ${result.code ?? "killed"}${result.stderr ? `: ${lastLine(result.stderr)}` : ""})` };
}

const ttyScript = `
( : </dev/tty ) 2>/dev/null || exit 90
exec </dev/tty
saved=$(stty -g) || exit 91
trap 'stty "$saved"' EXIT
trap 'exit 130' INT TERM HUP
stty -echo icanon icrnl
printf '%s ' "$${PROMPT_VARIABLE}" >/dev/tty
IFS= read -r secret || { printf '\\n' >/dev/tty; exit 92; }
printf '\\n' >/dev/tty
printf '%s' "$secret"
`;

const osascriptLines = [
  `set thePrompt to system attribute "${PROMPT_VARIABLE}"`,
  `display dialog thePrompt with title "pty-mcp" default answer "" with hidden answer buttons {"Cancel", "OK"} default button "OK" cancel button "Cancel"`,
  "return text returned of result",
];

// Get-Credential shows Windows' credential dialog; a cancelled dialog returns $null.
const powershellScript = [
  "$ErrorActionPreference = 'Stop'",
  "[Console]::OutputEncoding = [System.Text.Encoding]::UTF8",
  `$c = Get-Credential -UserName 'pty-mcp' -Message $env:${PROMPT_VARIABLE}`,
  "if ($null -eq $c) { exit 1 }",
  "[Console]::Out.Write($c.GetNetworkCredential().Password)",
].join("; ");

function isWsl(platform: NodeJS.Platform): boolean {
  if (platform !== "linux") return false;
  try {
    return /microsoft/i.test(readFileSync("/proc/version", "utf8"));
  } catch {
    return false;
  }
}

export async function askSecret(options: AskSecretOptions): Promise<Uint8Array> {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const prompt = cleanPrompt(options.prompt);
  const signal = AbortSignal.any([options.signal ?? new AbortController().signal, AbortSignal.timeout(options.timeoutMs ?? 300_000)]);
  const childEnv: Env = { ...sessionEnvironment(env), [PROMPT_VARIABLE]: prompt };
  const which = (name: string): string | undefined => Bun.which(name, { PATH: env.PATH ?? "/usr/bin:/bin" }) ?? undefined;
  const hasDisplay = Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);

  const configured = env.PTY_MCP_SECRET_COMMAND || readConfigFile(env, platform)?.values.get("secret-command");
  if (configured) {
    const result = await run(() => runHelper(["/bin/sh", "-c", configured], childEnv, signal));
    if (result.code === 0) return stripNewline(result.stdout);
    result.stdout.fill(0);
    // The user's helper may print anything on failure (one printed `token=…`): its stderr goes to
    // our log (stderr), never to the agent; the agent gets our own words only.
    if (result.stderr) console.error(`pty-mcp: the secret command failed (exit ${result.code ?? "killed"}); its stderr:\n${result.stderr.slice(-4096)}`);
    throw new PtyError(
      "INVALID_ARGUMENT",
      `The secret command (PTY_MCP_SECRET_COMMAND) failed with exit ${result.code ?? "killed"}${result.stderr ? "; its error output is in pty-mcp's log (stderr)" : ""}. Nothing was typed.`,
    );
  }

  const methods: Method[] = [
    {
      name: "osascript",
      skip: () => (platform !== "darwin" ? "not macOS" : which("osascript") ? undefined : "osascript not found"),
      run: async () => {
        const argv = [which("osascript") ?? "osascript", ...osascriptLines.flatMap((line) => ["-e", line])];
        const result = await runHelper(argv, childEnv, signal);
        // AppleScript error -128 is "User canceled".
        if (result.code === 1 && result.stderr.includes("-128")) return { kind: "cancelled" };
        return secretOrFailure(result, "osascript", []);
      },
    },
    {
      name: "WSL2 Get-Credential",
      skip: () => (!isWsl(platform) ? "not WSL" : which("powershell.exe") ? undefined : "powershell.exe not on PATH"),
      run: async () => {
        // Windows processes see only the variables WSLENV lists.
        const wslenv = [env.WSLENV, `${PROMPT_VARIABLE}/u`].filter(Boolean).join(":");
        const argv = [which("powershell.exe") ?? "powershell.exe", "-NoProfile", "-Command", powershellScript];
        return secretOrFailure(await runHelper(argv, { ...childEnv, WSLENV: wslenv }, signal), "powershell.exe", [1]);
      },
    },
    {
      name: "zenity",
      skip: () => (!hasDisplay ? "no DISPLAY or WAYLAND_DISPLAY" : which("zenity") ? undefined : "zenity not found"),
      run: async () => {
        const argv = [which("zenity") ?? "zenity", "--password", "--no-markup", `--title=${prompt}`];
        return secretOrFailure(await runHelper(argv, childEnv, signal), "zenity", [1]);
      },
    },
    {
      name: "kdialog",
      skip: () => (!hasDisplay ? "no DISPLAY or WAYLAND_DISPLAY" : which("kdialog") ? undefined : "kdialog not found"),
      run: async () => {
        const argv = [which("kdialog") ?? "kdialog", "--title", "pty-mcp", "--password", prompt];
        return secretOrFailure(await runHelper(argv, childEnv, signal), "kdialog", [1]);
      },
    },
    {
      name: "/dev/tty",
      skip: () => undefined,
      run: async () => {
        const result = await runHelper(["/bin/sh", "-c", ttyScript], childEnv, signal);
        if (result.code === 90) return { kind: "unavailable", reason: "no controlling terminal" };
        return secretOrFailure(result, "/dev/tty", [92, 130]);
      },
    },
  ];

  const tried: string[] = ["PTY_MCP_SECRET_COMMAND: not set"];
  for (const method of methods) {
    const skipped = method.skip();
    if (skipped !== undefined) {
      tried.push(`${method.name}: ${skipped}`);
      continue;
    }
    const outcome = await run(() => method.run());
    if (outcome.kind === "secret") return outcome.bytes;
    if (outcome.kind === "cancelled") {
      throw new PtyError("INVALID_ARGUMENT", `The secret prompt was cancelled (${method.name}). Nothing was typed.`);
    }
    tried.push(`${method.name}: ${outcome.reason}`);
  }
  throw new PtyError(
    "INVALID_ARGUMENT",
    `No way to ask the human for a secret here (tried ${tried.join("; ")}). ` +
      "Set PTY_MCP_SECRET_COMMAND in the MCP server's environment to a command that prints the secret " +
      `(it gets the prompt in $${PROMPT_VARIABLE}), or run pty-mcp where a dialog or terminal is available.`,
  );

  /** Spawn failures (a helper vanished) and the human's time running out become clear errors. */
  async function run<T>(start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (err) {
      if (err instanceof PtyError) throw err;
      if (signal.aborted) {
        const timedOut = signal.reason instanceof Error && signal.reason.name === "TimeoutError";
        throw new PtyError("INVALID_ARGUMENT", timedOut ? "Nobody answered the secret prompt in time. Nothing was typed." : "Asking for the secret was cancelled. Nothing was typed.", timedOut, { cause: err });
      }
      throw new PtyError("INTERNAL_ERROR", `Asking for the secret failed: ${errorMessage(err)}`, false, { cause: err });
    }
  }
}
