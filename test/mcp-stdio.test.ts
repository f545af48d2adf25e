// The server's own stdin/stdout (src/mcp/stdio.ts: Bun's native fd I/O instead of process.stdin/
// stdout, for cold start): every answer arrives whole and in order even when the client reads late
// (more than a pipe holds), the server exits 0 when stdin ends, and exits 0 — without crashing — when
// the client stops reading (EPIPE on stdout).
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { binary } from "./harness/mcp.ts";

const line = (m: Record<string, unknown>) => `${JSON.stringify({ jsonrpc: "2.0", ...m })}\n`;
const initialize = line({ id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "stdio-test", version: "0" } } });
const initialized = line({ method: "notifications/initialized" });
const shipped = JSON.parse(readFileSync(join(import.meta.dir, "../src/mcp/tool-list.json"), "utf8")) as unknown[];

let proc: Subprocess<"pipe", "pipe", "pipe"> | undefined;
afterEach(() => {
  proc?.kill("SIGKILL");
  proc = undefined;
});

function start(): Subprocess<"pipe", "pipe", "pipe"> {
  proc = Bun.spawn([binary, "serve"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  return proc;
}

/** Bytes the process has passed to write(2) so far (0 once it is gone). */
function writtenBytes(pid: number): number {
  try {
    return Number(/^wchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Reads stdout until `count` JSON-RPC lines arrived; returns them parsed. */
async function readLines(p: Subprocess<"pipe", "pipe", "pipe">, count: number): Promise<Record<string, unknown>[]> {
  const reader = p.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (text.split("\n").length - 1 < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

test("answers arrive whole and in order when the client reads only after the pipe is full (~1 MB waiting)", async () => {
  // The server writes into a pipe whose reader (a subshell) reads nothing until $GO exists.
  const dir = mkdtempSync(join(tmpdir(), `pty-mcp-stdio-${process.pid}-`));
  const go = join(dir, "go");
  try {
    const p = (proc = Bun.spawn(["bash", "-c", 'exec 3> >(until [ -e "$GO" ]; do sleep 0.01; done; exec cat); exec "$0" serve >&3 3>&-', binary], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, GO: go },
    }));
    const lists = Array.from({ length: 16 }, (_, i) => line({ id: i + 2, method: "tools/list", params: {} })).join("");
    p.stdin.write(initialize + initialized + lists);
    await p.stdin.flush();
    // Full: the initialize answer and one tool list (64 KB) went in; the other 15 (~1 MB) the server holds.
    while (writtenBytes(p.pid) < 60_000) await Bun.sleep(10);
    writeFileSync(go, "");
    const messages = await readLines(p, 17);
    expect(messages.map((m) => [m.id, m.error])).toEqual(Array.from({ length: 17 }, (_, i) => [i + 1, undefined]));
    for (const m of messages.slice(1)) expect((m.result as { tools: unknown[] }).tools).toEqual(shipped);
    await p.stdin.end();
    expect(await p.exited).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("stdin ends: the server exits 0", async () => {
  const p = start();
  p.stdin.write(initialize);
  await p.stdin.flush();
  expect((await readLines(p, 1))[0]?.id).toBe(1);
  await p.stdin.end();
  expect(await p.exited).toBe(0);
});

test("the client stops reading (stdout closed): the server exits 0 on the failed write, with stdin still open", async () => {
  const p = start();
  await p.stdout.cancel();
  p.stdin.write(initialize + initialized + line({ id: 2, method: "tools/list", params: {} }));
  await p.stdin.flush();
  expect(await p.exited).toBe(0);
  expect(await new Response(p.stderr).text()).not.toContain("pty-mcp: internal error");
});
