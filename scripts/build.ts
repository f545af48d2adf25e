// Compiles pty-mcp executables.
//
//   bun scripts/build.ts                      this machine's build → dist/pty-mcp
//   bun scripts/build.ts --all                every release target → dist/pty-mcp-<os>-<arch>[-variant], its .gz, dist/SHA256SUMS
//   bun scripts/build.ts --target linux-arm64 [--target …]   only those release targets (+ SHA256SUMS)
//   options: --outdir DIR (default dist/), --entry FILE (default src/main.ts)
//   bun scripts/build.ts --sync-plugin        copy install.sh to plugin/scripts/install.sh (the plugin ships alone)
//
// Every output is written to a temp name and renamed, so a concurrent build or a running
// test never sees half a file. Cross targets make Bun fetch that platform's runtime from
// the npm registry once (cached under ~/.bun/install/cache).
import { createHash } from "node:crypto";
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import pkg from "../package.json" with { type: "json" };

export const root = join(import.meta.dir, "..");

export interface ReleaseTarget {
  /** Asset suffix: the file is `pty-mcp-<name>`. */
  readonly name: string;
  /** Bun's `--target` value. */
  readonly bunTarget: string;
  readonly os: "linux" | "darwin";
  readonly arch: "x64" | "arm64";
  /** Linux C library the runtime links against (read back from the ELF PT_INTERP in tests). */
  readonly libc?: "glibc" | "musl";
}

/** SPEC §7: the release matrix. `x64-baseline` is for x86-64 CPUs without AVX2. */
export const releaseTargets: readonly ReleaseTarget[] = [
  { name: "linux-x64", bunTarget: "bun-linux-x64", os: "linux", arch: "x64", libc: "glibc" },
  { name: "linux-x64-baseline", bunTarget: "bun-linux-x64-baseline", os: "linux", arch: "x64", libc: "glibc" },
  { name: "linux-arm64", bunTarget: "bun-linux-arm64", os: "linux", arch: "arm64", libc: "glibc" },
  { name: "linux-x64-musl", bunTarget: "bun-linux-x64-musl", os: "linux", arch: "x64", libc: "musl" },
  { name: "linux-arm64-musl", bunTarget: "bun-linux-arm64-musl", os: "linux", arch: "arm64", libc: "musl" },
  { name: "darwin-x64", bunTarget: "bun-darwin-x64", os: "darwin", arch: "x64" },
  { name: "darwin-arm64", bunTarget: "bun-darwin-arm64", os: "darwin", arch: "arm64" },
];

/**
 * The flags every build uses. Measured in docs/install.md: --minify and --bytecode make start-up
 * faster; ESM keeps top-level await and dynamic import() of one role (src/main.ts).
 * The compiled binary must never read a `.env` or `bunfig.toml` from the directory it is started
 * in (a user's project, a remote home): that would let any directory change its environment or
 * preload code into it.
 */
export const compileFlags: readonly string[] = [
  "--compile", "--minify", "--bytecode", "--format=esm", "--splitting",
  "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig",
  "--no-compile-autoload-tsconfig", "--no-compile-autoload-package-json",
];

/**
 * The release location, read from its one home: the `PTY_MCP_REPO_URL=` line of install.sh
 * (the installers cannot import anything). Stamped into binaries as `PTY_MCP_RELEASE_REPO`
 * for code that needs to fetch another platform's build (deploy).
 */
