// ssh_config(5) PATTERNS: host patterns of Host lines, known_hosts entries and Match host.

/** OpenSSH match_pattern_list: any positive match and no negated match; case-insensitive. */
export function hostMatches(patterns: readonly string[], host: string): boolean {
  let matched = false;
  const name = host.toLowerCase();
  for (const raw of patterns) {
    for (const pattern of raw.split(",")) {
      if (pattern.length === 0) continue;
      const negated = pattern.startsWith("!");
      const glob = (negated ? pattern.slice(1) : pattern).toLowerCase();
      if (globMatch(glob, name)) {
        if (negated) return false;
        matched = true;
      }
    }
  }
  return matched;
}

/** `*` any run, `?` one character (ssh_config(5) PATTERNS). */
export function globMatch(pattern: string, text: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${source}$`, "s").test(text);
}
