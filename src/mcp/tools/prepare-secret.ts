import { z } from "zod";
import { prepareSecret as armSecret, resolveLineEnding } from "../../secrets/secret-input.ts";
import { num } from "../params.ts";
import { defineTool } from "../tool.ts";
import { secretParams } from "./send-secret.ts";

export const prepareSecret = defineTool({
  name: "prepare_secret",
  title: "Have a password ready for the next prompt",
  description:
    "Have a password ready for a prompt that will come later (sudo, ssh, a console login): ask the human for a secret now and keep it in memory (never on disk); it is typed by itself, once, when the session next shows a password prompt and its output settles. " +
    "Use it before a command that will ask later (a console login, ssh, enable). You get only {success, length}; get_session_state shows awaiting_secret until it is sent.",
  meta: { requiresUserInteraction: true, searchHint: "password ready later prompt sudo ssh console login secret credential human" },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  input: z.object({
    ...secretParams,
    timeout: num(1, 86_400).optional().describe("Seconds to keep the secret waiting for a prompt before discarding it (default 600)."),
  }),
  output: z.object({ success: z.boolean(), length: z.number() }),
  async run(input, { sessions, signal }) {
    const session = sessions.getOrThrow(input.session_id);
    const lineEnding = resolveLineEnding(session, input.line_ending);
    const length = await armSecret(session, { prompt: input.prompt, lineEnding, signal, timeoutMs: (input.timeout ?? 600) * 1000 });
    return { success: true, length };
  },
});
