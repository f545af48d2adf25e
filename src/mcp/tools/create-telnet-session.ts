import { z } from "zod";
import { PtyError } from "../../errors.ts";
import { buildSinks } from "../../record/sinks.ts";
import { resolveLineEnding, sendSecret } from "../../secrets/secret-input.ts";
import { runDialog, type DialogResult } from "../../session/dialog.ts";
import type { Session } from "../../session/session.ts";
import type { Progress } from "../../session/wait-for.ts";
import { openTelnetSession } from "../../telnet/open-telnet.ts";
import { bool, createCommon, DEFAULT_COLS, DEFAULT_ROWS, int, lineEnding, num } from "../params.ts";
import { defineTool } from "../tool.ts";

/** Login prompts of Unix login(1), busybox, Cisco/Juniper/Arista consoles (matched on the unfinished last line). */
const USER_PROMPT = "(?i)(login|username|user name|user)\\s*:\\s*$";
const PASSWORD_PROMPT = "(?i)(password|passcode)\\s*:\\s*$";
/** After the password: a failure message or the next prompt (a shell's or a device's). */
/** How long login waits for a user prompt before pressing Enter once. */
const WAKE_AFTER_MS = 5000;
const AFTER_LOGIN = ["(?i)(login incorrect|login invalid|access denied|authentication failed|bad password)", "[$#>%]\\s*$"];

/** The login dialog reached a prompt, not a refusal. */
function loggedIn(dialog: DialogResult): boolean {
  return dialog.completed && dialog.steps[2]?.matched_index !== 0;
}

const output = z.looseObject({
  session_id: z.string(),
  type: z.literal("telnet"),
  target: z.string(),
  name: z.string().optional(),
  mode: z.enum(["telnet", "raw"]),
  line_ending: z.string(),
  cols: z.number(),
  rows: z.number(),
  login: z
    .object({
      completed: z.boolean(),
      failed_step: z.string().optional(),
      tail: z.string().optional(),
    })
    .optional(),
  warning: z.string().optional(),
});

