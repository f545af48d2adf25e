import { describe, expect, test } from "bun:test";
import { splitCommandLine } from "./command-line.ts";
import { commandArgv } from "./open-local.ts";

describe("command line splitting (POSIX words, no expansion)", () => {
  test("words, quotes and backslashes", () => {
    expect(splitCommandLine("ping -c 3 127.0.0.1").words).toEqual(["ping", "-c", "3", "127.0.0.1"]);
    expect(splitCommandLine(`bash -c 'echo boom >&2; exit 3'`)).toEqual({ words: ["bash", "-c", "echo boom >&2; exit 3"], hasShellSyntax: false });
    expect(splitCommandLine(`echo "a \\"b\\" c" d\\ e ''`).words).toEqual(["echo", 'a "b" c', "d e", ""]);
  });
  test("shell syntax outside quotes is detected; unterminated quotes are errors", () => {
    expect(splitCommandLine("tail -f x | grep y").hasShellSyntax).toBe(true);
    expect(splitCommandLine("echo $HOME").hasShellSyntax).toBe(true);
    expect(splitCommandLine("echo a#b").hasShellSyntax).toBe(false);
    expect(() => splitCommandLine("echo 'oops")).toThrow(/Unterminated single quote/);
  });
  test("argv: shell syntax runs under /bin/sh -c, args are appended as they are", () => {
    expect(commandArgv("tail -f x | grep y", undefined)).toEqual(["/bin/sh", "-c", "tail -f x | grep y"]);
    expect(commandArgv("python3 -u", ["script.py", "$x"])).toEqual(["python3", "-u", "script.py", "$x"]);
  });
});
