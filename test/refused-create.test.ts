// A refused create leaves nothing behind (issue #21 item 7): no file descriptor, no log file, and
// an existing recording untouched — in the MCP server and in the daemon alike.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanupDaemons, daemonPid, runtimeDir, server } from "./harness/daemon.ts";
import { plainBash } from "./harness/mcp.ts";

const dirs: string[] = [];
afterEach(async () => {
  await cleanupDaemons();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), `pty-mcp-refused-${process.pid}-`));
  dirs.push(dir);
  return dir;
}

const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
const RECORDING = '{"version":2,"width":80,"height":24}\n[0.1,"o","an earlier recording"]\n';

describe("a refused create", () => {
  test("20 refusals (SESSION_LIMIT, command not found) with log_file and record: the server's fds unchanged, no log file, the recording kept", async () => {
    const dir = tempDir();
    const h = await server(runtimeDir());
    const pid = h.transport.pid!;
    const record = join(dir, "kept.cast");
    writeFileSync(record, RECORDING);
    const sinks = { log_file: join(dir, "refused.log"), record };
    // One refusal first: whatever the runtime opens lazily on the first error path is not a leak.
    await h.callError("create_local_session", { command: "/nonexistent/program", ...sinks });
    const before = fdCount(pid);
    const badCommand = [];
    for (let i = 0; i < 10; i++) badCommand.push((await h.callError("create_local_session", { command: "/nonexistent/program", ...sinks })).code);
    const open: string[] = [];
    for (let i = 0; i < 50; i++) open.push((await h.call<{ session_id: string }>("create_local_session", { command: "cat" })).session_id);
    const withSessions = fdCount(pid);
    const limited = [];
    for (let i = 0; i < 10; i++) limited.push((await h.callError("create_local_session", { ...plainBash, ...sinks })).code);
    const afterLimit = fdCount(pid);
    for (const id of open) await h.call("close_session", { session_id: id });
    expect({
      badCommand,
      limited,
      fdsAfterBadCommands: Math.max(0, fdCount(pid) - before),
      fdsAfterLimit: Math.max(0, afterLimit - withSessions),
      logCreated: existsSync(sinks.log_file),
      recording: readFileSync(record, "utf8"),
    }).toEqual({
      badCommand: Array(10).fill("INVALID_ARGUMENT"),
      limited: Array(10).fill("SESSION_LIMIT"),
      fdsAfterBadCommands: 0,
      fdsAfterLimit: 0,
      logCreated: false,
      recording: RECORDING,
    });
  }, 120_000);

  test("20 persistent creates of a missing command with log_file and record: the daemon's fds unchanged, no log file, the recording kept", async () => {
    const dir = tempDir();
    const rt = runtimeDir();
    const h = await server(rt);
    await h.call("create_local_session", { ...plainBash, persistent: true });
    const pid = daemonPid(rt)!;
    const record = join(dir, "kept.cast");
    writeFileSync(record, RECORDING);
    const sinks = { log_file: join(dir, "refused.log"), record };
    await h.callError("create_local_session", { command: "/nonexistent/program", persistent: true, ...sinks });
    const before = fdCount(pid);
    const codes = [];
    for (let i = 0; i < 20; i++) codes.push((await h.callError("create_local_session", { command: "/nonexistent/program", persistent: true, ...sinks })).code);
    expect({ codes, fds: Math.max(0, fdCount(pid) - before), logCreated: existsSync(sinks.log_file), recording: readFileSync(record, "utf8") }).toEqual({
      codes: Array(20).fill("INVALID_ARGUMENT"),
      fds: 0,
      logCreated: false,
      recording: RECORDING,
    });
  }, 120_000);
});
