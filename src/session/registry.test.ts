// The registry's caps: what a server that runs for days keeps of sessions an agent never closed.
import { describe, expect, test } from "bun:test";
import { memorySession, MemoryTransport } from "../../test/harness/memory-transport.ts";
import { SessionRegistry } from "./registry.ts";

describe("SessionRegistry caps", () => {
  test("ended sessions nobody closed: the 50 newest stay readable, older ones are closed and dropped as new ones are added", async () => {
    const registry = new SessionRegistry();
    const transports: MemoryTransport[] = [];
    for (let i = 0; i < 70; i++) {
      const t = new MemoryTransport();
      transports.push(t);
      registry.add(memorySession(t, { id: `s-${i}` }));
      t.exit({ code: 0, signal: null });
    }
    // The 70th ended after it was added: the drop runs on add, so 51 are held until the next add.
    const live = new MemoryTransport();
    registry.add(memorySession(live, { id: "live" }));
    await Bun.sleep(0);
    expect({
      held: registry.list().map((s) => s.id),
      closedTransports: transports.map((t, i) => (t.closes > 0 ? i : -1)).filter((i) => i >= 0),
      counts: registry.counts(),
    }).toEqual({
      held: [...Array.from({ length: 50 }, (_, i) => `s-${i + 20}`), "live"],
      closedTransports: Array.from({ length: 20 }, (_, i) => i),
      counts: { sessions: 51, added_listeners: 0, input_hooks: 0, fleet_hooks: 0 },
    });
    await registry.closeAll();
    expect(registry.counts()).toEqual({ sessions: 0, added_listeners: 0, input_hooks: 0, fleet_hooks: 0 });
  });

  test("a live session is never dropped for the cap, however many ended ones come after it", async () => {
    const registry = new SessionRegistry();
    registry.add(memorySession(new MemoryTransport(), { id: "first-live" }));
    for (let i = 0; i < 60; i++) {
      const t = new MemoryTransport();
      registry.add(memorySession(t, { id: `ended-${i}` }));
      t.exit({ code: 1, signal: null });
    }
    registry.add(memorySession(new MemoryTransport(), { id: "last-live" }));
    expect(registry.list().map((s) => s.id)).toEqual(["first-live", ...Array.from({ length: 50 }, (_, i) => `ended-${i + 10}`), "last-live"]);
    await registry.closeAll();
  });
});
