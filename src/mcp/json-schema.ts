// Tool schemas as JSON Schema that every major MCP client accepts (SPEC §12): zod's output
// rewritten so that no `type` is an array (each type becomes its own `anyOf` branch), every
// object says whether it takes other properties (inputs: no; loose outputs: yes, spelled
// `true`), and the top level is a plain object. portabilityProblems() is the check the tests
// run over tools/list.
import { z } from "zod";

export type JsonSchema = { [key: string]: unknown };

/** Keywords that describe a value as a whole and stay beside `anyOf` rather than in each branch. */
const ANNOTATIONS = new Set(["description", "title", "default", "examples", "deprecated", "readOnly", "writeOnly"]);

/** A zod object as a portable JSON Schema object (for inputSchema / outputSchema). */
export function toolJsonSchema(schema: z.ZodObject, io: "input" | "output"): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonSchema;
  return portable(rest, io);
}

function portable(node: unknown, io: "input" | "output"): JsonSchema {
  if (typeof node !== "object" || node === null || Array.isArray(node)) return node as JsonSchema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "properties" || key === "$defs" || key === "definitions" || key === "patternProperties") {
      out[key] = Object.fromEntries(Object.entries(value as JsonSchema).map(([k, v]) => [k, portable(v, io)]));
    } else if (key === "anyOf" || key === "oneOf" || key === "allOf" || key === "prefixItems") {
      out[key] = (value as unknown[]).map((v) => portable(v, io));
    } else if (key === "items" || key === "not" || key === "additionalProperties" || key === "contains" || key === "propertyNames") {
      out[key] = typeof value === "object" && value !== null ? portable(value, io) : value;
    } else {
      out[key] = value;
    }
  }
  if (out.type === "object") {
    const extra = out.additionalProperties;
    if (extra === undefined) out.additionalProperties = io === "output";
    else if (typeof extra === "object" && extra !== null && Object.keys(extra).length === 0) out.additionalProperties = true;
  }
  if (Array.isArray(out.type)) return splitTypes(out, out.type as string[]);
  return out;
}

/** `{type: [a, b], …}` → `{anyOf: [{type: a, …}, {type: b, …}]}`, annotations kept outside. */
function splitTypes(node: JsonSchema, types: string[]): JsonSchema {
  const outside: JsonSchema = {};
  const inside: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "type") continue;
    (ANNOTATIONS.has(key) ? outside : inside)[key] = value;
  }
  return { ...outside, anyOf: types.map((type) => ({ type, ...inside })) };
}

/** What a client could reject in one tool's listing; empty when it is portable. */
export function portabilityProblems(tool: { name: string; description?: string; inputSchema: unknown; outputSchema?: unknown }): string[] {
  const problems: string[] = [];
  if (tool.name.length > 64) problems.push(`name is ${tool.name.length} characters (most 64)`);
  if (!/^[a-zA-Z0-9_-]+$/.test(tool.name)) problems.push("name has characters other than letters, digits, _ and -");
  if (new TextEncoder().encode(tool.description ?? "").length > 2048) problems.push("description is over 2 KiB");
  for (const [where, schema] of [["inputSchema", tool.inputSchema], ["outputSchema", tool.outputSchema]] as const) {
    if (schema === undefined) continue;
    const top = schema as JsonSchema;
    if (top.type !== "object") problems.push(`${where}: top level is not type "object"`);
    for (const c of ["anyOf", "oneOf", "allOf", "not", "if", "$ref"]) if (c in top) problems.push(`${where}: top-level ${c}`);
    walk(schema, where, problems);
  }
  return problems;
}

function walk(node: unknown, path: string, problems: string[]): void {
  if (Array.isArray(node)) return node.forEach((v, i) => walk(v, `${path}[${i}]`, problems));
  if (typeof node !== "object" || node === null) return;
  const n = node as JsonSchema;
  if (Array.isArray(n.type)) problems.push(`${path}: type is an array`);
  if (n.type === "object" && n.additionalProperties === undefined) problems.push(`${path}: additionalProperties is not said`);
  if (typeof n.additionalProperties === "object" && n.additionalProperties !== null && Object.keys(n.additionalProperties).length === 0) problems.push(`${path}.additionalProperties: empty schema`);
  for (const [k, v] of Object.entries(n)) if (k !== "enum" && k !== "const" && k !== "default" && k !== "examples") walk(v, `${path}.${k}`, problems);
}
