/** Error codes of SPEC §4. */
export type ErrorCode =
  | "INVALID_ARGUMENT"
  | "SESSION_NOT_FOUND"
  | "SESSION_LIMIT"
  | "SESSION_CLOSED"
  | "NOT_PERSISTENT"
  | "SSH_CONN_FAILED"
  | "SSH_AUTH_FAILED"
  | "SSH_HOST_KEY_UNKNOWN"
  | "SSH_HOST_KEY_MISMATCH"
  | "SERIAL_OPEN_FAILED"
  | "CONN_FAILED"
  | "PROTOCOL_ERROR"
  | "WRITE_FAILED"
  | "DAEMON_UNAVAILABLE"
  | "DEPLOY_FAILED"
  | "AUDIT_REJECTED"
  | "REGEX_REJECTED"
  | "INTERNAL_ERROR";

/**
 * A failure an agent can act on. `message` says what to do next; `details`
 * carries structured facts (e.g. a host key fingerprint) that are merged into
 * the error result next to `{code, message, retryable}`.
 */
export class PtyError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryable = false,
    options?: ErrorOptions & { details?: Record<string, unknown> },
  ) {
    super(message, options);
    this.details = options?.details;
  }
  readonly details: Record<string, unknown> | undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
