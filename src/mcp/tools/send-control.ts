import { z } from "zod";
import { KEY_NAMES } from "../../session/keys.ts";
import { sessionId } from "../params.ts";
import { defineTool } from "../tool.ts";

export const sendControl = defineTool({
  name: "send_control",
  title: "Press a key",
  description:
    `Press a key in a terminal session: ctrl+c (ctrl-c) to interrupt a running command, arrow keys, escape, tab, function keys. Keys and chords: ${KEY_NAMES.join(", ")}. ` +
    '"break" sends a real serial BREAK (password recovery on routers); dtr_on/dtr_off/rts_on/rts_off set serial modem lines. ' +
    "Returns at once; read the effect with read_output or read_screen.",
  meta: { searchHint: "key press keystroke ctrl+c ctrl-c interrupt arrow escape tab break control terminal" },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  input: z.object({
    session_id: sessionId,
    key: z.string().min(1).describe('Key name, e.g. "ctrl+c", "enter", "up", "f1", "alt+b", "break".'),
  }),
  output: z.looseObject({ success: z.boolean(), key: z.string(), cursor: z.number(), is_alive: z.boolean() }),
  async run({ session_id, key }, { sessions }) {
    const session = sessions.getOrThrow(session_id);
    await session.sendKey(key);
    return { success: true, key, cursor: session.buffer.end, is_alive: session.isAlive };
  },
});
