// `pty-mcp serve`: the MCP server on stdio. Exits when stdin ends (the client went away),
// ending its in-process sessions; persistent sessions live in the daemon and are untouched.
import { serveStdio, StdioServerTransport, type StdioServerHandle } from "@modelcontextprotocol/server/stdio";
import type { Tool as McpTool } from "@modelcontextprotocol/server";
import type { Readable, Writable } from "node:stream";
import { z } from "zod";
import type { AuditLog } from "../audit/audit-log.ts";
import { resolveAuditSettings, takeAuditFlags } from "../audit/config.ts";
import { errorMessage } from "../errors.ts";
import { createServer } from "../mcp/server.ts";
import { TaskNotifyingTransport } from "../mcp/task-notifications.ts";
import { TaskStore } from "../mcp/tasks.ts";
import type { Tool } from "../mcp/tool.ts";
import { heldSecrets } from "../secrets/held-secrets.ts";
import { SessionRegistry } from "../session/registry.ts";
import { StdinReader, StdoutWriter } from "../mcp/stdio.ts";
import { installMemoryReport } from "./memory-report.ts";

// Cold start (README, Benchmark): initialize and tools/list need no tool, so the tools (and what they
// load: the PTY, SSH, the terminal emulator, fleet…) are imported on the first tools/call, or just
// after the first tools/list; tools/list is the JSON scripts/build.ts generated from them
// (src/mcp/tool-list.json, a build output like dist/: not in git, so it never lags the tools).
let loading: Promise<readonly Tool[]> | undefined;
const loadTools = () => (loading ??= import("../mcp/tools/index.ts").then((m) => m.tools));
let shipped: McpTool[] | undefined;
/** What tools/list shows; `answered` resolves once the answer is out (then the tools load). */
async function listed(answered: () => Promise<void>): Promise<McpTool[]> {
  // Loading the tools holds the event loop ~20 ms: not while the answer still waits in our buffer for the pipe.
  setTimeout(() => void answered().then(loadTools), 1);
  if (shipped) return shipped;
  try {
    // A require, not an import: the bundler inlines the file, and a source run without a build still starts.
    shipped = require("../mcp/tool-list.json") as McpTool[];
  } catch {
    shipped = (await import("../mcp/tool-list.ts")).toolList(await loadTools());
  }
  return shipped;
}

export async function main(args: string[]): Promise<number> {
  // zod compiles a fast path for each schema on its first parse; a server process that parses a
  // few messages of each kind starts faster without (measured in README, Benchmark).
  z.config({ jitless: true });
  const sessions = new SessionRegistry();
  // Audit (SPEC §6): a broken audit configuration stops the server rather than running unaudited.
  let audit: AuditLog | undefined;
  try {
    const settings = resolveAuditSettings(takeAuditFlags(args).flags);
    if (settings) {
      const [{ AuditLog }, { attachAudit }] = await Promise.all([import("../audit/audit-log.ts"), import("../audit/attach.ts")]);
      audit = new AuditLog({ ...settings, redact: (text) => heldSecrets.redactText(text) });
      attachAudit(sessions, audit);
    }
  } catch (err) {
    process.stderr.write(`pty-mcp: audit: ${errorMessage(err)}\n`);
    return 1;
  }
  // Not process.stdin/stdout: they load node:stream, a third of a cold start (src/mcp/stdio.ts).
  const stdin = new StdinReader();
  const stdout = new StdoutWriter();
  const shutdown = new AbortController();
  // serveStdio builds one server for the connection, for the generation the client opens with.
  let handle: StdioServerHandle | undefined;

  let stopping: Promise<number> | undefined;
  const stop = (code: number): Promise<number> =>
    (stopping ??= (async () => {
      shutdown.abort();
      const forced = setTimeout(() => process.exit(code), 5000);
      forced.unref();
      // Persistent sessions are only detached: their work goes on in the daemon.
      await (await import("../persistent/local-link.ts")).detachMirrorsAndCloseRest(sessions);
      await audit?.close();
      await handle?.close().catch(() => undefined);
      await stdout.drained(); // answers still in the pipe (the client reads slowly) are not lost
      return code;
    })());

  const done = new Promise<number>((resolve) => {
    stdin.once("end", () => resolve(stop(0)));
    stdin.once("close", () => resolve(stop(0)));
    process.once("SIGTERM", () => resolve(stop(0)));
    process.once("SIGINT", () => resolve(stop(0)));
    process.once("SIGHUP", () => resolve(stop(0)));
  });
  // An agent's process group may get SIGPIPE when the client dies; never die of a write to a closed pipe.
  stdout.on("error", () => void stop(0));
  // One task store for the connection (2026-07-28 only), also behind the task notifications on the wire.
  const tasks = new TaskStore();
  // What a leak would pile up in: the registry, held secrets, tasks, the daemon link (empty until connected).
  installMemoryReport("serve", async () => ({
    ...sessions.counts(),
    held_secrets: heldSecrets.size,
    ...tasks.counts(),
    ...(await (await import("../persistent/local-link.ts")).localLink.counts()),
  }));
  const transport = new TaskNotifyingTransport(new StdioServerTransport(stdin as unknown as Readable, stdout as unknown as Writable), tasks);
  handle = serveStdio(({ era }) => createServer({ tools: loadTools, listed: () => listed(() => stdout.drained()), sessions, shutdown: shutdown.signal, era, tasks }), { transport, onerror: () => undefined });
  return done;
}
