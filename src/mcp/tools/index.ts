// Every tool the server offers, in the order tools/list shows them.
import type { Tool } from "../tool.ts";
import { closeSession } from "./close-session.ts";
import { createLocalSession } from "./create-local-session.ts";
import { createSerialSession } from "./create-serial-session.ts";
import { createSshSession } from "./create-ssh-session.ts";
import { createTelnetSession } from "./create-telnet-session.ts";
import { detachSession } from "./detach-session.ts";
import { getSessionState } from "./get-session-state.ts";
import { listHosts } from "./list-hosts.ts";
import { listRemoteSessions } from "./list-remote-sessions.ts";
import { listSerialPorts } from "./list-serial-ports.ts";
import { listSessions } from "./list-sessions.ts";
import { prepareSecret } from "./prepare-secret.ts";
import { readOutput } from "./read-output.ts";
import { readScreen } from "./read-screen.ts";
import { reconnectSession } from "./reconnect-session.ts";
import { resizeSession } from "./resize-session.ts";
import { runOnHostsTool } from "./run-on-hosts.ts";
import { transferFileTool } from "./transfer-file.ts";
import { runDialog } from "./run-dialog.ts";
import { sendControl } from "./send-control.ts";
import { sendInput } from "./send-input.ts";
import { sendSecret } from "./send-secret.ts";

export const tools: readonly Tool[] = [
  createLocalSession,
  createSshSession,
  createSerialSession,
  createTelnetSession,
  listSerialPorts,
  sendInput,
  readOutput,
  readScreen,
  sendControl,
  runDialog,
  reconnectSession,
  sendSecret,
  prepareSecret,
  resizeSession,
  getSessionState,
  listSessions,
  closeSession,
  detachSession,
  listRemoteSessions,
  listHosts,
  runOnHostsTool,
  transferFileTool,
];
