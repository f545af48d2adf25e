import { z } from "zod";
import { PtyError } from "../../errors.ts";
import { sessionId } from "../params.ts";
import { defineTool } from "../tool.ts";
import { mirrors } from "./persistent.ts";

export const detachSession = defineTool({
  name: "detach_session",
  title: "Detach a persistent session",
  description: "Leave a long job running in the background: stop following a persistent session while its work keeps running in the daemon; reattach later with its session_id. A non-persistent session is refused (NOT_PERSISTENT) rather than closed.",
  meta: { searchHint: "detach background persistent keep running job leave tmux screen" },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input: z.object({ session_id: sessionId }),
  output: z.looseObject({ success: z.boolean(), session_id: z.string() }),
  async run({ session_id }, { sessions }) {
    const session = sessions.getOrThrow(session_id);
    if (!session.persistent || !(await mirrors()).isMirror(session)) {
      throw new PtyError("NOT_PERSISTENT", `Session ${session_id} is not persistent: detaching would end it. Use close_session to end it, or create a session with persistent: true to keep work running.`);
    }
    await (await mirrors()).detachMirror(sessions, session_id);
    return { success: true, session_id };
  },
});
