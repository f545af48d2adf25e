import { z } from "zod";
import { sharedPool } from "../../ssh/pool.ts";
import { runOnHosts, runOutcome } from "../../fleet/run.ts";
import { selectFleet } from "../../fleet/select.ts";
import { bool, int, num } from "../params.ts";
import { defineTool } from "../tool.ts";
import { hostPattern } from "./list-hosts.ts";

export const hostList = z
  .array(z.string().min(1).max(1024))
  .min(1)
  .max(10_000)
  .describe('Explicit host names instead of a pattern: inventory names, ~/.ssh/config aliases or plain addresses. Example: ["web01", "10.0.0.5"].');

export const runOnHostsTool = defineTool({
  name: "run_on_hosts",
  title: "Run a command on many hosts",
  description:
    "Run a shell command on many hosts at once over SSH (a fleet: an Ansible inventory pattern or a list of hosts) and get the outputs grouped: " +
    "hosts with identical output and exit code are one group (like clush -b / dshbak -c), the biggest group first, so the odd hosts stand out. " +
    "Unreachable hosts (refused, timed out, authentication, unknown or changed host key) are listed in failures with their error code; " +
    "an unknown host key is never accepted here: the failure names its fingerprint and the create_ssh_session call (accept_host_key) that records it once verified. " +
    "Connections are pooled and reused for 10 minutes, so a second call is fast. Each host's output is bounded (16 KiB, head and tail). " +
    "Uses ~/.ssh/config, ssh-agent, identity files and known_hosts like create_ssh_session. Progress is reported as k/N hosts; cancelling stops the hosts not done.",
  meta: { searchHint: "run command many hosts fleet servers parallel ssh inventory ansible clush pdsh" },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  task: "optional",
  input: z.object({
    pattern: hostPattern.optional().describe("Which hosts of the inventory (list_hosts shows them). " + hostPattern.description),
    hosts: hostList.optional(),
    command: z.string().min(1).max(1_000_000).describe('The command line, run by each host\'s login shell as `ssh host command` does. Example: "uname -r; uptime".'),
    timeout: num(0.1, 86_400).optional().describe("Seconds per host, connecting included (default 60). A host past it is stopped and reported with timed_out: true."),
    concurrency: int(1, 1024).optional().describe("Hosts at a time (default 32)."),
    pty: bool.optional().describe("Run on a terminal (for commands that insist on one, e.g. sudo with requiretty); default false: a plain exec channel, stdin closed."),
  }),
  output: z.object({
    summary: z.object({
      hosts: z.number(),
      ok: z.number().describe("Exit code 0."),
      failed: z.number().describe("Ran but exited non-zero, by a signal, or timed out."),
      unreachable: z.number().describe("Could not connect or authenticate (see failures)."),
      elapsed_ms: z.number(),
      cancelled: z.number().optional(),
    }),
    groups: z.array(
      z.object({
        hosts: z.array(z.string()),
        exit_code: z.number().nullable(),
        output: z.string().describe("stdout and stderr as they arrived; over 16 KiB the first 2 KiB and the last 14 KiB with a line saying how much was left out."),
        signal: z.string().optional(),
        timed_out: z.boolean().optional(),
        output_bytes: z.number().describe("Bytes of output each host of the group produced."),
        output_shortened: z.literal(true).optional().describe("The whole result reached its size budget (96 KiB of output): only the start of this group's output is here; rerun on one of its hosts to see it."),
      }),
    ),
    failures: z.array(z.object({ host: z.string(), code: z.string(), message: z.string(), fingerprint: z.string().optional() })),
    cancelled: z.array(z.string()).optional().describe("Hosts stopped or never started because the call was cancelled."),
  }),
  async run(input, { sessions, signal, progress }) {
    const { hosts } = await selectFleet(fleetRequest(input));
    // Audit first: a strict audit log that cannot record the command refuses it (AUDIT_REJECTED).
    const report = await sessions.beforeFleetInput({ tool: "run_on_hosts", target: hosts.map((h) => h.name).join(","), cmd: input.command });
    const result = await runOnHosts({
      hosts,
      command: input.command,
      timeoutMs: Math.round((input.timeout ?? 60) * 1000),
      concurrency: input.concurrency ?? 32,
      pty: input.pty ?? false,
      pool: sharedPool,
      signal,
      progress,
    });
    report(runOutcome(result));
    return result;
  },
});

/** pattern or hosts as selectFleet takes them (both given is refused there). */
export function fleetRequest(input: { pattern?: string; hosts?: string[] }): { pattern?: string; hosts?: string[] } {
  if (input.hosts === undefined) return { pattern: input.pattern ?? "all" };
  return input.pattern === undefined ? { hosts: input.hosts } : { hosts: input.hosts, pattern: input.pattern };
}
