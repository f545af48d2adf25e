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

/** A namespace with one veth pair: us 10.x.y.1/30, the host 10.x.y.2/30. Dispose deletes both. */
export function netnsHost(): NetnsHost {
  const n = counter++;
  const tag = `${process.pid % 100_000}${n}`;
  const name = `ptymcp-${tag}`;
  const outside = `pmo${tag}`.slice(0, 15);
  const inside = `pmi${tag}`.slice(0, 15);
  // 10.232-239.x.y/30: a /30 per (pid, counter), apart from the remote test's 10.231.
  const block = ((process.pid * 8 + n) % (8 * 256 * 64)) * 4;
  const net = `10.${232 + Math.floor(block / 65536)}.${Math.floor(block / 256) % 256}`;
  const base = block % 256;
  const address = `${net}.${base + 2}`;
  ip("netns", "add", name);
  try {
    ip("link", "add", outside, "type", "veth", "peer", "name", inside);
    ip("link", "set", inside, "netns", name);
    ip("addr", "add", `${net}.${base + 1}/30`, "dev", outside);
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
