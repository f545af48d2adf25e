import { z } from "zod";
import { PtyError } from "../../errors.ts";
import { sharedPool } from "../../ssh/pool.ts";
import { connectOf } from "../../ssh/session-connect.ts";
import { selectFleet } from "../../fleet/select.ts";
import type { FleetHost } from "../../fleet/targets.ts";
import { transferFile } from "../../fleet/transfer.ts";
import { int } from "../params.ts";
import { defineTool } from "../tool.ts";
import { hostPattern } from "./list-hosts.ts";
import { fleetRequest, hostList } from "./run-on-hosts.ts";

export const transferFileTool = defineTool({
  name: "transfer_file",
  title: "Copy a file to or from hosts",
  description:
    "Copy a file to or from hosts over SFTP: upload one local file to one host or many at once (an inventory pattern), or download a file from a host. " +
    "The content streams between the file systems and never passes through your context; any size works. " +
    "Each copy is written to a temporary name and renamed into place (a reader never sees half a file) after its SHA-256 was checked on both ends (sha256sum on the host). " +
    "Uses the pooled SSH connections of run_on_hosts (same ~/.ssh/config, agent, keys, known_hosts). Progress is reported in bytes. The result is per host.",
  meta: { searchHint: "copy upload download file scp sftp hosts servers transfer" },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  task: "optional",
  input: z.object({
    direction: z.enum(["upload", "download"]).describe("upload: local_path → remote_path on the hosts; download: remote_path on the host → local_path."),
    local_path: z.string().min(1).max(4096).describe('A file on this machine. Downloading from several hosts: include "{host}" (e.g. "/tmp/{host}-syslog").'),
    remote_path: z.string().min(1).max(4096).describe("The file on the host(s); relative paths are from the login directory."),
    session_id: z.string().min(1).optional().describe("An SSH session (create_ssh_session) whose host to use."),
    host: z.string().min(1).max(1024).optional().describe("One host: an inventory name, a ~/.ssh/config alias or an address."),
    hosts: hostList.optional(),
    pattern: hostPattern.optional().describe("Hosts of the inventory. " + hostPattern.description),
    mode: z
      .union([z.number().int().min(0).max(0o7777), z.string().regex(/^0?[0-7]{3,4}$/, 'expected an octal mode such as "0644"')])
      .optional()
      .transform((m) => (typeof m === "string" ? parseInt(m, 8) : m))
      .describe('Permissions of the written file, octal ("0644"). Default: the source file\'s.'),
    concurrency: int(1, 256).optional().describe("Hosts at a time (default 16)."),
  }),
  output: z.object({
    direction: z.enum(["upload", "download"]),
    summary: z.object({ hosts: z.number(), ok: z.number(), failed: z.number(), bytes: z.number().describe("Bytes moved over all hosts."), elapsed_ms: z.number() }),
    results: z.array(
      z.object({
        host: z.string(),
        ok: z.boolean(),
        bytes: z.number().optional(),
        sha256: z.string().optional().describe("SHA-256 (hex) of the content, equal on both ends."),
        local_path: z.string().optional(),
        code: z.string().optional(),
        message: z.string().optional(),
      }),
    ),
  }),
  async run(input, { sessions, signal, progress }) {
    const given = [input.session_id, input.host, input.hosts, input.pattern].filter((x) => x !== undefined).length;
    if (given !== 1) throw new PtyError("INVALID_ARGUMENT", "Give exactly one of session_id, host, hosts or pattern.");
    let hosts: FleetHost[];
    if (input.session_id !== undefined) {
      const session = sessions.getOrThrow(input.session_id);
      // The session's target is user@host:port as connected (after ~/.ssh/config); it is reached the way
      // the session was (its alias, jump hosts, key, password), not by that address alone.
      const m = /^(.+)@(.+):(\d+)$/.exec(session.target);
      const connect = connectOf(session);
      if (session.type !== "ssh" || !m || !connect) throw new PtyError("INVALID_ARGUMENT", `Session ${input.session_id} is not an SSH session; give host or pattern.`);
      const [, user = "", hostname = "", port = "22"] = m;
      hosts = [{ name: session.target, hostname, port: Number(port), user, groups: [], connect }];
    } else hosts = (await selectFleet(input.host !== undefined ? { hosts: [input.host] } : fleetRequest(input))).hosts;
    const what = input.direction === "upload" ? `upload ${input.local_path} -> ${input.remote_path}` : `download ${input.remote_path} -> ${input.local_path}`;
    const report = await sessions.beforeFleetInput({ tool: "transfer_file", target: hosts.map((h) => h.name).join(","), cmd: input.mode === undefined ? what : `${what} mode ${input.mode.toString(8)}` });
    const result = await transferFile({
      direction: input.direction,
      localPath: input.local_path,
      remotePath: input.remote_path,
      hosts,
      ...(input.mode === undefined ? {} : { mode: input.mode }),
      concurrency: input.concurrency ?? 16,
      pool: sharedPool,
      signal,
      progress,
    });
    report(`${result.summary.ok} of ${result.summary.hosts} ok, ${result.summary.bytes} bytes${result.results.filter((r) => !r.ok).map((r) => `; ${r.host}: ${r.code}`).join("")}`);
    return result;
  },
});
