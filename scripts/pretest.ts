// `npm test` on a fresh machine (issue #21 item 13). Reads scripts/test-packages.txt (the one list
// of Debian packages the suites need), installs the missing ones when it can (root, or sudo
// without a password, with apt-get, as .ci/run does), and otherwise writes the suites that cannot
// run into .test-skip (as `--path-ignore-patterns=` arguments the test scripts pass to bun test)
// and says so in one loud line. `--summary` (posttest) repeats that line after the run. The test
// scripts read .test-skip with `grep -v '^#'` (its first line is that summary, as a comment).
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

const root = join(import.meta.dir, "..");

/** `--name value` from argv (the test of this script points it at its own files). */
function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const SKIP_FILE = option("--skip-file") ?? join(root, ".test-skip");

interface Requirement {
  name: string;
  probe: string;
  needs: string[];
}

export function readPackages(path = join(root, "scripts", "test-packages.txt")): Requirement[] {
  const list: Requirement[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const words = line.replace(/#.*/, "").trim().split(/\s+/).filter(Boolean);
    if (words.length < 3) continue;
    const [name, probe, ...needs] = words as [string, string, ...string[]];
    list.push({ name, probe, needs: needs.filter((n) => n !== "-") });
  }
  return list;
}

const PATH = `${process.env.PATH ?? ""}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
const installed = (r: Requirement): boolean => (r.probe.startsWith("/") ? existsSync(r.probe) : Bun.which(r.probe, { PATH }) !== null);

function testFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory() && entry.name !== "node_modules" && entry.name !== "fixtures") walk(path);
      else if (entry.name.endsWith(".test.ts")) files.push(path);
    }
  };
  walk("test");
  walk("src");
  return files.sort();
}

/** The files a test file imports from test/ (relative imports), transitively. */
function testImports(file: string, seen = new Set<string>()): Set<string> {
  let text = "";
  try {
    text = readFileSync(join(root, file), "utf8");
  } catch {
    return seen;
  }
  for (const match of text.matchAll(/from\s+["'](\.{1,2}\/[^"']+)["']/g)) {
    const target = relative(root, normalize(join(root, dirname(file), match[1]!)));
    if (!target.startsWith("test/") || seen.has(target)) continue;
    seen.add(target);
    testImports(target, seen);
  }
  return seen;
}

/** Suites that need a package of `missing`. */
export function suitesNeeding(missing: readonly Requirement[], files = testFiles()): string[] {
  const needed = new Set(missing.flatMap((r) => r.needs));
  return files.filter((file) => needed.has(file) || [...testImports(file)].some((imported) => needed.has(imported)));
}

function canInstall(): string[] | undefined {
  if (!Bun.which("apt-get", { PATH })) return undefined;
  if (process.getuid?.() === 0) return [];
  return Bun.spawnSync(["sudo", "-n", "true"], { stdout: "ignore", stderr: "ignore" }).success ? ["sudo", "-n"] : undefined;
}

function install(missing: Requirement[]): void {
  const sudo = canInstall();
  if (sudo === undefined || missing.length === 0) return;
  const names = missing.map((r) => r.name);
  console.error(`pretest: installing ${names.join(" ")} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  Bun.spawnSync([...sudo, "apt-get", "update", "-qq"], { env, stdout: "ignore", stderr: "inherit" });
  // One by one after a failed batch: a package this Debian lacks must not stop the others.
  const batch = Bun.spawnSync([...sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", ...names], { env, stdout: "ignore", stderr: "inherit" });
  if (!batch.success) for (const name of names) Bun.spawnSync([...sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", name], { env, stdout: "ignore", stderr: "ignore" });
  if (names.includes("openssh-server")) Bun.spawnSync([...sudo, "mkdir", "-p", "/run/sshd"]);
}

function summary(missing: Requirement[], skipped: string[]): string {
  const names = missing.map((r) => r.name).join(" ");
  return (
    `pretest: SKIPPING ${skipped.length} test suite${skipped.length === 1 ? "" : "s"} — missing Debian packages: ${names}. ` +
    `Install them (sudo apt-get install -y ${names}) to run the full suite. Skipped: ${skipped.join(" ")}`
  );
}

if (import.meta.main) {
  if (process.argv.includes("--summary")) {
    const line = existsSync(SKIP_FILE) ? readFileSync(SKIP_FILE, "utf8").split("\n").find((l) => l.startsWith("# ")) : undefined;
    if (line) console.error(`\n${"!".repeat(100)}\n${line.slice(2)}\n${"!".repeat(100)}`);
    process.exit(0);
  }
  const packages = readPackages(option("--packages"));
  if (!process.argv.includes("--no-install")) install(packages.filter((r) => !installed(r)));
  const missing = packages.filter((r) => !installed(r) && r.needs.length > 0);
  const skipped = suitesNeeding(missing);
  if (skipped.length === 0) {
    writeFileSync(SKIP_FILE, "");
  } else {
    const line = summary(missing, skipped);
    writeFileSync(SKIP_FILE, `# ${line}\n${skipped.map((file) => `--path-ignore-patterns=${file}`).join("\n")}\n`);
    console.error(`${"!".repeat(100)}\n${line}\n${"!".repeat(100)}`);
  }
}
