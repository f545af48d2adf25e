import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PtyError } from "../errors.ts";
import { LogFile, MIN_LOG_ROTATE_BYTES } from "./log-file.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), `pty-mcp-logfile-${process.pid}-`));
  dirs.push(dir);
  return dir;
}
const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}\n`).join("");

function openError(path: string): unknown {
  try {
    new LogFile({ path, maxSize: 0, maxFiles: 1 });
    return "opened";
  } catch (err) {
    return err instanceof PtyError ? { code: err.code, refused: err.message.startsWith(`Cannot open log_file ${path}: `) } : err;
  }
}

describe("LogFile", () => {
  test("a symlink at the path is refused and its target untouched (O_NOFOLLOW)", () => {
    const dir = tempDir();
    const target = join(dir, "victim");
    writeFileSync(target, "precious\n", { mode: 0o644 });
    symlinkSync(target, join(dir, "session.log"));
    expect({ error: openError(join(dir, "session.log")), target: readFileSync(target, "utf8"), mode: statSync(target).mode & 0o777 }).toEqual({
      error: { code: "INVALID_ARGUMENT", refused: true },
      target: "precious\n",
      mode: 0o644,
    });
  });

  test("a FIFO at the path is refused without hanging", () => {
    const dir = tempDir();
    const fifo = join(dir, "session.log");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    expect(openError(fifo)).toEqual({ code: "INVALID_ARGUMENT", refused: true });
  });

  test("an existing 0644 file is appended to and made 0600; new files are 0600", async () => {
    const dir = tempDir();
    const path = join(dir, "session.log");
    writeFileSync(path, "before\n", { mode: 0o644 });
    const log = new LogFile({ path, maxSize: 0, maxFiles: 1 });
    log.write(new TextEncoder().encode("after\n"));
    await log.close();
    expect({ text: readFileSync(path, "utf8"), mode: statSync(path).mode & 0o777 }).toEqual({ text: "before\nafter\n", mode: 0o600 });
  });

  test("rotation runs off the event loop: close() returns before any rename, and every line ends up in exactly one file", async () => {
    const dir = tempDir();
    const path = join(dir, "session.log");
    const log = new LogFile({ path, maxSize: MIN_LOG_ROTATE_BYTES, maxFiles: 100 });
    const text = lines(1, 20_000); // ~210 KB: 20 rotations of 99 renames each
    log.write(new TextEncoder().encode(text));
    const closed = log.close();
    // Before: the flush inside close() rotated synchronously (~2000 renames on the loop).
    const renamedSynchronously = existsSync(`${path}.1`);
    await closed;
    const files = readdirSync(dir).sort((a, b) => generation(b) - generation(a));
    const joined = files.map((f) => readFileSync(join(dir, f), "utf8")).join("");
    expect({
      renamedSynchronously,
      joinedIsAll: joined === text,
      eachUnderMax: files.every((f) => statSync(join(dir, f)).size <= MIN_LOG_ROTATE_BYTES),
      modes: [...new Set(files.map((f) => lstatSync(join(dir, f)).mode & 0o777))],
    }).toEqual({ renamedSynchronously: false, joinedIsAll: true, eachUnderMax: true, modes: [0o600] });
  });
});

function generation(name: string): number {
  const match = /\.(\d+)$/.exec(name);
  return match ? Number(match[1]) : 0;
}
