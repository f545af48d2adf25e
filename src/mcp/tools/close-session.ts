import { z } from "zod";
import { sessionId } from "../params.ts";
import { defineTool } from "../tool.ts";

export const closeSession = defineTool({
  name: "close_session",
  title: "Close a session",
  description: "Close a terminal session and end its program: the program gets SIGHUP (then SIGKILL), the connection or port is closed, a persistent session's PTY too. Its output is gone afterwards.",
  meta: { searchHint: "close end kill exit terminal disconnect" },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  input: z.object({ session_id: sessionId }),
  output: z.looseObject({ success: z.boolean(), session_id: z.string(), exit_code: z.number().nullable().optional(), exit_signal: z.string().optional() }),
  async run({ session_id }, { sessions }) {
    const session = await sessions.close(session_id);
    const result: { success: boolean; session_id: string; exit_code?: number | null; exit_signal?: string } = { success: true, session_id };
    if (session.exit) {
      result.exit_code = session.exit.code;
      if (session.exit.signal) result.exit_signal = session.exit.signal;
    }
    return result;
  },
});
