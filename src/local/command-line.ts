// Splits a command line into words the way a POSIX shell does (quotes and backslashes),
// without any expansion: no variables, globs, tilde or command substitution.
// Reference: POSIX.1-2017 XCU §2.2 Quoting, §2.6.5 Field Splitting.
import { PtyError } from "../errors.ts";

export interface SplitCommand {
  words: string[];
  /** The line uses shell syntax outside quotes (| & ; < > $ ` ( ) * ? ~ !): words alone cannot run it. */
  hasShellSyntax: boolean;
}

const SHELL_SYNTAX = new Set(["|", "&", ";", "<", ">", "$", "`", "(", ")", "*", "?", "{", "}", "~", "!", "#"]);

export function splitCommandLine(line: string): SplitCommand {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let hasShellSyntax = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) throw new PtyError("INVALID_ARGUMENT", `Unterminated single quote in command: ${line}`);
      word += line.slice(i + 1, close);
      inWord = true;
      i = close;
    } else if (ch === '"') {
      inWord = true;
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        const c = line[j]!;
        if (c === "\\" && j + 1 < line.length && '"\\$`\n'.includes(line[j + 1]!)) {
          if (line[j + 1] !== "\n") word += line[j + 1];
          j++;
        } else {
          if (c === "$" || c === "`") hasShellSyntax = true;
          word += c;
        }
      }
      if (j >= line.length) throw new PtyError("INVALID_ARGUMENT", `Unterminated double quote in command: ${line}`);
      i = j;
    } else if (ch === "\\") {
      if (i + 1 < line.length) {
        if (line[i + 1] !== "\n") word += line[i + 1];
        inWord = true;
        i++;
      }
    } else if (ch === " " || ch === "\t" || ch === "\n") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      // `#` starts a comment only at the start of a word; `~` expands only there too.
      if (SHELL_SYNTAX.has(ch) && !((ch === "#" || ch === "~") && inWord)) hasShellSyntax = true;
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return { words, hasShellSyntax };
}
