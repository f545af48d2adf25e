// Counts the processes a shell starts while it runs commands: strace attached to its pid (clone, clone3,
// fork, vfork; threads not counted). Used to show that the shell hooks fork nothing per prompt.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { McpHarness } from "./mcp.ts";

type R = Record<string, unknown>;

/** Starts strace on `pid` and resolves once it is attached (it says so on stderr, which is read to its end: a closed pipe would kill it). */
async function attach(pid: number, log: string): Promise<Bun.Subprocess<"ignore", "ignore", "pipe">> {
  const strace = Bun.which("strace");
  if (!strace) throw new Error("strace is needed for this test: apt-get install -y strace");
  const proc = Bun.spawn([strace, "-f", "-e", "trace=clone,clone3,fork,vfork", "-o", log, "-p", String(pid)], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const { promise: attached, resolve } = Promise.withResolvers<boolean>();
  void (async () => {
    let said = "";
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) {
      said += decoder.decode(chunk, { stream: true });
      if (said.includes("attached")) resolve(true);
    }
    resolve(false);
  })();
  if (!(await attached)) throw new Error(`strace did not attach to ${pid} (exit ${await proc.exited})`);
  return proc;
}

/** Processes started in the log: one line per clone/fork call, not a thread, not the second half of an interrupted call. */
function processesStarted(log: string): number {
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((line) => /\b(clone3?|v?fork)\(/.test(line) && !line.includes("CLONE_THREAD") && !line.includes("resumed>")).length;
}

/**
 * With the session's shell at a hooked prompt: its pid (`echo <pidOf>`), then strace on it over 20
 * `echo rN` (builtins: nothing to start) and 3 `/bin/true` (one process each: the count sees real
 * forks). The log goes into `dir`. A hook that forks once a prompt starts 23 processes more.
 */
export async function forksOverCommands(h: McpHarness, id: string, dir: string, pidOf = "$$"): Promise<{ pid: number; results: R[]; started: number }> {
  const pid = Number(String((await h.call<R>("send_input", { session_id: id, input: `echo ${pidOf}` })).output).split("\n")[0]);
  const log = join(dir, `strace-${pid}.log`);
  const strace = await attach(pid, log);
  const results: R[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      const r = await h.call<R>("send_input", { session_id: id, input: `echo r${i}` });
      results.push({ output: String(r.output).split("\n")[0], exit_code: r.exit_code, completion: r.completion });
    }
    for (let i = 0; i < 3; i++) {
      const r = await h.call<R>("send_input", { session_id: id, input: "/bin/true" });
      results.push({ exit_code: r.exit_code, completion: r.completion });
    }
  } finally {
    // SIGINT: strace detaches from the shell, writes the rest of its log and exits.
    strace.kill("SIGINT");
    await strace.exited;
  }
  return { pid, results, started: processesStarted(log) };
}

/** What forksOverCommands gives for a hook that forks nothing. */
export const NO_FORKS = {
  results: [
    ...Array.from({ length: 20 }, (_, i) => ({ output: `r${i}`, exit_code: 0, completion: "exact" })),
    ...Array.from({ length: 3 }, () => ({ exit_code: 0, completion: "exact" })),
  ],
  started: 3,
};
