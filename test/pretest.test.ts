// scripts/pretest.ts: the one list of Debian packages (scripts/test-packages.txt), and which
// suites are skipped, with one loud line, when a package is missing and cannot be installed.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readPackages, suitesNeeding } from "../scripts/pretest.ts";

const root = join(import.meta.dir, "..");
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("pretest", () => {
  test("every file the package list names exists, and .ci/run installs from the list (no second list)", () => {
    const named = readPackages().flatMap((r) => r.needs);
    expect(named.filter((file) => !existsSync(join(root, file)))).toEqual([]);
    const ci = readFileSync(join(root, ".ci/run"), "utf8");
    expect({ readsList: ci.includes("scripts/test-packages.txt"), failsOnSkip: ci.includes(".test-skip") }).toEqual({ readsList: true, failsOnSkip: true });
  });

  test("a package needed by a harness module skips every suite importing it, transitively (socat: serial, dialogs, consoles via transport-cases)", () => {
    const skipped = suitesNeeding([{ name: "socat", probe: "socat", needs: ["test/harness/socat.ts"] }]);
    // Every skipped suite imports socat.ts itself or through consoles.ts / transport-cases.ts.
    expect(skipped).toContain("test/serial-e2e.test.ts");
    expect(skipped).toContain("test/interaction.test.ts");
    expect(skipped).not.toContain("test/local-session.test.ts");
    expect(skipped).not.toContain("src/audit/redact.test.ts");
  });

  test("a missing package that cannot be installed: .test-skip names exactly its suites, one loud line names the package", () => {
    const dir = mkdtempSync(join(tmpdir(), `pty-mcp-pretest-${process.pid}-`));
    dirs.push(dir);
    const list = join(dir, "packages.txt");
    const skip = join(dir, "skip");
    writeFileSync(list, "# test\nno-such-package /nonexistent/probe test/distribution-install.test.ts\nbash bash test/local-session.test.ts\noptional-thing /nonexistent/other -\n");
    const run = Bun.spawnSync([process.execPath, join(root, "scripts/pretest.ts"), "--packages", list, "--skip-file", skip, "--no-install"], { stderr: "pipe" });
    const stderr = run.stderr.toString();
    const lines = readFileSync(skip, "utf8").split("\n");
    expect({
      code: run.exitCode,
      loud: stderr.split("\n").filter((l) => l.startsWith("pretest: SKIPPING")),
      args: lines.filter((l) => l.startsWith("--")),
    }).toEqual({
      code: 0,
      loud: [
        "pretest: SKIPPING 1 test suite — missing Debian packages: no-such-package. Install them (sudo apt-get install -y no-such-package) to run the full suite. Skipped: test/distribution-install.test.ts",
      ],
      args: ["--path-ignore-patterns=test/distribution-install.test.ts"],
    });
  });

  test("nothing missing: .test-skip is empty", () => {
    const dir = mkdtempSync(join(tmpdir(), `pty-mcp-pretest-${process.pid}-`));
    dirs.push(dir);
    const list = join(dir, "packages.txt");
    const skip = join(dir, "skip");
    writeFileSync(list, "bash bash test/local-session.test.ts\n");
    const run = Bun.spawnSync([process.execPath, join(root, "scripts/pretest.ts"), "--packages", list, "--skip-file", skip, "--no-install"], { stderr: "pipe" });
    expect({ code: run.exitCode, skip: readFileSync(skip, "utf8") }).toEqual({ code: 0, skip: "" });
  });
});
