import { z } from "zod";
import { resolveLineEnding, sendSecret as typeSecretNow } from "../../secrets/secret-input.ts";
import { sessionId } from "../params.ts";
import { defineTool } from "../tool.ts";

export const secretParams = {
  session_id: sessionId,
  prompt: z.string().max(300).optional().describe("What the human is asked, e.g. \"sudo password on web1\" (default: the session's password prompt)."),
  line_ending: z.string().optional().describe("Sent after the secret: cr, lf, crlf or none (default: the session's line ending)."),
};

export const sendSecret = defineTool({
  name: "send_secret",
  title: "Type a password the human enters",
  description:
    "Enter a password at a prompt (sudo, ssh, a login, a key passphrase) without seeing it: ask the human for the password or other secret outside your context (a dialog, or the command in PTY_MCP_SECRET_COMMAND) and type it into the session waiting for it. " +
    "You get only {success, length}; the secret never appears in results, logs, recordings or the audit trail. " +
    "The session must be at a password prompt (get_session_state: password_prompt); at a shell prompt it is refused. " +
    "To answer a prompt that will appear later by itself, use prepare_secret.",
  meta: { requiresUserInteraction: true, searchHint: "type a password at a prompt: enter password passphrase secret credential input sudo ssh login human" },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  input: z.object(secretParams),
  output: z.object({ success: z.boolean(), length: z.number() }),
  async run(input, { sessions, signal }) {
    const session = sessions.getOrThrow(input.session_id);
    const length = await typeSecretNow(session, { prompt: input.prompt, lineEnding: resolveLineEnding(session, input.line_ending), signal });
    return { success: true, length };
  },
});