export const createTelnetSession = defineTool({
  name: "create_telnet_session",
  title: "Open a telnet or TCP console",
  description:
    "Connect to a console over the network: a console server's reverse-telnet port (Cisco, Opengear, Lantronix, Avocent), ser2net, " +
    "or the telnet console of a GNS3/EVE-NG/containerlab node, or a telnet server. Negotiates character mode, window size (sent again on resize_session) " +
    "and terminal type xterm-256color; raw: true is plain TCP (ser2net raw, netcat-style ports). Consoles are often silent until Enter: send_input with an empty input wakes them. " +
    "login: true with user answers the login/Username prompt with user (pressing Enter first when the console stays silent for 5 s) and the password prompt with a secret the human types (never a password from you). " +
    "send_control break sends telnet BREAK (IAC BRK). For a serial port behind RFC 2217 use create_serial_session with device rfc2217://host:port.",
  meta: { searchHint: "telnet console server network console ser2net gns3 eve-ng containerlab router switch tcp port" },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  input: z.object({
    host: z.string().min(1).max(255).describe("Host name or address of the console server, lab host or telnet server."),
    port: int(1, 65535).optional().describe("TCP port (default 23). Console servers map serial lines to ports such as 2001…; GNS3 and containerlab consoles use 5000… ."),
    raw: bool.optional().describe("Plain TCP: bytes as they are, no telnet negotiation (ser2net raw ports, netcat-style consoles). Default false."),
    user: z.string().min(1).max(256).optional().describe("User name typed at the login/Username prompt when login is true."),
    login: bool.optional().describe("Log in: answer the login/Username prompt with user, then the password prompt with a secret the human enters (the send_secret flow). Default false."),
    line_ending: z.string().max(8).optional().describe('What send_input appends (default "\\r\\n", a telnet newline; one Enter). Also "\\r", cr, lf, crlf, none.'),
    connect_timeout: num(0.1, 600).optional().describe("Seconds to wait for the TCP connection (default 15)."),
    ...createCommon,
  }),
  output,
  async run(input, { sessions, signal, progress }) {
    const port = input.port ?? 23;
    const raw = input.raw ?? false;
    if (input.login && !input.user) throw new PtyError("INVALID_ARGUMENT", "login: true needs user (the name typed at the login prompt); the password is asked from the human.");
    if (input.login && raw) throw new PtyError("INVALID_ARGUMENT", "login works with telnet (raw: false); a raw console shows its prompts like any other output: use run_dialog.");
    let ending = "\r\n";
    if (input.line_ending !== undefined) {
      const parsed = lineEnding(input.line_ending);
      if (parsed === undefined) throw new PtyError("INVALID_ARGUMENT", `line_ending ${JSON.stringify(input.line_ending)} is not a line ending: use "\\r\\n" (default), "\\r", "\\n", or the names cr, lf, crlf, none.`);
      ending = parsed;
    }
    const cols = input.cols ?? DEFAULT_COLS;
    const rows = input.rows ?? DEFAULT_ROWS;
    const target = `${input.host.includes(":") ? `[${input.host}]` : input.host}:${port}`;
    const userStep = { expect: USER_PROMPT, send: input.user };
    const login = async (session: Session, abort: AbortSignal, report?: Progress): Promise<DialogResult> => {
      // A console-server port is often silent until Enter: no user prompt within 5 s → press Enter once, look again.
      const woken = await runDialog(session, { steps: [{ ...userStep, timeoutMs: WAKE_AFTER_MS }], timeoutMs: WAKE_AFTER_MS, signal: abort });
      if (!woken.completed && session.isAlive && !abort.aborted) await session.write(session.lineEnding, { kind: "input", data: "" });
      const rest = await runDialog(session, {
        steps: [...(woken.completed ? [] : [userStep]), { expect: PASSWORD_PROMPT, secret: true }, { expect: AFTER_LOGIN, timeoutMs: 15_000 }],
        timeoutMs: 120_000,
        signal: abort,
        progress: report,
        typeSecret: (target, abort) => sendSecret(target, { lineEnding: resolveLineEnding(target, undefined), signal: abort }),
      });
      if (!woken.completed) return rest;
      // One result for the three steps (user, password, after), as if one dialog ran them.
      return { ...rest, steps: [...woken.steps, ...rest.steps.map((step) => ({ ...step, index: step.index + 1 }))], ...(rest.failed_step === undefined ? {} : { failed_step: rest.failed_step + 1 }) };
    };
    const { session, warning } = await openTelnetSession(sessions, {
      host: input.host,
      port,
      mode: raw ? "raw" : "telnet",
      type: "telnet",
      target,
      connectTimeoutMs: (input.connect_timeout ?? 15) * 1000,
      lineEnding: ending,
      name: input.name,
      cols,
      rows,
      autoPager: input.auto_pager,
      sinks: () => buildSinks({ ...input, cols, rows }),
      // After reconnect_session: the same login (the human is asked for the password again).
      ...(input.login && input.user ? { relogin: async (s: Session, abort: AbortSignal) => ({ completed: loggedIn(await login(s, abort)) }) } : {}),
    });
    const result: z.input<typeof output> = { session_id: session.id, type: "telnet", target, mode: raw ? "raw" : "telnet", line_ending: ending, cols, rows };
    if (input.name) result.name = input.name;
    if (warning) result.warning = warning;
    if (input.login && input.user) {
      const dialog = await login(session, signal, progress);
      const refused = dialog.completed && !loggedIn(dialog);
      const failedStep = refused ? "refused" : dialog.completed ? undefined : (["user prompt", "password prompt", "after password"][dialog.failed_step ?? 0] ?? "user prompt");
      result.login = { completed: dialog.completed && !refused };
      if (failedStep) {
        result.login.failed_step = failedStep;
        if (dialog.tail !== undefined) result.login.tail = dialog.tail;
        else if (refused) result.login.tail = dialog.steps[2]?.match_line;
        const why = dialog.error ? ` ${dialog.error.message}` : "";
        result.warning = [result.warning, refused ? "The login was refused (wrong user or password?); the session is at the login prompt again." : `The login did not complete (at the ${failedStep}).${why} read_output shows where the console is.`].filter(Boolean).join(" ");
      }
    }
    return result;
  },
});
