/**
 * Credential-looking text in typed commands and output snippets is masked before
 * an audit entry leaves the process, as the Go original does (internal/audit/redact.go):
 * `password=…`/`token: …` to the end of the line, Authorization header values, and
 * PEM private key blocks. Secrets typed with send_secret never reach the audit log
 * at all; this catches the ones an agent or a program printed in the clear.
 */
const rules: readonly { pattern: RegExp; replacement: string }[] = [
  {
    pattern: /((?:password|passwd|secret|token|api[_-]?key|access[_-]?key|auth[_-]?token)\s*[=:]\s*)[^\n]+/gi,
    replacement: "$1[REDACTED]",
  },
  { pattern: /(Authorization:\s*(?:Bearer|Basic|Token)\s+)\S+/gi, replacement: "$1[REDACTED]" },
  {
    pattern: /-----BEGIN (?:[A-Z ]+ )?PRIVATE KEY-----[\s\S]*?-----END (?:[A-Z ]+ )?PRIVATE KEY-----/g,
    replacement: "[PRIVATE KEY REDACTED]",
  },
];

export function redactCredentials(text: string): string {
  let result = text;
  for (const rule of rules) result = result.replace(rule.pattern, rule.replacement);
  return result;
}
