import { z } from "zod";
import { sessionState, sessionStateShape } from "../session-info.ts";
import { defineTool } from "../tool.ts";

export const listSessions = defineTool({
  name: "list_sessions",
  title: "List sessions",
  description: "List the open terminal sessions: all sessions of this server, ended ones included (with exit_code) until close_session.",
  meta: { searchHint: "list sessions open terminals shells" },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({}),
  output: z.looseObject({ sessions: z.array(sessionStateShape) }),
  async run(_input, { sessions }) {
    return { sessions: sessions.list().map(sessionState) };
  },
});
