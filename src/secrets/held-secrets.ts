import { SecretRedactor } from "./secret-redactor.ts";

/**
 * The secrets this process holds (send_secret, prepare_secret), redacted from every
 * tool result, log file, recording and audit entry. One per process: the server's.
 */
export const heldSecrets = new SecretRedactor();
