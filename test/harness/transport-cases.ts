// The transports of the cross-transport interaction suite (test/interaction.test.ts). Each case
// puts the same program behind its transport — a plain bash with the prompt "$ " and no rc files —
// and says how to open a session on it through the compiled binary. A new transport adds a case
// here (or beside its own harness) and one line to the suite's list.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupDaemons, runtimeDir, server } from "./daemon.ts";
import { McpHarness, plainBash } from "./mcp.ts";
import { startSerialShell, startTcpShell } from "./socat.ts";
import { knownHostsLine, makeKey, startSshd, tempDir, type Sshd } from "./sshd.ts";

/** What a transport offers beyond bytes in and out. */
export interface CaseTraits {
  /** resize_session reaches the program (a PTY size it can read with `stty size`); a serial line has no size. */
  resizeReachesProgram: boolean;
}

export interface OpenedCase {
  server: McpHarness;
  /** Opens a session on a fresh bash and returns its id once the first prompt was drawn and read. */
  open(): Promise<string>;
  close(): Promise<void>;
}

export interface TransportCase {
  name: string;
  traits: CaseTraits;
  start(): Promise<OpenedCase>;
}

/** Waits until a new session's bash answers: its READY line, then the prompt after it. */
export async function ready(h: McpHarness, id: string): Promise<string> {
  const r = await h.call<{ matched: boolean }>("send_input", { session_id: id, input: "echo READY-$((40+2))", wait_for: "^READY-42$", wait_for_timeout: 30 });
  if (!r.matched) throw new Error(`session ${id} never answered: ${JSON.stringify(r)}`);
  const prompt = await h.call<{ matched: boolean }>("read_output", { session_id: id, wait_for: "^\\$ $", timeout: 30 });
  if (!prompt.matched) throw new Error(`session ${id} drew no prompt after READY: ${JSON.stringify(prompt)}`);
  return id;
}

/** A bash on a local PTY of the MCP server. */
export const localCase: TransportCase = {
  name: "local",
  traits: { resizeReachesProgram: true },
  async start() {
    const h = await McpHarness.start();
    return {
      server: h,
      open: async () => ready(h, (await h.call<{ session_id: string }>("create_local_session", { ...plainBash, shell_integration: false })).session_id),
      close: () => h.close(),
    };
  },
};

/** A bash in a private daemon (persistent: true), mirrored by the MCP server. */
export const daemonCase: TransportCase = {
  name: "daemon",
  traits: { resizeReachesProgram: true },
  async start() {
    const h = await server(runtimeDir("pty-mcp-ix-"));
    return {
      server: h,
      open: async () => ready(h, (await h.call<{ session_id: string }>("create_local_session", { ...plainBash, shell_integration: false, persistent: true })).session_id),
      close: () => cleanupDaemons(),
    };
  },
};

/** A bash over SSH: a throwaway sshd on loopback, key auth, the host key in known_hosts. */
export const sshCase: TransportCase = {
  name: "ssh",
  traits: { resizeReachesProgram: true },
  async start() {
    const home = tempDir("pty-mcp-ix-ssh-");
    const sshDir = join(home.path, ".ssh");
    mkdirSync(sshDir, { recursive: true, mode: 0o700 });
    let sshd: Sshd | undefined;
    try {
      sshd = await startSshd();
      const key = makeKey(join(sshDir, "id_ed25519"));
      sshd.authorize(key.pub);
      writeFileSync(join(sshDir, "known_hosts"), `${knownHostsLine(sshd)}\n`);
      const h = await McpHarness.start({ env: { HOME: home.path, SSH_AUTH_SOCK: "" } });
      const port = sshd.port;
      return {
        server: h,
        open: async () =>
          ready(h, (await h.call<{ session_id: string }>("create_ssh_session", { host: "127.0.0.1", port, user: "root", command: "env PS1='$ ' PROMPT_COMMAND= bash --norc --noprofile" })).session_id),
        close: async () => {
          await h.close();
          await sshd?.[Symbol.asyncDispose]();
          home[Symbol.dispose]();
        },
      };
    } catch (err) {
      await sshd?.[Symbol.asyncDispose]();
      home[Symbol.dispose]();
      throw err;
    }
  },
};

/** A bash behind a serial line (socat: a raw pty, bash on a pty of its own; see startSerialShell). */
export const serialCase: TransportCase = {
  name: "serial",
  traits: { resizeReachesProgram: false },
  async start() {
    const h = await McpHarness.start();
    const consoles: Array<{ kill(): Promise<void> }> = [];
    return {
      server: h,
      open: async () => {
        const console = await startSerialShell({ PS1: "$ ", PROMPT_COMMAND: "", TERM: "xterm-256color" });
        consoles.push(console);
        return ready(h, (await h.call<{ session_id: string }>("create_serial_session", { device: console.device, baud_rate: 115200 })).session_id);
      },
      close: async () => {
        await h.close();
        for (const c of consoles.splice(0)) await c.kill();
      },
    };
  },
};

/** A bash behind a raw TCP console port (create_telnet_session raw: true, as a ser2net raw port). */
export const telnetRawCase: TransportCase = {
  name: "telnet (raw)",
  traits: { resizeReachesProgram: false },
  async start() {
    const h = await McpHarness.start();
    const consoles: Array<{ kill(): Promise<void> }> = [];
    return {
      server: h,
      open: async () => {
        const shell = await startTcpShell({ PS1: "$ ", PROMPT_COMMAND: "", TERM: "xterm-256color" });
        consoles.push(shell);
        return ready(h, (await h.call<{ session_id: string }>("create_telnet_session", { host: "127.0.0.1", port: shell.port, raw: true, line_ending: "cr" })).session_id);
      },
      close: async () => {
        await h.close();
        for (const c of consoles.splice(0)) await c.kill();
      },
    };
  },
};
