import { describe, expect, test } from "bun:test";
import { commandLines } from "./command-lines.ts";

const count = (text: string) => commandLines(text.split("\n"));

describe("commandLines: prompts a bash/zsh will draw after reading the lines", () => {
  test.each([
    ["echo hi", 1],
    ["", 1],
    ["echo a\necho b", 2],
    ["echo a\n\necho b", 3],
    ["echo a; echo b", 1],
    ["cat <<EOF\nhello\nworld\nEOF", 1],
    ["cat <<'EOF'\n$x `y` 'open\nEOF\necho after", 2],
    ["cat <<-EOF\n\tbody\n\tEOF", 1],
    ["cat <<A <<B\na\nA\nb\nB", 1],
    ["cat <<EOF |\nx\nEOF\ntr a-z A-Z", 1],
    ["cat <<< 'here string'\necho b", 2],
    ["echo a \\\n  b \\\n  c", 1],
    ["echo 'one\ntwo'", 1],
    ['echo "one\n$(echo two\n)"', 1],
    ["echo $'a\\'b'\necho c", 2],
    ["ls |\nwc -l", 1],
    ["true &&\necho ok ||\necho no", 1],
    ["sleep 1 &\necho bg", 2],
    ["if true; then\necho yes\nfi", 1],
    ["if true; then echo yes; fi\necho next", 2],
    ["for i in 1 2; do\necho $i\ndone", 1],
    ["while false\ndo\n:\ndone", 1],
    ["case x in\nx) echo x;;\n*) echo other;;\nesac", 1],
    ["f() {\necho in f\n}\nf", 2],
    ["function g {\n:\n}", 1],
    ["(\ncd /tmp\n)", 1],
    ["echo $((1 + (2 * 3)))\necho b", 2],
    ["echo done fi esac\necho b", 2],
    ["echo hi # it's a comment\necho b", 2],
    ["echo a#b 'c'\necho d", 2],
    ["echo `date\n`", 1],
    ["echo 'unclosed", 0],
    ["echo a \\", 0],
    ["if true; then", 0],
    ["cat <<EOF\nno end", 0],
  ])("%j → %d", (text, n) => {
    expect(count(text)).toBe(n);
  });
});
