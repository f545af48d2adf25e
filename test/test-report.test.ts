// scripts/test-report.ts: .ci/run's last line, read from bun's output of both `npm test` runs.
// A skipped or todo test (test.skipIf, describe.skipIf, test.todo …) did not run: on the CI
// machine it counts as failed and is named, unless .ci/expected-skips lists it.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { judge, parseBunOutput, readExpectedSkips } from "../scripts/test-report.ts";

const root = join(import.meta.dir, "..");
// Captured from bun 1.4.5: run 1 over test/alpha.test.ts, test/beta.test.ts and 21 one-test
// files (enough for bun to repeat the skips after "5 tests skipped:"), npm's banner for
// test:2025, then run 2 over test/beta.test.ts. The sources are SAMPLES below.
const fixture = readFileSync(join(root, "test/fixtures/bun-output-two-runs.txt"), "utf8");

const SAMPLES: Record<string, string> = {
  "test/alpha.test.ts": `import { describe, expect, test } from "bun:test";
test("passes", () => expect(1).toBe(1));
test.skip("skipped one", () => {});
test.skipIf(true)("skipIf one", () => {});
test.todo("todo one");
describe.skipIf(true)("zsh group", () => {
  test("inner a", () => {});
  test("inner b", () => {});
});
describe("outer", () => {
  test("fails", () => expect(1).toBe(2));
});
`,
  "test/beta.test.ts": `import { describe, expect, test } from "bun:test";
describe("shell integration (fish)", () => {
  test.skipIf(true)("fish: exit codes exact", () => {});
  test("bash: exit codes exact", () => expect(0).toBe(0));
});
`,
};
for (let i = 1; i <= 21; i++) SAMPLES[`test/many-${String(i).padStart(2, "0")}.test.ts`] = `import { expect, test } from "bun:test";\ntest("many passes", () => expect(1).toBe(1));\n`;

