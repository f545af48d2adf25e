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
let built: Record<string, unknown> | undefined;
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
    built = { ok: true };
    return built as { ok: boolean };
  },
});

let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
  seen.length = 0;
  wire.length = 0;
});

/** Messages as the client's end of the in-memory pair received them (the same objects the server sent). */
const wire: Array<{ id?: unknown; result?: { structuredContent?: unknown } }> = [];

async function connect(): Promise<Client> {
  const server = createServer({ tools: async () => [probe], listed: async () => [], sessions: new SessionRegistry(), shutdown: new AbortController().signal });
  const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  client = new Client({ name: "server-test", version: "0" });
  await client.connect(clientSide);
  const deliver = clientSide.onmessage;
  clientSide.onmessage = (message, extra) => {
    wire.push(message as (typeof wire)[number]);
    deliver?.(message, extra);
  };
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

describe("tools/call results", () => {
  test("reach the wire as the tool built them: no second validation pass copies them (SDK result validation is skipped)", async () => {
    const c = await connect();
    await c.callTool({ name: "probe", arguments: {} });
    const response = wire.find((m) => m.result?.structuredContent !== undefined);
    expect({ same: response?.result?.structuredContent === built, value: response?.result?.structuredContent }).toEqual({ same: true, value: { ok: true } });
  });
});
