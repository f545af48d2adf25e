import { z } from "zod";
import { reconnectSession as reconnect } from "../../session/reconnect.ts";
import { num, sessionId } from "../params.ts";
import { defineTool } from "../tool.ts";

export const reconnectSession = defineTool({
  name: "reconnect_session",
  title: "Reconnect after a reboot",
  description:
    "Wait until a rebooted host is back online and reconnect an SSH or telnet session to it, in one call: after `sudo reboot` (or a dropped link) the session ends (is_alive: false); " +
    "this waits until the host accepts connections again (retrying with backoff from 1 s to 10 s, with progress), reconnects with the same parameters and host-key check (a changed key is SSH_HOST_KEY_MISMATCH), " +
    "and starts a new login shell. The session keeps its id and cursors; one line in its output marks when the link ended and came back. " +
    "Returns {reconnected, down_for_ms, attempts, cursor}; reconnected: false with timed_out when the host did not come back within timeout. Refused while the session is still connected.",
  meta: { searchHint: "reboot restart wait until host back online reconnect ssh telnet link lost server down" },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  task: "optional",
  input: z.object({
    session_id: sessionId,
    timeout: num(0, 86_400).optional().describe("Seconds to wait for the host to come back (default 600)."),
  }),
  output: z.object({
    reconnected: z.boolean(),
    down_for_ms: z.number().describe("From when the link ended until it came back (or until now)."),
    attempts: z.number(),
    cursor: z.number(),
    timed_out: z.boolean().optional(),
    cancelled: z.boolean().optional(),
    last_error: z.object({ code: z.string(), message: z.string() }).optional().describe("Why the host did not come back: the last attempt's error; when the timeout cut that attempt short, the last reason an attempt got by itself (refused, host key, DNS, a jump host that could not reach the target). A timeout only when the attempts timed out on their own."),
    login: z.object({ completed: z.boolean() }).optional().describe("A telnet session created with login: true logs in again (the human is asked for the password); whether that completed."),
  }),
  async run(input, { sessions, signal, progress }) {
    const session = sessions.getOrThrow(input.session_id);
    return reconnect(session, { timeoutMs: (input.timeout ?? 600) * 1000, signal, progress });
  },
});
