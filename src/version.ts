import pkg from "../package.json" with { type: "json" };

// scripts/build.ts stamps the release version with --define; `bun src/main.ts` reads package.json.
declare const PTY_MCP_VERSION: string | undefined;

export const VERSION: string = typeof PTY_MCP_VERSION === "string" ? PTY_MCP_VERSION : pkg.version;