const FISH = "test/beta.test.ts > shell integration (fish) > fish: exit codes exact";
const RUN1 = {
  pass: 23,
  fail: 1,
  skip: 5,
  todo: 1,
  error: 0,
  skipped: ["test/alpha.test.ts > skipped one", "test/alpha.test.ts > skipIf one", "test/alpha.test.ts > zsh group > inner a", "test/alpha.test.ts > zsh group > inner b", FISH],
  todos: ["test/alpha.test.ts > todo one"],
  finished: true,
};
const RUN2 = { pass: 1, fail: 0, skip: 1, todo: 0, error: 0, skipped: [FISH], todos: [], finished: true };

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("test-report", () => {
  test("both runs of captured bun output: counts from the summary, names from the (skip)/(todo) lines, the repeat after 'N tests skipped:' not counted twice", () => {
    expect(parseBunOutput(fixture)).toEqual([RUN1, RUN2]);
  });

  test("every skip and todo not expected is a failure, named with its run", () => {
    const verdict = judge(parseBunOutput(fixture), { runs: 2, expected: [], status: 1, extraPass: 2 });
    expect(verdict).toEqual({
      passed: 26,
      failed: 8,
      notes: [
        "ci: run 1 of 2: skipped, not expected: test/alpha.test.ts > skipped one",
        "ci: run 1 of 2: skipped, not expected: test/alpha.test.ts > skipIf one",
        "ci: run 1 of 2: skipped, not expected: test/alpha.test.ts > zsh group > inner a",
        "ci: run 1 of 2: skipped, not expected: test/alpha.test.ts > zsh group > inner b",
        `ci: run 1 of 2: skipped, not expected: ${FISH}`,
        "ci: run 1 of 2: todo, not expected: test/alpha.test.ts > todo one",
        `ci: run 2 of 2: skipped, not expected: ${FISH}`,
      ],
      last: "tests: 26 passed, 8 failed",
    });
  });

  test("a listed skip is accepted in both runs; a listed test that ran is noted, not counted", () => {
    const expected = readExpectedSkips(
      [
        "# why these may skip",
        `${FISH}   # no fish on that machine`,
        "test/alpha.test.ts > skipped one # skipped in the source",
        "test/alpha.test.ts > skipIf one",
        "test/alpha.test.ts > zsh group > inner a",
        "test/alpha.test.ts > zsh group > inner b",
        "test/alpha.test.ts > todo one",
        "test/gone.test.ts > ran after all",
        "",
      ].join("\n"),
    );
    expect(expected[0]).toBe(FISH);
    expect(judge(parseBunOutput(fixture), { runs: 2, expected, status: 1 })).toEqual({
      passed: 24,
      failed: 1,
      notes: ["ci: note: .ci/expected-skips lists a test that was not skipped: test/gone.test.ts > ran after all"],
      last: "tests: 24 passed, 1 failed",
    });
  });

  test("green output is green; a failed exit with no failing test, a run that never ran, an unfinished run and unnamed skips are failures", () => {
    const green = "bun test v1.4.5 (x)\n\ntest/a.test.ts:\n(pass) a [1.00ms]\n\n 1 pass\n 0 fail\nRan 1 test across 1 file. [5.00ms]\n";
    expect(judge(parseBunOutput(green + green), { runs: 2, expected: [], status: 0, extraPass: 2 }).last).toBe("tests: 4 passed, 0 failed");
    expect(judge(parseBunOutput(green + green), { runs: 2, expected: [], status: 1 }).last).toBe("tests: 2 passed, 1 failed");
    expect(judge(parseBunOutput(green), { runs: 2, expected: [], status: 1 })).toEqual({ passed: 1, failed: 1, notes: ["ci: run 2 of 2 did not run"], last: "tests: 1 passed, 1 failed" });
    const cut = "bun test v1.4.5 (x)\n\ntest/a.test.ts:\n(pass) a [1.00ms]\n";
    expect(judge(parseBunOutput(cut), { runs: 1, expected: [], status: 0 }).notes).toEqual(['ci: run 1 of 1 did not finish (no "Ran N tests" line)']);
    // bun's agent mode (CLAUDECODE=1, AGENT=1) prints no (skip) lines: the count still fails the run.
    const quiet = "bun test v1.4.5 (x)\n\n 1 pass\n 3 skip\n 0 fail\nRan 4 tests across 1 file. [5.00ms]\n";
    expect(judge(parseBunOutput(quiet), { runs: 1, expected: [], status: 0 })).toEqual({ passed: 1, failed: 3, notes: ["ci: run 1 of 1: 3 skipped tests bun did not name"], last: "tests: 1 passed, 3 failed" });
    // Colours (FORCE_COLOR) do not hide anything.
    const coloured = "\x1b[0m\x1b[1mbun test \x1b[0m\x1b[2mv1.4.5 (x)\x1b[0m\n\x1b[1mtest/a.test.ts:\x1b[0m\n\x1b[33m(skip)\x1b[0m b\n\x1b[32m 0 pass\x1b[0m\n\x1b[33m 1 skip\x1b[0m\n 0 fail\nRan 1 test across 1 file. [5.00ms]\n";
    expect(parseBunOutput(coloured)).toEqual([{ pass: 0, fail: 0, skip: 1, todo: 0, error: 0, skipped: ["test/a.test.ts > b"], todos: [], finished: true }]);
  });

  test("the installed bun prints what the fixture holds (the same parse from a live run of the samples)", () => {
    const dir = mkdtempSync(join(tmpdir(), `pty-mcp-test-report-${process.pid}-`));
    dirs.push(dir);
    mkdirSync(join(dir, "test"));
    for (const [path, text] of Object.entries(SAMPLES)) writeFileSync(join(dir, path), text);
    const env: Record<string, string | undefined> = { ...process.env };
    for (const name of ["CLAUDECODE", "AGENT", "REPL_ID", "OPENCODE"]) delete env[name];
    const bun = (...args: string[]): string => {
      const run = Bun.spawnSync([process.execPath, "test", ...args], { cwd: dir, env, stdout: "pipe", stderr: "pipe" });
      return run.stdout.toString() + run.stderr.toString();
    };
    const live = bun("./test") + bun("./test/beta.test.ts");
    expect(parseBunOutput(live)).toEqual([RUN1, RUN2]);
  });

  test("the command line: names, last line, exit code; .ci/run calls it for as many runs as npm test makes", () => {
    const dir = mkdtempSync(join(tmpdir(), `pty-mcp-test-report-${process.pid}-`));
    dirs.push(dir);
    writeFileSync(join(dir, "expected"), `${FISH} # fish\n`);
    const run = Bun.spawnSync(
      [process.execPath, join(root, "scripts/test-report.ts"), "--log", join(root, "test/fixtures/bun-output-two-runs.txt"), "--status", "1", "--runs", "2", "--expected", join(dir, "expected"), "--extra-pass", "2", "--extra-fail", "1"],
      { stdout: "pipe", stderr: "pipe" },
    );
    expect({ exitCode: run.exitCode, lines: run.stdout.toString().trimEnd().split("\n") }).toEqual({
      exitCode: 1,
      lines: [
        "ci: run 1 of 2: skipped, not expected: test/alpha.test.ts > skipped one",
        "ci: run 1 of 2: skipped, not expected: test/alpha.test.ts > skipIf one",
        "ci: run 1 of 2: skipped, not expected: test/alpha.test.ts > zsh group > inner a",
        "ci: run 1 of 2: skipped, not expected: test/alpha.test.ts > zsh group > inner b",
        "ci: run 1 of 2: todo, not expected: test/alpha.test.ts > todo one",
        "tests: 26 passed, 7 failed",
      ],
    });
    const ci = readFileSync(join(root, ".ci/run"), "utf8");
    const scripts = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    const bunRuns = [scripts.test!, scripts["test:2025"]!].join(" && ").match(/\bbun test\b/g)?.length;
    const runsArg = /scripts\/test-report\.ts[^\n]*--runs (\d+)/.exec(ci)?.[1];
    expect({ bunRuns, runsArg: Number(runsArg), expectedList: ci.includes("--expected .ci/expected-skips"), chained: scripts.test!.includes("npm run -s test:2025") }).toEqual({
      bunRuns: 2,
      runsArg: 2,
      expectedList: true,
      chained: true,
    });
    // The list shipped with the repository: on the CI machine every test runs.
    expect(readExpectedSkips(readFileSync(join(root, ".ci/expected-skips"), "utf8"))).toEqual([]);
  });
});
