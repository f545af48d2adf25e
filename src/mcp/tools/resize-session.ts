import { z } from "zod";
import { int, sessionId } from "../params.ts";
import { defineTool } from "../tool.ts";

export const resizeSession = defineTool({
  name: "resize_session",
  title: "Resize terminal",
  description: "Resize a terminal session's window (columns and rows). Full-screen programs redraw; read_screen shows the result.",
  meta: { searchHint: "resize terminal window size columns rows" },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({ session_id: sessionId, cols: int(2, 1000), rows: int(2, 1000) }),
  output: z.looseObject({ session_id: z.string(), cols: z.number(), rows: z.number() }),
  async run({ session_id, cols, rows }, { sessions }) {
    const session = sessions.getOrThrow(session_id);
    await session.resize({ cols, rows });
    return { session_id, cols, rows };
  },
});
