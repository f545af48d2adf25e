// A debugging hook for memory, not a tool: with PTY_MCP_DEBUG_MEMORY=DIR in its environment, a
// server or daemon answers SIGUSR2 with a full garbage collection and then writes
// DIR/memory-<pid>.json (RSS, the JS heap, JSC's object counts by type, largest first, and the caller's own
// counts: sessions, listeners…). bench/soak.ts uses it to tell a leak (the heap after a full GC
// grows with the work done) from memory the allocator keeps (RSS grows, the heap does not).
// Without the variable nothing is installed.
import { closeSync, constants, openSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";

export const MEMORY_REPORT_ENV = "PTY_MCP_DEBUG_MEMORY";

/** `counts` adds the role's own figures (kept cheap: it runs on the signal, on the event loop). */
export function installMemoryReport(role: string, counts: () => Record<string, number> | Promise<Record<string, number>> = () => ({})): void {
  const dir = process.env[MEMORY_REPORT_ENV];
  if (!dir) return;
  process.on("SIGUSR2", () => {
    void (async () => {
      const { heapStats } = await import("bun:jsc");
      const own = await counts();
      Bun.gc(true);
      const usage = process.memoryUsage();
      const heap = heapStats();
      const types = Object.entries(heap.objectTypeCounts).sort((a, b) => b[1] - a[1]);
      const report = {
        role,
        pid: process.pid,
        at: new Date().toISOString(),
        rss: usage.rss,
        heap_size: heap.heapSize,
        heap_capacity: heap.heapCapacity,
        extra_memory: heap.extraMemorySize,
        array_buffers: usage.arrayBuffers,
        object_count: heap.objectCount,
        protected_objects: heap.protectedObjectCount,
        counts: own,
        object_types: Object.fromEntries(types),
      };
      const file = join(dir, `memory-${process.pid}.json`);
      // Never through a symlink planted at the temp name (DIR may be shared, e.g. /tmp).
      const fd = openSync(`${file}.tmp`, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
      try {
        writeSync(fd, JSON.stringify(report));
      } finally {
        closeSync(fd);
      }
      renameSync(`${file}.tmp`, file);
    })().catch((err: unknown) => process.stderr.write(`pty-mcp: memory report: ${err instanceof Error ? err.message : String(err)}\n`));
  });
}
