import { z } from "zod";
import { int, sessionId } from "../params.ts";
import { defineTool } from "../tool.ts";

export const readScreen = defineTool({
  name: "read_screen",
  title: "Read the screen",
  description:
    "See the terminal screen as a human sees it (full-screen programs: top, htop, vim, less, menus): the rendered terminal, one string per row, the cursor position, the alternate screen flag and the window title. " +
    "Use it for full-screen programs (top, vim, less, menus) where read_output's stream of escapes is not what is shown.",
  meta: { searchHint: "screen screenshot display full-screen tui top vim less curses terminal" },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    session_id: sessionId,
    scrollback: int(0, 1000).optional().describe("Also return up to this many lines scrolled off above the screen (default 0)."),
  }),
  output: z.looseObject({
    lines: z.array(z.string()),
    cursor: z.object({ row: z.number(), col: z.number() }),
    cols: z.number(),
    rows: z.number(),
    alternate_screen: z.boolean(),
    title: z.string(),
    is_alive: z.boolean(),
  }),
  async run({ session_id, scrollback }, { sessions }) {
    const session = sessions.getOrThrow(session_id);
    return { ...(await session.snapshot(scrollback ?? 0)), is_alive: session.isAlive };
  },
});
