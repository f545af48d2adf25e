import { z } from "zod";
import { selectFleet } from "../../fleet/select.ts";
import { defineTool } from "../tool.ts";

export const hostPattern = z
  .string()
  .min(1)
  .max(4096)
  .describe('Ansible host pattern: host or group names, wildcards ("web*"), "~regex", "a:b" or "a,b" (union), "a:&b" (in both), "a:!b" (a but not b), subscripts "web[0]", "web[1:3]". Example: "webservers:&prod:!web-canary".');

export const listHosts = defineTool({
  name: "list_hosts",
  title: "List inventory hosts",
  description:
    "List the hosts of the inventory (the fleet): the Ansible inventory ($PTY_MCP_INVENTORY, else $ANSIBLE_INVENTORY, else /etc/ansible/hosts; INI or YAML) " +
    "plus the Host aliases of ~/.ssh/config, filtered by an Ansible host pattern. Each host comes with the address, port and user SSH will use and its groups. " +
    "Use it to see which machines a pattern means before run_on_hosts or transfer_file.",
  meta: { searchHint: "hosts inventory ansible fleet servers machines groups list ssh" },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({ pattern: hostPattern.optional().describe('Which hosts (default "all"). ' + hostPattern.description) }),
  output: z.looseObject({
    hosts: z.array(
      z.object({
        name: z.string().describe("The inventory name (what patterns and run_on_hosts results use)."),
        hostname: z.string().describe("The address connected to (ansible_host, then ~/.ssh/config HostName)."),
        port: z.number(),
        user: z.string(),
        groups: z.array(z.string()).describe("Every group the host is in, directly or through a parent (sorted, without all)."),
      }),
    ),
    sources: z.array(z.string()).describe("The inventory files or directories read."),
  }),
  async run({ pattern }) {
    const { hosts, sources } = await selectFleet({ pattern: pattern ?? "all" });
    return { hosts: hosts.map(({ name, hostname, port, user, groups }) => ({ name, hostname, port, user, groups })), sources };
  },
});
