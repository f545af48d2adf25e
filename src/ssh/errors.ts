/**
 * ssh2's error categories (`err.level`: client-socket, client-timeout,
 * client-authentication, protocol; `err.code`: ECONNREFUSED, ENOTFOUND, …)
 * turned into our codes with messages that say what to do next.
 */
import { PtyError } from "../errors.ts";

export interface HopLabel {
  /** `user@host:port` as the user would recognise it (alias included when it differs). */
  label: string;
  host: string;
  port: number;
}

function field(err: unknown, name: string): unknown {
  return typeof err === "object" && err !== null && name in err ? (err as Record<string, unknown>)[name] : undefined;
}

/**
 * Map a connection-phase failure. `triedMethods` lists what auth tried (for
 * SSH_AUTH_FAILED); `viaJump` names the hop we were going through, if any.
 */
export function mapConnectError(err: unknown, hop: HopLabel, triedMethods: readonly string[], connectTimeoutMs: number, skippedKeys: readonly string[] = []): PtyError {
  if (err instanceof PtyError) return err;
  const level = field(err, "level");
  const code = field(err, "code");
  const text = err instanceof Error ? err.message : String(err);
  const where = hop.label;
  if (level === "client-authentication") {
    const tried = triedMethods.length > 0 ? triedMethods.join(", ") : "none";
    const skipped = skippedKeys.length > 0 ? ` Skipped keys: ${skippedKeys.join("; ")}.` : "";
    const hint = skippedKeys.some((s) => s.includes("encrypted"))
      ? " Give the key's passphrase (passphrase parameter) or load the key into ssh-agent."
      : triedMethods.includes("password") || triedMethods.includes("keyboard-interactive")
        ? " Check the user name and the password, or use a key (key_path, ssh-agent)."
        : " Check the user name, load the key into ssh-agent or pass key_path, or give password.";
    return new PtyError("SSH_AUTH_FAILED", `Authentication to ${where} failed (tried: ${tried}).${skipped}${hint}`, false, {
      cause: err,
      details: skippedKeys.length > 0 ? { tried_methods: [...triedMethods], skipped_keys: [...skippedKeys] } : { tried_methods: [...triedMethods] },
    });
  }
  if (level === "client-timeout" || code === "ETIMEDOUT") {
    return new PtyError(
      "SSH_CONN_FAILED",
      `Connecting to ${where} timed out after ${formatSeconds(connectTimeoutMs)}. Check that the host is up and reachable (VPN, firewall, ProxyJump), or raise connect_timeout.`,
      true,
      { cause: err },
    );
  }
  switch (code) {
    case "ECONNREFUSED":
      return new PtyError("SSH_CONN_FAILED", `Connection to ${where} refused: nothing listens on port ${hop.port}. Check the port and that sshd runs.`, true, { cause: err });
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new PtyError("SSH_CONN_FAILED", `Host name "${hop.host}" does not resolve (DNS). Check the spelling or the HostName in ~/.ssh/config.`, true, { cause: err });
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return new PtyError("SSH_CONN_FAILED", `${where} is unreachable (${String(code)}). Check the network path or use a jump host.`, true, { cause: err });
    case "ECONNRESET":
    case "EPIPE":
      return new PtyError("SSH_CONN_FAILED", `${where} closed the connection during setup (${String(code)}). Retry; if it persists check sshd's logs (MaxStartups, AllowUsers).`, true, { cause: err });
  }
  if (level === "client-socket")
    return new PtyError("SSH_CONN_FAILED", `Connection to ${where} failed: ${text}. Check host and port.`, true, { cause: err });
  return new PtyError("SSH_CONN_FAILED", `SSH handshake with ${where} failed: ${text}. Check that the port speaks SSH and the server allows a modern algorithm.`, true, { cause: err });
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
