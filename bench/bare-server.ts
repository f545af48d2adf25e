// The M5 floor: a bare MCP SDK v2 server (one tool, no pty-mcp code) on serveStdio, compiled with
// pty-mcp's own flags. Its cold start is what the SDK alone costs.
import { Server } from "@modelcontextprotocol/server";
import { serveStdio } from "@modelcontextprotocol/server/stdio";

serveStdio(() => {
  const server = new Server({ name: "bare", version: "0" }, { capabilities: { tools: {} } });
  server.setRequestHandler("tools/list", async () => ({ tools: [{ name: "noop", inputSchema: { type: "object" as const, properties: {} } }] }));
  return server;
});
