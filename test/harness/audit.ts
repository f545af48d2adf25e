// `pty-mcp audit serve` (the compiled binary) as a real audit collector on loopback.
import { binary } from "./mcp.ts";

export interface AuditCollector {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts the collector writing to `log`; resolves once it printed its URL. */
export async function startAuditCollector(options: { log: string; token: string; port?: number; env?: Record<string, string> }): Promise<AuditCollector> {
  const proc = Bun.spawn([binary, "audit", "serve", "--port", String(options.port ?? 0), "--log", options.log], { env: { ...process.env, ...options.env, PTY_MCP_AUDIT_TOKEN: options.token }, stderr: "pipe" });
  const stop = async () => {
    proc.kill("SIGTERM");
    await proc.exited;
  };
  const reader = proc.stderr.getReader();
  let text = "";
  for (;;) {
    const match = /listening on (http:\/\/127\.0\.0\.1:\d+) /.exec(text);
    if (match?.[1]) {
      reader.releaseLock();
      return { url: match[1], stop };
    }
    const { done, value } = await reader.read();
    if (done) throw new Error(`audit serve exited: ${text}`);
    text += new TextDecoder().decode(value);
  }
}
