/**
 * The hosts a fleet call is about: an Ansible pattern over the inventory, or an explicit list of
 * names (inventory hosts, ~/.ssh/config aliases, or plain host names).
 */
import { PtyError } from "../errors.ts";
import { Inventory } from "./inventory.ts";
import { inventorySources, loadInventory } from "./load.ts";
import { selectHosts } from "./patterns.ts";
import { fleetHost, type FleetHost } from "./targets.ts";

/** Most hosts one call may address. */
export const MAX_FLEET_HOSTS = 10_000;

export interface Selection {
  hosts: FleetHost[];
  /** The inventory files read (as configured). */
  sources: string[];
}

export async function selectFleet(request: { pattern?: string; hosts?: readonly string[] }): Promise<Selection> {
  const sources = inventorySources().paths;
  const inventory = await loadInventory();
  let names: string[];
  if (request.hosts !== undefined && request.hosts.length > 0) {
    if (request.pattern !== undefined) throw new PtyError("INVALID_ARGUMENT", "Give pattern or hosts, not both.");
    names = [...new Set(request.hosts)];
  } else names = selectHosts(inventory, request.pattern ?? "all");
  if (names.length > MAX_FLEET_HOSTS) throw new PtyError("INVALID_ARGUMENT", `The selection has ${names.length} hosts; at most ${MAX_FLEET_HOSTS} per call. Narrow the pattern.`);
  const hosts: FleetHost[] = [];
  for (const [i, name] of names.entries()) {
    hosts.push(inventory.hosts.has(name) ? fleetHost(inventory, name) : fleetHost(loose(name), name));
    // Other calls get the event loop between slices of a big fleet.
    if (i % 250 === 249) await new Promise((resolve) => setImmediate(resolve));
  }
  return { hosts, sources };
}

/** A host named outside the inventory: an inventory of one, so ~/.ssh/config still applies. */
function loose(name: string): Inventory {
  const inventory = new Inventory();
  inventory.addHost(name);
  return inventory;
}
