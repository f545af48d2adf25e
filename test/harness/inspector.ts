// The MCP Inspector (npm @modelcontextprotocol/inspector): its CLI and its persistent client
// mcpdo, installed on first use into the test cache (harness/npm-cache.ts).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cachedNpmPackage } from "./npm-cache.ts";

export const INSPECTOR_VERSION = "2.12.0";

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** An Inspector run with its own HOME and catalog, so nothing of the user's is read or written. */
export class Inspector {
  readonly home = mkdtempSync(join(tmpdir(), `pty-mcp-inspector-${process.pid}-`));
  readonly pkg = cachedNpmPackage("@modelcontextprotocol/inspector", INSPECTOR_VERSION);
  private daemonEnv: Record<string, string> | undefined;

  get env(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    return { ...env, HOME: this.home, MCP_CATALOG_PATH: join(this.home, "mcp.json"), MCP_INSPECTOR_SECRET_STORE: "file", NO_COLOR: "1", ...this.daemonEnv };
  }

  /** Writes the catalog: name → stdio server. */
  catalog(servers: Record<string, { command: string; args: string[]; env?: Record<string, string>; protocolEra?: "legacy" | "modern" }>): void {
    writeFileSync(join(this.home, "mcp.json"), JSON.stringify({ mcpServers: servers }));
  }

  async cli(args: string[]): Promise<Run> {
    return this.run(["node", join(this.pkg, "clients/launcher/build/index.js"), "--cli", ...args]);
  }

  /** mcpdo against a private, token-gated daemon of this instance. */
  async mcpdo(args: string[]): Promise<Run> {
    const bin = join(this.pkg, "clients/mcpdo/build/mcp-bin.js");
    if (!this.daemonEnv) {
      const exports = await this.run(["node", bin, "private"]);
      this.daemonEnv = Object.fromEntries([...exports.stdout.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]));
    }
    return this.run(["node", bin, ...args]);
  }

  /** mcpdo with --format json; throws unless it exits 0. */
  async mcpdoJson<T = Record<string, unknown>>(args: string[]): Promise<T> {
    const r = await this.mcpdo(["--format", "json", ...args]);
    if (r.code !== 0) throw new Error(`mcpdo ${args.join(" ")} exited ${r.code}: ${r.stderr}${r.stdout}`);
    return JSON.parse(r.stdout) as T;
  }

  private async run(cmd: string[]): Promise<Run> {
    const proc = Bun.spawn(cmd, { env: this.env, stdin: "ignore", stdout: "pipe", stderr: "pipe", cwd: this.home });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code, stdout, stderr };
  }

  async close(): Promise<void> {
    if (this.daemonEnv) await this.mcpdo(["daemon", "stop"]);
    rmSync(this.home, { recursive: true, force: true });
  }
}
