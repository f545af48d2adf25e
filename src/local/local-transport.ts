// A local program on a pseudo-terminal, through Bun's built-in PTY support
// (`Bun.spawn(cmd, { terminal })`): event-driven, no polling, idle costs nothing.
import { sessionEnvironment } from "../child-env.ts";
import { existsSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { PtyError } from "../errors.ts";
import { Emitter, type Transport, type TransportCapabilities, type TransportExit } from "../session/transport.ts";

export interface LocalSpawnOptions {
  argv: string[];
  cwd?: string;
  env?: Record<string, string>;
  cols: number;
  rows: number;
}

const KILL_GRACE_MS = 2000;

export class LocalTransport implements Transport {
  readonly #data = new Emitter<Uint8Array>();
  readonly #exit = new Emitter<TransportExit>();
  readonly #proc: Bun.Subprocess;
  readonly #terminal: Bun.Terminal;
  #exited: TransportExit | undefined;
  readonly #exitedPromise: Promise<TransportExit>;
  readonly capabilities: TransportCapabilities;

  constructor(options: LocalSpawnOptions) {
    rejectNulBytes(options);
    const env = sessionEnvironment();
    env.TERM = "xterm-256color";
    env.COLORTERM ??= "truecolor";
    Object.assign(env, options.env ?? {});
    // A program that is not there is refused before a PTY is made for it: Bun's PTY pair of a
    // spawn that failed was closed only later (at a GC), so 20 refusals showed as open fds.
    const missing = missingProgram(options, env.PATH);
    if (missing) throw missing;
    let terminalDone!: () => void;
    const terminalClosed = new Promise<void>((resolve) => (terminalDone = resolve));
    try {
      this.#proc = Bun.spawn(options.argv, {
        cwd: options.cwd,
        env,
        terminal: {
          cols: options.cols,
          rows: options.rows,
          data: (_term, bytes) => this.#data.emit(bytes),
          exit: () => terminalDone(),
        },
      });
    } catch (err) {
      throw spawnError(options, err);
    }
    this.#terminal = this.#proc.terminal!;
    const proc = this.#proc;
    this.#exitedPromise = proc.exited.then(async (code) => {
      // The PTY may still hold the program's last bytes: wait for its EOF, briefly.
      await Promise.race([terminalClosed, Bun.sleep(200)]);
      const signal = proc.signalCode == null ? null : String(proc.signalCode);
      const exit: TransportExit = { code: signal ? null : code, signal };
      this.#exited = exit;
      try {
        this.#terminal.close();
      } catch {
        // already closed
      }
      this.#exit.emit(exit);
      return exit;
    });
    this.capabilities = {
      localFlags: () => (this.#exited ? undefined : this.#terminal.localFlags),
      signal: (name) => {
        if (!this.#exited) proc.kill(name as NodeJS.Signals);
      },
    };
  }

  get pid(): number {
    return this.#proc.pid;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.#exited) throw new PtyError("SESSION_CLOSED", "The program has exited; its output stays readable. Create a new session to run more.");
    try {
      this.#terminal.write(bytes);
    } catch (err) {
      throw new PtyError("WRITE_FAILED", `Writing to the terminal failed: ${(err as Error).message}`, true, { cause: err });
    }
  }

  resize({ cols, rows }: { cols: number; rows: number }): void {
    if (this.#exited) return;
    this.#terminal.resize(cols, rows);
  }

  async close(): Promise<void> {
    if (!this.#exited) {
      // SIGHUP is what a terminal hang-up sends; a shell passes it on to its jobs.
      this.#proc.kill("SIGHUP");
      const timer = setTimeout(() => this.#proc.kill("SIGKILL"), KILL_GRACE_MS);
      await this.#exitedPromise;
      clearTimeout(timer);
    }
    await this.#exitedPromise;
  }

  onData(listener: (bytes: Uint8Array) => void): Disposable {
    return this.#data.on(listener);
  }

  onExit(listener: (exit: TransportExit) => void): Disposable {
    return this.#exit.on(listener);
  }
}

/** A C string ends at NUL: such an argument cannot reach the program as given (execve(2)). */
function rejectNulBytes(options: LocalSpawnOptions): void {
  const refuse = (field: string) => {
    throw new PtyError("INVALID_ARGUMENT", `${field} contains a NUL byte, which no program can receive. Remove it.`);
  };
  if (options.argv.some((arg) => arg.includes("\0"))) refuse("command or args");
  if (options.cwd?.includes("\0")) refuse("cwd");
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (name.includes("\0")) refuse(`env name ${JSON.stringify(name)}`);
    if (value.includes("\0")) refuse(`env ${name}`);
  }
}

/** The error Bun.spawn would give for a missing working directory or program (ENOENT), found without spawning. */
function missingProgram(options: LocalSpawnOptions, path: string | undefined): PtyError | undefined {
  const program = options.argv[0] ?? "";
  // Found on either PATH (the session's or ours): whichever Bun.spawn searches, it is left to it.
  // spawnError tells a missing working directory from a missing program.
  const found =
    (!options.cwd || existsSync(options.cwd)) &&
    (program.includes("/")
      ? existsSync(isAbsolute(program) ? program : join(options.cwd ?? process.cwd(), program))
      : Bun.which(program, { PATH: path ?? "" }) !== null || Bun.which(program) !== null);
  return found ? undefined : spawnError(options, Object.assign(new Error(`ENOENT: ${program}`), { code: "ENOENT" }));
}

function spawnError(options: LocalSpawnOptions, err: unknown): PtyError {
  const code = (err as { code?: string }).code;
  const program = options.argv[0];
  if (code === "ENOENT") {
    if (options.cwd && !existsSync(options.cwd)) {
      return new PtyError("INVALID_ARGUMENT", `Working directory not found: ${options.cwd}`, false, { cause: err });
    }
    return new PtyError("INVALID_ARGUMENT", `Command not found: ${program}. Give a full path or a program on PATH.`, false, { cause: err });
  }
  if (code === "EACCES") return new PtyError("INVALID_ARGUMENT", `Permission denied running ${program}.`, false, { cause: err });
  return new PtyError("INTERNAL_ERROR", `Could not start ${program}: ${(err as Error).message}`, false, { cause: err });
}
