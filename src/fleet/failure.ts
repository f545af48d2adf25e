/** A host's failure in a fleet result: the error's code and message, the host key's fingerprint when there is one. */
import { errorMessage, PtyError } from "../errors.ts";
import type { FleetHost } from "./targets.ts";

export interface HostFailure {
  host: string;
  code: string;
  message: string;
  fingerprint?: string;
}

export function hostFailure(host: FleetHost, err: unknown): HostFailure {
  if (!(err instanceof PtyError)) return { host: host.name, code: "INTERNAL_ERROR", message: errorMessage(err) };
  const failure: HostFailure = { host: host.name, code: err.code, message: err.message };
  const d = err.details ?? {};
  if (typeof d.fingerprint === "string") failure.fingerprint = d.fingerprint;
  // The SSH message says "call again with accept_host_key"; fleet tools have no such parameter.
  if (err.code === "SSH_HOST_KEY_UNKNOWN" && typeof d.fingerprint === "string" && typeof d.host === "string" && typeof d.port === "number") {
    const user = d.host === host.hostname && d.port === host.port ? `, user: "${host.user}"` : "";
    failure.message = `The host key of ${d.host}:${d.port} is not in known_hosts: ${String(d.key_type)} ${d.fingerprint}. Verify this fingerprint with the host's administrator, then record it with create_ssh_session {host: "${d.host}", port: ${d.port}${user}, accept_host_key: "${d.fingerprint}"} and run again.`;
  }
  return failure;
}