export function releaseRepoUrl(): string {
  const line = readFileSync(join(root, "install.sh"), "utf8").match(/^PTY_MCP_REPO_URL="(https:\/\/[^"$`\\]+)"$/m);
  if (!line?.[1]) throw new Error('install.sh has no PTY_MCP_REPO_URL="https://…" line');
  return line[1];
}

export interface CompileOptions {
  entry: string;
  outfile: string;
  /** Bun `--target` (omit for this machine). */
  bunTarget?: string;
  version?: string;
  /** Replaces `compileFlags` (used to measure alternatives). */
  flags?: readonly string[];
  /** Show Bun's build log (the CLI does); tests keep it and only show it on failure. */
  log?: boolean;
}

/** Compiles one executable atomically; throws with Bun's output when the compiler fails. */
export function compile({ entry, outfile, bunTarget, version = pkg.version, flags = compileFlags, log = false }: CompileOptions): void {
  const tmp = `${outfile}.tmp-${process.pid}`;
  const argv = [
    process.execPath, "build", ...flags,
    ...(bunTarget ? [`--target=${bunTarget}`] : []),
    "--define", `PTY_MCP_VERSION=${JSON.stringify(version)}`,
    "--define", `PTY_MCP_RELEASE_REPO=${JSON.stringify(releaseRepoUrl())}`,
    entry, "--outfile", tmp,
  ];
  const stdio = log ? "inherit" : "pipe";
  const proc = Bun.spawnSync(argv, { cwd: root, stdout: stdio, stderr: stdio });
  if (proc.exitCode !== 0) {
    rmSync(tmp, { force: true });
    const out = log ? "" : `${proc.stdout?.toString() ?? ""}${proc.stderr?.toString() ?? ""}`.trim();
    throw new Error(`bun build ${bunTarget ?? "(host)"} failed (exit ${proc.exitCode}):\n${out}`);
  }
  renameSync(tmp, outfile);
}

/**
 * Writes `<name>.gz` beside `dir/<name>` (atomically) and returns its file name. The installers
 * prefer it (SPEC §12): a release binary is ~100 MB, gzip -9 makes it about a third of that.
 */
export function writeCompressed(dir: string, name: string): string {
  const gz = `${name}.gz`;
  const tmp = join(dir, `${gz}.tmp-${process.pid}`);
  writeFileSync(tmp, Bun.gzipSync(readFileSync(join(dir, name)), { level: 9 }));
  renameSync(tmp, join(dir, gz));
  return gz;
}

/** Writes `SHA256SUMS` (sha256sum's format: `<hex>  <name>`, sorted by name) for the given files in `dir`. */
export function writeSums(dir: string, names: readonly string[]): string {
  const lines = [...names].sort().map((name) => `${sha256Of(join(dir, name))}  ${name}\n`);
  const final = join(dir, "SHA256SUMS");
  const tmp = `${final}.tmp-${process.pid}`;
  writeFileSync(tmp, lines.join(""));
  renameSync(tmp, final);
  return lines.join("");
}

/** SHA-256 of a file, read in chunks (release binaries are ~100 MB). */
export function sha256Of(path: string): string {
  const hash = createHash("sha256");
  const fd = openSync(path, "r");
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) hash.update(chunk.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

interface Args {
  all: boolean;
  targets: string[];
  outdir: string;
  entry: string;
  syncPlugin: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { all: false, targets: [], outdir: join(root, "dist"), entry: join(root, "src/main.ts"), syncPlugin: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === "--all") args.all = true;
    else if (arg === "--target") args.targets.push(value());
    else if (arg === "--outdir") args.outdir = resolve(value());
    else if (arg === "--entry") args.entry = resolve(value());
    else if (arg === "--sync-plugin") args.syncPlugin = true;
    else throw new Error(`unknown argument ${arg}; see the header of scripts/build.ts`);
  }
  return args;
}

/**
 * Writes src/mcp/tool-list.json, what tools/list shows, from the tools' zod definitions (the server
 * ships it instead of building JSON Schemas at start-up; test/tool-list.test.ts checks it). A build
 * output like dist/ (in .gitignore): every build writes it afresh, so it never lags the tools.
 */
export async function writeToolList(): Promise<void> {
  const [{ tools }, { toolList }] = await Promise.all([import("../src/mcp/tools/index.ts"), import("../src/mcp/tool-list.ts")]);
  const file = join(root, "src/mcp/tool-list.json");
  const text = `${JSON.stringify(toolList(tools), null, 1)}\n`;
  let old = "";
  try {
    old = readFileSync(file, "utf8");
  } catch {}
  if (old === text) return;
  writeFileSync(`${file}.tmp-${process.pid}`, text);
  renameSync(`${file}.tmp-${process.pid}`, file);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.syncPlugin) {
    const dest = join(root, "plugin/scripts/install.sh");
    copyFileSync(join(root, "install.sh"), `${dest}.tmp-${process.pid}`);
    renameSync(`${dest}.tmp-${process.pid}`, dest);
    return;
  }
  mkdirSync(args.outdir, { recursive: true });
  await writeToolList();
  if (!args.all && args.targets.length === 0) {
    compile({ entry: args.entry, outfile: join(args.outdir, "pty-mcp"), log: true });
    return;
  }
  const unknown = args.targets.filter((t) => !releaseTargets.some((r) => r.name === t));
  if (unknown.length > 0) {
    throw new Error(`unknown target ${unknown.join(", ")}; known: ${releaseTargets.map((r) => r.name).join(", ")}`);
  }
  const chosen = args.all ? releaseTargets : releaseTargets.filter((r) => args.targets.includes(r.name));
  const names: string[] = [];
  for (const target of chosen) {
    const name = `pty-mcp-${target.name}`;
    const started = performance.now();
    compile({ entry: args.entry, outfile: join(args.outdir, name), bunTarget: target.bunTarget });
    const gz = writeCompressed(args.outdir, name);
    const size = statSync(join(args.outdir, name)).size;
    const gzSize = statSync(join(args.outdir, gz)).size;
    console.log(`${name.padEnd(28)} ${(size / 1e6).toFixed(1).padStart(6)} MB  .gz ${(gzSize / 1e6).toFixed(1).padStart(5)} MB  ${((performance.now() - started) / 1000).toFixed(1)} s`);
    names.push(name, gz);
  }
  writeSums(args.outdir, names);
  console.log(`${basename(args.outdir)}/SHA256SUMS (${names.length} entries)`);
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
