// What tools/list shows for a set of tools: names, descriptions, annotations, _meta and the JSON
// Schemas built from their zod definitions. scripts/build.ts runs it at build time and ships the
// result as src/mcp/tool-list.json (the server answers tools/list from that file without loading
// any tool); test/tool-list.test.ts checks the shipped list equals what the tools generate.
import type { Tool as McpTool } from "@modelcontextprotocol/server";
import { toolJsonSchema } from "./json-schema.ts";
import { toolMeta, type Tool } from "./tool.ts";

export function toolList(tools: readonly Tool[]): McpTool[] {
  return tools.map((t) => ({
    name: t.name,
    title: t.title,
    description: t.description,
    annotations: { title: t.title, ...t.annotations },
    inputSchema: toolJsonSchema(t.input, "input") as McpTool["inputSchema"],
    outputSchema: toolJsonSchema(t.output, "output") as McpTool["outputSchema"],
    ...(t.meta ? { _meta: toolMeta(t.meta) } : {}),
  }));
}
