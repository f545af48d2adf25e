// A "remote host" in a network namespace, joined to ours by a veth pair, for tests that cut the
// link (a cable pulled, a host rebooting). Needs root (CI has it); `netnsAvailable` says whether
// this machine allows it. Names carry the pid and a counter: tests of several files run at once.
import { spawnSync } from "bun";

export const netnsAvailable = (() => {
  const probe = `ptymcp-probe-${process.pid}`;
  if (spawnSync(["ip", "netns", "add", probe]).exitCode !== 0) return false;
  spawnSync(["ip", "netns", "del", probe]);
  return true;
})();

export interface NetnsHost extends Disposable {
  /** The namespace's name: run a daemon there with ["ip", "netns", "exec", name, …]. */
  name: string;
  /** Its address, reachable from here while the link is up. */
  address: string;
  /** The prefix that runs a command inside. */
  prefix: string[];
  /** Our end of the link down (packets to the host go nowhere) or up again. */
  linkDown(): void;
  linkUp(): void;
}

let counter = 0;

function ip(...args: string[]): void {
  const r = spawnSync(["ip", ...args]);
  if (r.exitCode !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.toString()}`);
}

/** A fresh name tag and a /30 of 10.232-239.x.y per (pid, counter), apart from the remote test's 10.231. */
function allocate(): { tag: string; near: string; far: string } {
  const n = counter++;
  const tag = `${process.pid % 100_000}${n}`;
  const block = ((process.pid * 8 + n) % (8 * 256 * 64)) * 4;
  const net = `10.${232 + Math.floor(block / 65536)}.${Math.floor(block / 256) % 256}`;
  const base = block % 256;
  return { tag, near: `${net}.${base + 1}`, far: `${net}.${base + 2}` };
}

/** A namespace with one veth pair: us 10.x.y.1/30, the host 10.x.y.2/30. Dispose deletes both. */
export function netnsHost(): NetnsHost {
  const { tag, near, far: address } = allocate();
  const name = `ptymcp-${tag}`;
  const outside = `pmo${tag}`.slice(0, 15);
  const inside = `pmi${tag}`.slice(0, 15);
  ip("netns", "add", name);
  try {
    ip("link", "add", outside, "type", "veth", "peer", "name", inside);
    ip("link", "set", inside, "netns", name);
    ip("addr", "add", `${near}/30`, "dev", outside);
    ip("link", "set", outside, "up");
    ip("netns", "exec", name, "ip", "addr", "add", `${address}/30`, "dev", inside);
    ip("netns", "exec", name, "ip", "link", "set", inside, "up");
    ip("netns", "exec", name, "ip", "link", "set", "lo", "up");
  } catch (err) {
    spawnSync(["ip", "netns", "del", name]);
    spawnSync(["ip", "link", "del", outside]);
    throw err;
  }
  return {
    name,
    address,
    prefix: ["ip", "netns", "exec", name],
    linkDown: () => ip("link", "set", outside, "down"),
    linkUp: () => ip("link", "set", outside, "up"),
    [Symbol.dispose]() {
      spawnSync(["ip", "netns", "del", name]);
      spawnSync(["ip", "link", "del", outside]);
    },
  };
}

export interface NetnsBehind extends Disposable {
  name: string;
  /** Its address, reachable from inside `front` only (this namespace has no route to us, nor we to it). */
  address: string;
  /** `front`'s address on the link between the two (where connections from `front` come from). */
  frontAddress: string;
  prefix: string[];
}

/**
 * A host reachable only through `front` (a bastion's private network): a namespace whose one
 * veth pair joins it to `front`'s namespace. Nothing routes between it and ours (namespaces do
 * not forward by default), so a connection to it must be made from `front`.
 */
export function netnsBehind(front: NetnsHost): NetnsBehind {
  const { tag, near, far: address } = allocate();
  const name = `ptymcp-${tag}`;
  const inFront = `pmf${tag}`.slice(0, 15);
  const inside = `pmb${tag}`.slice(0, 15);
  ip("netns", "add", name);
  try {
    ip("link", "add", inFront, "type", "veth", "peer", "name", inside);
    ip("link", "set", inFront, "netns", front.name);
    ip("link", "set", inside, "netns", name);
    ip("netns", "exec", front.name, "ip", "addr", "add", `${near}/30`, "dev", inFront);
    ip("netns", "exec", front.name, "ip", "link", "set", inFront, "up");
    ip("netns", "exec", name, "ip", "addr", "add", `${address}/30`, "dev", inside);
    ip("netns", "exec", name, "ip", "link", "set", inside, "up");
    ip("netns", "exec", name, "ip", "link", "set", "lo", "up");
  } catch (err) {
    spawnSync(["ip", "netns", "del", name]);
    spawnSync(["ip", "link", "del", inFront]);
    spawnSync(["ip", "netns", "exec", front.name, "ip", "link", "del", inFront]);
    throw err;
  }
  return {
    name,
    address,
    frontAddress: near,
    prefix: ["ip", "netns", "exec", name],
    // Deleting the namespace deletes its end of the pair, and with it the other end in front's.
    [Symbol.dispose]: () => void spawnSync(["ip", "netns", "del", name]),
  };
}
