import { z } from "zod";
import { sessionState, sessionStateShape } from "../session-info.ts";
import { sessionId } from "../params.ts";
import { defineTool } from "../tool.ts";

export const getSessionState = defineTool({
  name: "get_session_state",
  title: "Session state",
  description:
    "Check a terminal session's state: is the command still running or finished, what is it doing: alive or exited (with exit_code), at a prompt, at a password prompt (echo_off), a confirmation, a pager, or running; " +
    "the last prompt, network CLI mode (user/enable/config), size and cursors.",
  meta: { searchHint: "state status running finished done exit code alive busy" },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({ session_id: sessionId }),
  output: sessionStateShape,
  async run({ session_id }, { sessions }) {
    return sessionState(sessions.getOrThrow(session_id));
  },
});
