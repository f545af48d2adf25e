// Fleet tools and the audit trail (SPEC §6): run_on_hosts and transfer_file are recorded before
// anything reaches a host (one input entry per call, type "fleet", the hosts as target, then the
// outcome), and a strict audit log that cannot record refuses the call.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startFleet, type Fleet } from "./harness/fleet.ts";
import { binary, McpHarness } from "./harness/mcp.ts";
import { freePort, sshdAvailable } from "./harness/sshd.ts";

let fleet: Fleet;
let inventory: string;

beforeAll(async () => {
  fleet = await startFleet({ names: ["a1", "a2"], firstOctet: 51 });
  inventory = fleet.writeInventory("hosts.ini", `[pair]\n${fleet.hostLines(["a1", "a2"])}\n`);
});
afterAll(async () => {
  await fleet?.[Symbol.asyncDispose]();
});

function withConfig(config: string): Record<string, string> {
  mkdirSync(join(fleet.home, ".config", "pty-mcp"), { recursive: true });
  writeFileSync(join(fleet.home, ".config", "pty-mcp", "config"), config, { mode: 0o600 });
  return { ...fleet.env(inventory), XDG_CONFIG_HOME: join(fleet.home, ".config") };
}

describe.skipIf(!sshdAvailable)("fleet audit", () => {
  test("audit: run_on_hosts and transfer_file leave an input entry (type fleet, hosts as target) and their outcome; audit verify passes", async () => {
    const log = join(fleet.home, "audit.jsonl");
    {
      await using h = await McpHarness.start({ env: withConfig("audit-user=ops1\n"), args: ["serve", "--audit-log", log] });
      await h.call("run_on_hosts", { pattern: "pair", command: "echo audited" });
      writeFileSync(join(fleet.home, "f"), "x\n");
      await h.call("transfer_file", { direction: "upload", local_path: join(fleet.home, "f"), remote_path: join(fleet.byName("a1").root, "f"), host: "a1" });
    }
    const entries = readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries.map((e) => [e.event, e.type ?? null, e.target ?? null, e.cmd ?? null, e.user, e.output_snippet ?? null])).toEqual([
      ["input", "fleet", "a1,a2", "run_on_hosts: echo audited", "ops1", null],
      ["output", null, null, null, "ops1", "2 ok, 0 failed, 0 unreachable of 2\nexit 0: a1,a2"],
      ["input", "fleet", "a1", `transfer_file: upload ${join(fleet.home, "f")} -> ${join(fleet.byName("a1").root, "f")}`, "ops1", null],
      ["output", null, null, null, "ops1", "1 of 1 ok, 2 bytes"],
    ]);
    expect(entries[1]?.cmd_id).toBe(entries[0]?.cmd_id);
    const verify = Bun.spawnSync([binary, "audit", "verify", log], { env: { ...process.env, HOME: fleet.home } });
    expect({ code: verify.exitCode, stdout: verify.stdout.toString() }).toEqual({ code: 0, stdout: "ok 4 entries\n" });
  });

  test("audit: strict with the collector down refuses run_on_hosts (AUDIT_REJECTED) and nothing runs on the hosts", async () => {
    const port = await freePort();
    await using h = await McpHarness.start({ env: withConfig(`audit-url=http://127.0.0.1:${port}\naudit-token=${"c".repeat(64)}\naudit-mode=strict\n`) });
    const marker = join(fleet.byName("a1").root, "ran");
    const refused = await h.callError("run_on_hosts", { pattern: "pair", command: `touch ${marker}` });
    expect({ code: refused.code, ran: existsSync(marker) }).toEqual({ code: "AUDIT_REJECTED", ran: false });
  });
});
