/**
 * An inventory host as an SSH target: `ansible_host`, `ansible_port`, `ansible_user` (and their
 * `ansible_ssh_*` spellings), `ansible_ssh_private_key_file`, a ProxyJump given in
 * `ansible_ssh_common_args` / `ansible_ssh_extra_args` (`-J x` or `-o ProxyJump=x`, how Ansible
 * users put a group behind a jump host), then ~/.ssh/config for the rest, as `ssh` would see
 * the same command line. Secrets (`ansible_password`) go to the connection only.
 */
import { errorMessage } from "../errors.ts";
import { resolveSshConfig } from "../ssh/config.ts";
import type { SshConnectOptions } from "../ssh/open-ssh.ts";
import type { Inventory, Vars } from "./inventory.ts";

export interface FleetHost {
  /** The inventory name. */
  name: string;
  /** What is connected to, after ansible_host and ~/.ssh/config. */
  hostname: string;
  port: number;
  user: string;
  /** Ansible's group_names: sorted, `all` left out. */
  groups: string[];
  /** How pool.ts connects (never shown: may hold a password). */
  connect: SshConnectOptions;
  /** Set when ~/.ssh/config could not be resolved for this host (the call that connects reports it). */
  problem?: string;
}

function str(vars: Vars, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const v = vars[key];
    if (typeof v === "string" && v.length > 0) return v;
    if (typeof v === "number") return String(v);
  }
  return undefined;
}

/** `-J spec` or `-o ProxyJump=spec` / `-o ProxyJump spec` in an ssh argument string. */
export function jumpFromSshArgs(args: string): string | undefined {
  const m = /(?:^|\s)-J\s*(\S+)/.exec(args) ?? /(?:^|\s)-o\s*['"]?ProxyJump(?:=|\s+)([^\s'"]+)/i.exec(args);
  return m?.[1];
}

export function fleetHost(inventory: Inventory, name: string): FleetHost {
  const vars = inventory.sshConfigOnly.has(name) ? {} : inventory.hostVars(name);
  const address = str(vars, "ansible_host", "ansible_ssh_host") ?? name;
  const portText = str(vars, "ansible_port", "ansible_ssh_port");
  const port = portText !== undefined && /^\d+$/.test(portText) && Number(portText) > 0 && Number(portText) < 65536 ? Number(portText) : undefined;
  const user = str(vars, "ansible_user", "ansible_ssh_user");
  const keyPath = str(vars, "ansible_ssh_private_key_file", "ansible_private_key_file");
  const password = str(vars, "ansible_password", "ansible_ssh_pass", "ansible_ssh_password");
  const args = [str(vars, "ansible_ssh_common_args"), str(vars, "ansible_ssh_extra_args")].filter((a) => a !== undefined).join(" ");
  const jump = jumpFromSshArgs(args);
  const connect: SshConnectOptions = { host: address };
  if (port !== undefined) connect.port = port;
  if (user !== undefined) connect.user = user;
  if (keyPath !== undefined) connect.keyPath = keyPath;
  if (password !== undefined) connect.password = password;
  if (jump !== undefined) connect.jump = jump;
  const groups = inventory.groupNames(name);
  try {
    const resolved = resolveSshConfig(address, { ...(user === undefined ? {} : { user }), ...(port === undefined ? {} : { port }), ...(jump === undefined ? {} : { jump }) });
    return { name, hostname: resolved.hostname, port: resolved.port, user: resolved.user, groups, connect };
  } catch (err) {
    return { name, hostname: address, port: port ?? 22, user: user ?? process.env.USER ?? "root", groups, connect, problem: errorMessage(err) };
  }
}
