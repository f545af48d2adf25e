/** Error codes of SPEC §4. */
export const ERROR_CODES = [
  "INVALID_ARGUMENT",
  "SESSION_NOT_FOUND",
  "SESSION_LIMIT",
  "SESSION_CLOSED",
  "NOT_PERSISTENT",
  "SSH_CONN_FAILED",
  "SSH_AUTH_FAILED",
  "SSH_HOST_KEY_UNKNOWN",
  "SSH_HOST_KEY_MISMATCH",
  "SERIAL_OPEN_FAILED",
  "CONN_FAILED",
  "PROTOCOL_ERROR",
  "WRITE_FAILED",
  "DAEMON_UNAVAILABLE",
  "DEPLOY_FAILED",
  "AUDIT_REJECTED",
  "REGEX_REJECTED",
  "INTERNAL_ERROR",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Whether a code from elsewhere (a daemon's reply) is one of ours. */
export function isErrorCode(code: string): code is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code);
}

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
