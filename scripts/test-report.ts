// The last line of .ci/run: `tests: N passed, M failed`, read from the output of `npm test`
// (bun test runs twice: the 2026-07-28 generation over everything, then the 2025-11-25 generation
// over the MCP-level suites). On the CI machine everything the tests need is installed, so a
// test that did not run is a failure: every skipped or todo test counts as failed and is named,
// unless .ci/expected-skips lists it (with the reason). A developer's `npm test` is not judged
// by this; it may skip (pretest and the suites say so).
//
// bun 1.4 (not a TTY) prints per file `path/x.test.ts:` and then one line per test:
// `(pass) describe > name [1.2ms]`, `(fail) …`, `(skip) …`, `(todo) …`; with many files it
// repeats the skips/todos/fails after `N tests skipped:` etc.; the run ends with ` N pass`,
// ` N skip`, ` N todo`, ` N fail`, ` N error` lines and `Ran N tests across M files.`. The
// counts are the truth; the (skip) lines only give the names (bun's agent mode prints none, so
// a skip bun did not name is a failure too).
import { readFileSync } from "node:fs";

export interface BunRun {
  pass: number;
  fail: number;
  skip: number;
  todo: number;
  error: number;
  /** "file > describe > test" of each skipped / todo test, in output order. */
  skipped: string[];
  todos: string[];
  /** `Ran N tests across M files.` was seen (the run finished). */
  finished: boolean;
}

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
const FILE_HEADER = /^(\S+\.(?:test|spec|_test|_spec)\.[cm]?[jt]sx?):$/;
const REPEAT_HEADER = /^\d+ tests? (?:skipped|todo|failed):$/;
const COUNT = /^ (\d+) (pass|fail|skip|todo|error)$/;

function emptyRun(): BunRun {
  return { pass: 0, fail: 0, skip: 0, todo: 0, error: 0, skipped: [], todos: [], finished: false };
}

/** Every bun test run in `text` (each starts with `bun test v…`). */
export function parseBunOutput(text: string): BunRun[] {
  const runs: BunRun[] = [];
  let run: BunRun | undefined;
  let file = "";
  let repeating = false;
  for (const raw of text.split("\n")) {
    const line = raw.replace(ANSI, "").replace(/\r$/, "");
    if (/^bun test v\d/.test(line)) {
      run = emptyRun();
      runs.push(run);
      file = "";
      repeating = false;
      continue;
    }
    if (!run) continue;
    const header = FILE_HEADER.exec(line);
    if (header) {
      file = header[1]!;
      repeating = false;
      continue;
    }
    if (REPEAT_HEADER.test(line)) {
      repeating = true;
      continue;
    }
    const count = COUNT.exec(line);
    if (count) {
      run[count[2] as "pass" | "fail" | "skip" | "todo" | "error"] = Number(count[1]);
      repeating = true;
      continue;
    }
    if (/^Ran \d+ tests? across \d+ files?\./.test(line)) {
      run.finished = true;
      repeating = true;
      continue;
    }
    if (repeating) continue;
    const test = /^\((skip|todo)\) (.*?)(?: \[[\d.]+m?s\])?$/.exec(line);
    if (test) (test[1] === "skip" ? run.skipped : run.todos).push(file ? `${file} > ${test[2]}` : test[2]!);
  }
  return runs;
}

/** .ci/expected-skips: one "file > describe > test" a line, then " # why"; a line starting with # is a comment. */
export function readExpectedSkips(text: string): string[] {
  return text
    .split("\n")
    .map((line) => (line.trimStart().startsWith("#") ? "" : line.replace(/\s#.*$/, "").trim()))
    .filter(Boolean);
}

export interface Verdict {
  passed: number;
  failed: number;
  /** What .ci/run prints before the last line: every test that did not run and was not expected to, … */
  notes: string[];
  /** `tests: N passed, M failed` */
  last: string;
}

export interface JudgeOptions {
  /** bun runs `npm test` makes (2: both generations); fewer is a failure. */
  runs: number;
  expected: readonly string[];
  /** npm test's exit status. */
  status: number;
  extraPass?: number;
  extraFail?: number;
}

export function judge(runs: readonly BunRun[], options: JudgeOptions): Verdict {
  const notes: string[] = [];
  let passed = options.extraPass ?? 0;
  let failed = options.extraFail ?? 0;
  let testFailures = 0;
  const expected = new Set(options.expected);
  const used = new Set<string>();
  runs.forEach((run, i) => {
    const label = `run ${i + 1} of ${options.runs}`;
    passed += run.pass;
    testFailures += run.fail;
    if (!run.finished) {
      notes.push(`ci: ${label} did not finish (no "Ran N tests" line)`);
      testFailures += 1;
    }
    for (const [kind, names, count] of [
      ["skipped", run.skipped, run.skip],
      ["todo", run.todos, run.todo],
    ] as const) {
      const unexpected = names.filter((name) => {
        if (!expected.has(name)) return true;
        used.add(name);
        return false;
      });
      for (const name of unexpected) notes.push(`ci: ${label}: ${kind}, not expected: ${name}`);
      const unnamed = Math.max(0, count - names.length);
      if (unnamed > 0) notes.push(`ci: ${label}: ${unnamed} ${kind} test${unnamed === 1 ? "" : "s"} bun did not name`);
      testFailures += unexpected.length + unnamed;
    }
  });
  for (let i = runs.length; i < options.runs; i++) {
    notes.push(`ci: run ${i + 1} of ${options.runs} did not run`);
    testFailures += 1;
  }
  for (const name of expected) if (!used.has(name)) notes.push(`ci: note: .ci/expected-skips lists a test that was not skipped: ${name}`);
  if (options.status !== 0 && testFailures === 0) testFailures = 1;
  failed += testFailures;
  return { passed, failed, notes, last: `tests: ${passed} passed, ${failed} failed` };
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (import.meta.main) {
  const log = option("--log");
  if (!log) {
    console.error("usage: bun scripts/test-report.ts --log FILE --status N [--runs 2] [--expected .ci/expected-skips] [--extra-pass N] [--extra-fail N]");
    process.exit(2);
  }
  const expectedFile = option("--expected");
  let expected: string[] = [];
  if (expectedFile) {
    try {
      expected = readExpectedSkips(readFileSync(expectedFile, "utf8"));
    } catch {
      expected = [];
    }
  }
  const verdict = judge(parseBunOutput(readFileSync(log, "utf8")), {
    runs: Number(option("--runs") ?? 1),
    expected,
    status: Number(option("--status") ?? 0),
    extraPass: Number(option("--extra-pass") ?? 0),
    extraFail: Number(option("--extra-fail") ?? 0),
  });
  for (const note of verdict.notes) console.log(note);
  console.log(verdict.last);
  process.exit(verdict.failed === 0 ? 0 : 1);
}
