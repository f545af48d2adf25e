/**
 * Credential-looking text in typed commands and output snippets is masked before
 * an audit entry leaves the process, as the Go original does (internal/audit/redact.go):
 * `password=…`/`token: …` to the end of the line, Authorization header values, and
 * PEM private key blocks. Secrets typed with send_secret never reach the audit log
 * at all; this catches the ones an agent or a program printed in the clear.
 *
 * Every rule runs in time linear in the text: the line rules have bounded backtracking, and PEM
 * blocks are found by a scan (below), not by a lazy `[\s\S]*?` that rescanned the rest of the
 * text from every BEGIN (1 MB of BEGIN lines took 27 s).
 */
const rules: readonly { pattern: RegExp; replacement: string }[] = [
  {
    pattern: /((?:password|passwd|secret|token|api[_-]?key|access[_-]?key|auth[_-]?token)\s*[=:]\s*)[^\n]+/gi,
    replacement: "$1[REDACTED]",
  },
  { pattern: /(Authorization:\s*(?:Bearer|Basic|Token)\s+)\S+/gi, replacement: "$1[REDACTED]" },
];

const PEM_BEGIN = /-----BEGIN (?:[A-Z ]+ )?PRIVATE KEY-----/g;
const PEM_END = /-----END (?:[A-Z ]+ )?PRIVATE KEY-----/g;
const PEM_REPLACEMENT = "[PRIVATE KEY REDACTED]";

/**
 * Each BEGIN to the first END after it becomes one marker. A BEGIN with no END after it masks
 * the rest of the text (a snippet cut inside a key keeps no key body), and then no later BEGIN
 * can have an END either, so the scan stops: every character is looked at at most twice.
 */
function redactPemBlocks(text: string): string {
  let result = "";
  let position = 0;
  for (;;) {
    PEM_BEGIN.lastIndex = position;
    const begin = PEM_BEGIN.exec(text);
    if (!begin) return result + text.slice(position);
    result += text.slice(position, begin.index) + PEM_REPLACEMENT;
    PEM_END.lastIndex = begin.index + begin[0].length;
    const end = PEM_END.exec(text);
    if (!end) return result;
    position = end.index + end[0].length;
  }
}

export function redactCredentials(text: string): string {
  let result = redactPemBlocks(text);
  for (const rule of rules) result = result.replace(rule.pattern, rule.replacement);
  return result;
}
