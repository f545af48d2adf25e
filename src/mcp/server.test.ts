// tools/call hands a tool a progress function only when the client asked for progress: without a
// progress token an idle wait_for arms no progress timer (it wakes only at its deadline: bench M3).
import { afterEach, describe, expect, test } from "bun:test";
import { Client } from "@modelcontextprotocol/client";
import { InMemoryTransport } from "@modelcontextprotocol/server";
import { z } from "zod";
import { SessionRegistry } from "../session/registry.ts";
import { createServer } from "./server.ts";
import { defineTool, type ToolContext } from "./tool.ts";

const seen: Array<ToolContext["progress"]> = [];
const probe = defineTool({
  name: "probe",
  title: "Probe",
  description: "Reports progress once if it may.",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({}),
  output: z.object({ ok: z.boolean() }),
  async run(_input, { progress }) {
    seen.push(progress);
    progress?.({ progress: 1, total: 2, message: "half" });
    return { ok: true };
  },
});

let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
  seen.length = 0;
});

async function connect(): Promise<Client> {
  const server = createServer({ tools: async () => [probe], listed: async () => [], sessions: new SessionRegistry(), shutdown: new AbortController().signal });
  const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  client = new Client({ name: "server-test", version: "0" });
  await client.connect(clientSide);
  return client;
}

describe("progress in tools/call", () => {
  test("no progress token: the tool gets no progress function", async () => {
    const c = await connect();
    const r = await c.callTool({ name: "probe", arguments: {} });
    expect({ result: r.structuredContent, progress: seen.map((p) => typeof p) }).toEqual({ result: { ok: true }, progress: ["undefined"] });
  });

  test("with a progress token: the tool's progress reaches the client", async () => {
    const c = await connect();
    const updates: unknown[] = [];
    const r = await c.callTool({ name: "probe", arguments: {} }, { onprogress: (p) => updates.push(p) });
    expect({ result: r.structuredContent, progress: seen.map((p) => typeof p), updates }).toEqual({ result: { ok: true }, progress: ["function"], updates: [{ progress: 1, total: 2, message: "half" }] });
  });
});
