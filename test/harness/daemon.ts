// Private daemons for tests: each test gets its own XDG_RUNTIME_DIR (so its own daemon socket),
// MCP servers started against it, and `cleanupDaemons()` (call it in afterEach) closes the servers,
// kills the daemon and removes the directory.
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McpHarness } from "./mcp.ts";

const runtimes: string[] = [];
const harnesses: McpHarness[] = [];

/** A private XDG_RUNTIME_DIR: the daemon's socket goes to <dir>/pty-mcp/daemon.sock. */
export function runtimeDir(prefix = "pty-mcp-d-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o700);
  runtimes.push(dir);
  return dir;
}

export function daemonPid(runtime: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(runtime, "pty-mcp", "daemon.pid"), "utf8").trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits for a condition that is not an event we can subscribe to (another process's life), checking often. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (let delay = 5; !(await condition()); delay = Math.min(delay * 2, 100)) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(delay);
  }
}

export async function killDaemon(runtime: string, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  const pid = daemonPid(runtime);
  if (pid === undefined || !alive(pid)) return;
  process.kill(pid, signal);
  await until(() => !alive(pid), `daemon ${pid} to exit`);
}

/** An MCP server (the compiled binary) whose daemon lives in `runtime`; closed by cleanupDaemons(). */
export async function server(runtime: string, env: Record<string, string> = {}): Promise<McpHarness> {
  const h = await McpHarness.start({ env: { XDG_RUNTIME_DIR: runtime, ...env } });
  harnesses.push(h);
  return h;
}

export async function cleanupDaemons(): Promise<void> {
  for (const h of harnesses.splice(0)) await h.close();
  for (const dir of runtimes.splice(0)) {
    await killDaemon(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}
