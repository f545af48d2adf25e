// list_hosts through the compiled binary: the inventory from $PTY_MCP_INVENTORY (else
// $ANSIBLE_INVENTORY), ~/.ssh/config Host aliases as hosts, SSH's view of each host.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ansibleAvailable, ansibleListHosts } from "./harness/ansible.ts";
import { McpHarness } from "./harness/mcp.ts";
import { tempDir } from "./harness/sshd.ts";

const fixtures = join(import.meta.dir, "fixtures", "inventory");
const home = tempDir("pty-mcp-fleet-home-");
let h: McpHarness;

beforeAll(async () => {
  mkdirSync(join(home.path, ".ssh"), { mode: 0o700 });
  writeFileSync(
    join(home.path, ".ssh", "config"),
    ["Host jumpbox", "  HostName 192.0.2.7", "  User jumper", "  Port 2200", "Host *.example.net", "  User netops", "Host lb2", "  HostName lb2.internal", ""].join("\n"),
  );
  h = await McpHarness.start({ env: { HOME: home.path, PTY_MCP_INVENTORY: join(fixtures, "hosts.ini"), ANSIBLE_INVENTORY: "/nonexistent" } });
});
afterAll(async () => {
  await h.close();
  home[Symbol.dispose]();
});

type Hosts = { hosts: { name: string; hostname: string; port: number; user: string; groups: string[] }[]; sources: string[] };

describe("list_hosts", () => {
  test("list_hosts: a pattern gives Ansible's hosts in Ansible's order, with what SSH will connect to", async () => {
    const result = await h.call<Hosts>("list_hosts", { pattern: "lb:db-legacy:web-canary" });
    expect(result).toEqual({
      hosts: [
        { name: "lb1", hostname: "10.0.2.1", port: 22, user: "www", groups: ["frontend", "lb", "prod"] },
        // ansible_host wins over ~/.ssh/config's HostName (ssh is given the address).
        { name: "lb2", hostname: "10.0.2.2", port: 22, user: "www", groups: ["frontend", "lb", "prod"] },
        { name: "db-legacy", hostname: "db-legacy", port: 2222, user: "root", groups: ["db", "prod"] },
        { name: "web-canary", hostname: "10.0.1.99", port: 2201, user: "www", groups: ["frontend", "prod", "web"] },
      ],
      sources: [join(fixtures, "hosts.ini")],
    });
  });

  test.skipIf(!ansibleAvailable)("list_hosts: the same names as ansible --list-hosts for three patterns", async () => {
    for (const pattern of ["prod:!db", "web*:&staging", "~stage-[13]"]) {
      const result = await h.call<Hosts>("list_hosts", { pattern });
      expect({ pattern, names: result.hosts.map((x) => x.name) }).toEqual({ pattern, names: ansibleListHosts(join(fixtures, "hosts.ini"), pattern) });
    }
  });

  test("list_hosts: ~/.ssh/config Host aliases are hosts too (ungrouped); wildcard blocks are not", async () => {
    const result = await h.call<Hosts>("list_hosts", { pattern: "ungrouped" });
    expect(result.hosts).toEqual([
      { name: "bastion.example.net", hostname: "bastion.example.net", port: 22, user: "ops", groups: ["ungrouped"] },
      { name: "mail1", hostname: "10.0.9.1", port: 22, user: "root", groups: ["ungrouped"] },
      { name: "jumpbox", hostname: "192.0.2.7", port: 2200, user: "jumper", groups: ["ungrouped"] },
    ]);
  });

  test("list_hosts: a broken inventory is INVALID_ARGUMENT naming file and line", async () => {
    const bad = join(home.path, "bad.ini");
    writeFileSync(bad, "[web]\nh1\n[all:children]\nnope\n");
    await using h2 = await McpHarness.start({ env: { HOME: home.path, PTY_MCP_INVENTORY: bad } });
    expect(await h2.callError("list_hosts", {})).toEqual({ code: "INVALID_ARGUMENT", message: `${bad}:4: Section [all:children] includes undefined group: nope`, retryable: false });
    await using h3 = await McpHarness.start({ env: { HOME: home.path, PTY_MCP_INVENTORY: "", ANSIBLE_INVENTORY: join(fixtures, "hosts.yml") } });
    expect((await h3.call<Hosts>("list_hosts", { pattern: "edge" })).hosts.map((x) => x.name)).toEqual(["cdna-1", "cdna-2", "cdnb-1", "cdnb-2", "lb1", "lb2"]);
  });
});
