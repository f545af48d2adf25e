// A scripted stand-in for the Anthropic Messages API on loopback, for driving the real Claude Code
// CLI: it streams replies as server-sent events the way the API does (message_start,
// content_block_start/delta/stop, message_delta, message_stop; tool input as input_json_delta).
// The script plays the model: it sees each request (the whole conversation so far) and answers.
import type { Server } from "bun";

export type ContentBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

export interface MessagesRequest {
  model: string;
  stream?: boolean;
  system?: unknown;
  tools?: { name: string; description?: string }[];
  messages: { role: string; content: string | Record<string, unknown>[] }[];
}

export interface Reply {
  content: ContentBlock[];
  /** Default: "tool_use" when a block is a tool_use, else "end_turn". */
  stopReason?: "end_turn" | "tool_use";
}

export interface FakeAnthropic extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`, for ANTHROPIC_BASE_URL. */
  readonly url: string;
  /** Every POST /v1/messages body, in order. */
  readonly requests: readonly MessagesRequest[];
  close(): Promise<void>;
}

let ids = 0;

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The event stream the API sends for one assistant message. */
export function streamEvents(model: string, reply: Reply): string {
  const stopReason = reply.stopReason ?? (reply.content.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn");
  const id = `msg_fake_${++ids}`;
  let out = sse("message_start", {
    type: "message_start",
    message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 100, output_tokens: 1 } },
  });
  out += sse("ping", { type: "ping" });
  reply.content.forEach((block, index) => {
    if (block.type === "text") {
      out += sse("content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } });
      out += sse("content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: block.text } });
    } else {
      out += sse("content_block_start", { type: "content_block_start", index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } });
      const json = JSON.stringify(block.input);
      // The API sends tool input in pieces; split it so the client has to join them.
      const cut = Math.max(1, json.length >> 1);
      for (const part of [json.slice(0, cut), json.slice(cut)]) {
        if (part) out += sse("content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: part } });
      }
    }
    out += sse("content_block_stop", { type: "content_block_stop", index });
  });
  out += sse("message_delta", { type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: 20 } });
  out += sse("message_stop", { type: "message_stop" });
  return out;
}

/** Serves POST /v1/messages (streaming or not) and count_tokens on 127.0.0.1 with an OS-assigned port. */
export function fakeAnthropic(script: (request: MessagesRequest) => Reply | Promise<Reply>): FakeAnthropic {
  const requests: MessagesRequest[] = [];
  const server: Server<undefined> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (req.method !== "POST") return new Response("not found\n", { status: 404 });
      const body = (await req.json()) as MessagesRequest;
      if (path === "/v1/messages/count_tokens") return Response.json({ input_tokens: 1000 });
      if (path !== "/v1/messages") return new Response("not found\n", { status: 404 });
      requests.push(body);
      let reply: Reply;
      try {
        reply = await script(body);
      } catch (error) {
        console.error("fake model script failed:", error);
        reply = { content: [{ type: "text", text: `fake model script failed: ${String(error)}` }] };
      }
      if (!body.stream) {
        const stopReason = reply.stopReason ?? (reply.content.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn");
        return Response.json({
          id: `msg_fake_${++ids}`, type: "message", role: "assistant", model: body.model, content: reply.content,
          stop_reason: stopReason, stop_sequence: null, usage: { input_tokens: 100, output_tokens: 20 },
        });
      }
      return new Response(streamEvents(body.model, reply), { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
    },
  });
  const close = async (): Promise<void> => {
    await server.stop(true);
  };
  return { url: `http://127.0.0.1:${server.port}`, requests, close, [Symbol.asyncDispose]: close };
}

/** The tool_result blocks of the last user message (what the model is shown of its tool calls). */
export function lastToolResults(request: MessagesRequest): Record<string, unknown>[] {
  const last = request.messages.at(-1);
  if (!last || typeof last.content === "string") return [];
  return last.content.filter((b) => b.type === "tool_result");
}
