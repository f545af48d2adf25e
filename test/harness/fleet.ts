/**
 * A fleet of real OpenSSH servers on loopback for the fleet tests and bench: one sshd per host on
 * its own address (127.0.0.11, .12, …), each with its own host key and its own "root" directory
 * (passed to sessions as $FLEET_ROOT by sshd's SetEnv, so hosts can differ in their files), a
 * client key authorized everywhere, a HOME whose known_hosts trusts the hosts asked for, and an
 * INI inventory naming them.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { knownHostsLine, makeKey, startSshd, tempDir, type KeyPair, type Sshd } from "./sshd.ts";

export interface FleetMember {
  name: string;
  address: string;
  sshd: Sshd;
  /** $FLEET_ROOT on that host. */
  root: string;
}

export interface Fleet extends AsyncDisposable {
  home: string;
  key: KeyPair;
  members: FleetMember[];
  byName(name: string): FleetMember;
  /** Env for the MCP server (HOME, no agent, the inventory). */
  env(inventory: string): Record<string, string>;
  /** Writes an inventory file in the fleet's home and returns its path. */
  writeInventory(name: string, text: string): string;
  /** `name ansible_host=… ansible_port=… ansible_user=USER` for each member given (an alias may name a member: `alias=member`). */
  hostLines(names: readonly string[], user?: string): string;
}

export interface FleetOptions {
  /** Host names, one sshd each, on 127.0.0.(firstOctet + i). */
  names: string[];
  firstOctet?: number;
  /** Hosts left out of known_hosts. */
  untrusted?: string[];
  extraConfig?: string;
  /** More session environment for some hosts: name → "K=V K2=V2" (sshd SetEnv). */
  hostEnv?: Record<string, string>;
}

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const home = tempDir(`pty-mcp-fleet-${process.pid}-`);
  chmodSync(home.path, 0o755);
  const ssh = join(home.path, ".ssh");
  mkdirSync(ssh, { mode: 0o700 });
  const key = makeKey(join(ssh, "id_ed25519"));
  const first = options.firstOctet ?? 11;
  const members: FleetMember[] = [];
  try {
    // Started a few at a time: each is an ssh-keygen and an sshd start on a 2-core machine.
    for (let i = 0; i < options.names.length; i += 4) {
      const batch = options.names.slice(i, i + 4).map(async (name, j) => {
        const address = `127.0.0.${first + i + j}`;
        const root = join(home.path, "roots", name);
        mkdirSync(join(root, "etc"), { recursive: true });
        // Writable by the unprivileged test user too (sshd signals only non-root sessions).
        for (const d of [root, join(root, "etc")]) chmodSync(d, 0o777);
        const sshd = await startSshd({ listenAddress: address, extraConfig: `SetEnv FLEET_ROOT=${root} FLEET_HOST=${name}${options.hostEnv?.[name] === undefined ? "" : ` ${options.hostEnv[name]}`}\nMaxSessions 64\n${options.extraConfig ?? ""}` });
        sshd.authorize(key.pub);
        return { name, address, sshd, root };
      });
      members.push(...(await Promise.all(batch)));
    }
  } catch (err) {
    await Promise.allSettled(members.map((m) => m.sshd[Symbol.asyncDispose]()));
    home[Symbol.dispose]();
    throw err;
  }
  const untrusted = new Set(options.untrusted ?? []);
  writeFileSync(join(ssh, "known_hosts"), members.filter((m) => !untrusted.has(m.name)).map((m) => `${knownHostsLine(m.sshd, m.address)}\n`).join(""), { mode: 0o600 });
  const byName = (name: string): FleetMember => {
    const m = members.find((x) => x.name === name);
    if (m === undefined) throw new Error(`no fleet member ${name}`);
    return m;
  };
  return {
    home: home.path,
    key,
    members,
    byName,
    env: (inventory) => ({ HOME: home.path, PTY_MCP_INVENTORY: inventory, SSH_AUTH_SOCK: "", USER: "root" }),
    writeInventory: (name, text) => {
      const path = join(home.path, name);
      writeFileSync(path, text);
      return path;
    },
    hostLines: (names, user = "root") =>
      names
        .map((entry) => {
          const [alias, member = alias] = entry.split("=") as [string, string?];
          return `${alias} ansible_host=${byName(member).address} ansible_port=${byName(member).sshd.port} ansible_user=${user}`;
        })
        .join("\n"),
    [Symbol.asyncDispose]: async () => {
      await Promise.allSettled(members.map((m) => m.sshd[Symbol.asyncDispose]()));
      home[Symbol.dispose]();
    },
  };
}

/** Lines of an sshd log that record a new authenticated connection. */
export function acceptedLogins(sshd: Sshd): number {
  return sshd.log().split("\n").filter((l) => l.includes("Accepted publickey")).length;
}
