// How many times a POSIX shell (bash, zsh) will come back to its prompt after reading some typed
// lines: once per line that ends a complete command. A line does not end one when it ends in a `\`
// continuation, inside quotes or `$(…)`, a `|`/`&&`/`||`, an open compound (if/for/while/until/
// case/select, `{`, `(`), or while here-documents are still being read (until their delimiter
// line). An empty line at the prompt draws a new prompt too. Exact completion (completion.ts) waits
// for that many hooked prompts instead of waiting for quiet. One linear pass; no regex.

const OPENERS: Record<string, string> = { if: "fi", case: "esac", for: "done", while: "done", until: "done", select: "done", "{": "}" };
const CLOSERS = new Set(["fi", "esac", "done", "}"]);
/** Reserved words after which the next word is again in command position. */
const LEADS = new Set(["if", "then", "else", "elif", "do", "while", "until", "!", "{", "time"]);
const OPERATOR = new Set([";", "&", "|", "(", ")", "<", ">"]);
const SPACE = new Set([" ", "\t"]);

type Frame = "'" | "$'" | '"' | "`" | "$(" | "$((" | "${";

/** The number of `lines` after which the shell draws a new prompt (bash/zsh grammar). */
export function commandLines(lines: readonly string[]): number {
  const nest: Frame[] = []; // quotes and substitutions open across lines
  const blocks: string[] = []; // closing words of the open compounds
  const heredocs: { delimiter: string; stripTabs: boolean }[] = [];
  let complete = 0;
  let continued = false; // the last line ended in a `\` continuation: the next one goes on with the same word
  let pendingOperator = false; // the last line ended in `|`, `&&` or `||`
  let commandPosition = true;
  let word = ""; // the word being read (a `\` continuation or an open quote carries it to the next line)
  let wordAtCommand = false; // it started in command position (a reserved word counts there only)
  let functionName = false; // the word after `function`: its body (`{`) follows in command position
  const endWord = () => {
    if (word === "") return;
    if (functionName) {
      functionName = false;
      commandPosition = true;
    } else if (wordAtCommand && nest.length === 0) {
      functionName = word === "function";
      if (word in OPENERS) blocks.push(OPENERS[word]!);
      else if (CLOSERS.has(word) && blocks[blocks.length - 1] === word) blocks.pop();
      commandPosition = LEADS.has(word) || CLOSERS.has(word);
    } else commandPosition = false;
    word = "";
  };
  for (const line of lines) {
    if (heredocs.length > 0 && nest.length === 0) {
      const h = heredocs[0]!;
      if ((h.stripTabs ? line.replace(/^\t+/, "") : line) === h.delimiter) heredocs.shift();
      if (heredocs.length === 0 && blocks.length === 0 && !pendingOperator) complete++;
      continue;
    }
    if (!continued) commandPosition = true; // a newline separates commands like `;`
    continued = false;
    pendingOperator = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      const top = nest[nest.length - 1];
      if (top === "'") {
        if (c === "'") nest.pop();
        continue;
      }
      if (top === "$'" || top === '"') {
        if (c === "\\") {
          if (i === line.length - 1) continued = true;
          i++;
        } else if ((top === "$'" && c === "'") || (top === '"' && c === '"')) nest.pop();
        else if (top === '"' && c === "`") nest.push("`");
        else if (top === '"' && c === "$" && line[i + 1] === "(") {
          nest.push(line[i + 2] === "(" ? "$((" : "$(");
          i += line[i + 2] === "(" ? 2 : 1;
        } else if (top === '"' && c === "$" && line[i + 1] === "{") {
          nest.push("${");
          i++;
        }
        continue;
      }
      // Code: top level, or inside `…`, $(…), $((…)), ${…}.
      if (c === "\\") {
        if (i === line.length - 1) continued = true;
        else word += `\\${line[i + 1]}`; // never a reserved word
        i++;
        continue;
      }
      if (c === "'" || c === '"') {
        if (word === "") wordAtCommand = false;
        nest.push(word.endsWith("$") && c === "'" ? "$'" : c);
        word += c;
        continue;
      }
      if (c === "`") {
        if (top === "`") nest.pop();
        else nest.push("`");
        word += c;
        continue;
      }
      if (c === "$" && line[i + 1] === "(") {
        nest.push(line[i + 2] === "(" ? "$((" : "$(");
        i += line[i + 2] === "(" ? 2 : 1;
        word += "$(";
        continue;
      }
      if (c === "$" && line[i + 1] === "{") {
        nest.push("${");
        i++;
        word += "${";
        continue;
      }
      if (top === "${" && c === "}") {
        nest.pop();
        word += c;
        continue;
      }
      if (top === "$((" && c === ")" && line[i + 1] === ")") {
        nest.pop();
        i++;
        word += "))";
        continue;
      }
      if (top === "$(" && c === ")") {
        nest.pop();
        word += c;
        continue;
      }
      if (top !== undefined) {
        if (c === "#" && (word === "" || SPACE.has(line[i - 1]!))) break; // a comment inside $(…)
        word += c;
        continue;
      }
      if (c === "#" && word === "") break; // a comment to the end of the line
      if (SPACE.has(c)) {
        endWord();
        continue;
      }
      if (!OPERATOR.has(c)) {
        if (word === "") wordAtCommand = commandPosition;
        word += c;
        continue;
      }
      endWord();
      pendingOperator = false;
      if (c === "<" && line[i + 1] === "<" && line[i + 2] === "<") {
        i += 2; // a here-string
        continue;
      }
      if (c === "<" && line[i + 1] === "<") {
        const stripTabs = line[i + 2] === "-";
        i += stripTabs ? 3 : 2;
        while (SPACE.has(line[i] ?? "")) i++;
        let delimiter = "";
        for (; i < line.length && !SPACE.has(line[i]!) && !OPERATOR.has(line[i]!); i++) if (line[i] !== "'" && line[i] !== '"' && line[i] !== "\\") delimiter += line[i];
        i--;
        if (delimiter !== "") heredocs.push({ delimiter, stripTabs });
        continue;
      }
      if (c === "(") {
        if (commandPosition) blocks.push(")");
        else if (line[i + 1] === ")") i++; // f() …
        commandPosition = true;
        continue;
      }
      if (c === ")") {
        if (blocks[blocks.length - 1] === ")") blocks.pop();
        commandPosition = true; // also a case pattern's end
        continue;
      }
      if (c === "|" || (c === "&" && line[i + 1] === "&")) {
        if (line[i + 1] === c || (c === "|" && line[i + 1] === "&")) i++;
        pendingOperator = true;
        commandPosition = true;
        continue;
      }
      if (c === ";" || c === "&") commandPosition = true;
    }
    if (!continued && nest.length === 0) endWord();
    if (nest.length === 0 && !continued && !pendingOperator && heredocs.length === 0 && blocks.length === 0) complete++;
  }
  return complete;
}
