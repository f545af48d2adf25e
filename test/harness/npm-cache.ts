// Clients the tests drive that are too heavy for devDependencies (the MCP Inspector, Claude
// Code), installed from npm on first use into a cache directory shared by test runs.
// PTY_MCP_TEST_CACHE moves it (default ~/.cache/pty-mcp-test).
import { existsSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** The installed package's directory (node_modules/<name>), installing `name@version` if needed. */
export function cachedNpmPackage(name: string, version: string): string {
  const cache = process.env.PTY_MCP_TEST_CACHE ?? join(homedir(), ".cache", "pty-mcp-test");
  const dir = join(cache, `${name.replace(/^@/, "").replace("/", "-")}-${version}`);
  const pkg = join(dir, "node_modules", name);
  if (!existsSync(join(pkg, "package.json"))) {
    mkdirSync(dir, { recursive: true });
    const npm = Bun.spawnSync(["npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefix", dir, `${name}@${version}`], { stdout: "pipe", stderr: "pipe" });
    if (npm.exitCode !== 0) throw new Error(`installing ${name}@${version} failed: ${npm.stderr.toString()}`);
  }
  return pkg;
}
