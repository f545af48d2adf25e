// The two installers, run for real by dash against a loopback HTTP server serving a release
// directory: the plugin's SessionStart hook (plugin/scripts/install.sh --plugin) and the
// curl | sh installer (install.sh). HOME and TMPDIR point at empty temp dirs that must stay empty.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  cpSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { compile, releaseTargets, root, sha256Of, writeSums } from "../scripts/build";
import { RUNTIME_SETTINGS } from "../src/child-env";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { serveDirectory, stallServer, type ReleaseServer } from "./harness/http-server";

// Real downloads, timeouts and compiles on a shared 2-core machine.
setDefaultTimeout(60_000);
const entry = process.env.PTY_MCP_TEST_ENTRY ?? join(root, "src/main.ts");
const version = pkg.version;
/** src/child-env.ts's RUNTIME_SETTINGS as install.sh prints them for an MCP client's JSON configuration (the installer cannot import them). */
const runtimeSettingsJson = `{ ${Object.entries(RUNTIME_SETTINGS).map(([name, value]) => `"${name}": "${value}"`).join(", ")} }`;

/** What install.sh should pick here, worked out independently of the script. */
function hostTarget(): string {
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  if (Bun.spawnSync(["getconf", "GNU_LIBC_VERSION"], { stdout: "ignore", stderr: "ignore" }).exitCode !== 0) return `linux-${arch}-musl`;
  if (arch === "x64" && !/^flags\b.*\bavx2\b/m.test(readFileSync("/proc/cpuinfo", "utf8"))) return "linux-x64-baseline";
  return `linux-${arch}`;
}

const target = hostTarget();
const asset = `pty-mcp-${target}`;
let tmp = "";
let hostSum = "";
let gzSum = "";
const servers: Record<"good" | "badBinary" | "badSums" | "noSum" | "gz" | "badGz", ReleaseServer | undefined> = {
  good: undefined, badBinary: undefined, badSums: undefined, noSum: undefined, gz: undefined, badGz: undefined,
};
const dirs = { good: "", badBinary: "", badSums: "", noSum: "", gz: "", badGz: "" };
/** Holds the gz server's downloads of binaries until released (an install still under way). */
let gate: { promise: Promise<void>; release: () => void } | undefined;

function server(name: keyof typeof servers): ReleaseServer {
  const s = servers[name];
  if (!s) throw new Error(`server ${name} not started`);
  return s;
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "pty-mcp-install-"));
  for (const name of Object.keys(dirs) as (keyof typeof dirs)[]) {
    dirs[name] = join(tmp, `release-${name}`);
    mkdirSync(dirs[name]);
  }
  // The real binary for this machine; every other target gets a small stand-in with its own sum,
  // so installing the wrong target would be visible.
  compile({ entry, outfile: join(dirs.good, asset) });
  hostSum = sha256Of(join(dirs.good, asset));
  const names = releaseTargets.map((t) => `pty-mcp-${t.name}`);
  for (const name of names) {
    if (name !== asset) writeFileSync(join(dirs.good, name), `#!/bin/sh\necho "${name} is not for this machine" >&2\nexit 3\n`, { mode: 0o755 });
  }
  const sums = writeSums(dirs.good, names);

  // Tampered binary: one byte changed, SHA256SUMS as published.
  const bytes = readFileSync(join(dirs.good, asset));
  const middle = bytes.length >> 1;
  bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
  writeFileSync(join(dirs.badBinary, asset), bytes);
  writeFileSync(join(dirs.badBinary, "SHA256SUMS"), sums);
  // Tampered sums file: the binary as built, its line in SHA256SUMS changed.
  linkSync(join(dirs.good, asset), join(dirs.badSums, asset));
  writeFileSync(join(dirs.badSums, "SHA256SUMS"), sums.replace(`${hostSum}  ${asset}`, `${"0".repeat(64)}  ${asset}`));
  // A sums file without this target's line.
  linkSync(join(dirs.good, asset), join(dirs.noSum, asset));
  writeFileSync(join(dirs.noSum, "SHA256SUMS"), sums.split("\n").filter((l) => !l.endsWith(`  ${asset}`)).join("\n"));

  // A release as scripts/build.ts makes it: every binary and its .gz, all in SHA256SUMS.
  const gzNames: string[] = [];
  for (const name of names) {
    linkSync(join(dirs.good, name), join(dirs.gz, name));
    writeFileSync(join(dirs.gz, `${name}.gz`), Bun.gzipSync(readFileSync(join(dirs.good, name))));
    gzNames.push(name, `${name}.gz`);
  }
  const gzSums = writeSums(dirs.gz, gzNames);
  gzSum = sha256Of(join(dirs.gz, `${asset}.gz`));
  // Tampered .gz: it still unpacks (to a changed binary), its checksum no longer matches.
  linkSync(join(dirs.gz, asset), join(dirs.badGz, asset));
  writeFileSync(join(dirs.badGz, `${asset}.gz`), Bun.gzipSync(bytes));
  writeFileSync(join(dirs.badGz, "SHA256SUMS"), gzSums);

  for (const name of Object.keys(dirs) as (keyof typeof dirs)[]) {
    servers[name] = serveDirectory(dirs[name], name === "gz" ? { beforeServe: async (path) => { if (path.startsWith("/pty-mcp-")) await gate?.promise; } } : {});
  }
  // A compile (65 s under load, measured) and two gzips of ~118 MB: CPU work, budgeted for a loaded machine.
}, 600_000);

afterAll(async () => {
  for (const s of Object.values(servers)) await s?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface Sandbox {
  dir: string;
  home: string;
  tmpdir: string;
  /** The plugin directory as Claude Code caches it: a copy of plugin/. */
  pluginRoot: string;
  /** CLAUDE_PLUGIN_DATA: Claude Code creates it before it starts the hook or the MCP server. */
  pluginData: string;
  installDir: string;
}

let sandboxCount = 0;
function sandbox(): Sandbox {
  const dir = join(tmp, `sandbox-${++sandboxCount}`);
  const sb = {
    dir, home: join(dir, "home"), tmpdir: join(dir, "tmp"), pluginRoot: join(dir, "plugin"), pluginData: join(dir, "plugin-data"), installDir: join(dir, "install", "bin"),
  };
  mkdirSync(sb.home, { recursive: true });
  mkdirSync(sb.pluginData, { recursive: true });
  mkdirSync(sb.tmpdir, { recursive: true });
  cpSync(join(root, "plugin"), sb.pluginRoot, { recursive: true });
  return sb;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const dash = Bun.which("dash") ?? "/bin/dash";

/** Runs `sh -c script` (dash) with a minimal environment rooted in the sandbox. */
async function sh(sb: Sandbox, script: string, env: Record<string, string>, options: { stdin?: string; onStart?: (pid: number) => Promise<void> } = {}): Promise<Run> {
  const proc = Bun.spawn([dash, "-c", script], {
    cwd: sb.dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: sb.home, TMPDIR: sb.tmpdir, ...env },
    stdin: options.stdin === undefined ? "ignore" : new Blob([options.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  if (options.onStart) await options.onStart(proc.pid);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** The SessionStart hook exactly as plugin/hooks/hooks.json declares it. */
const hookCommand: string = (() => {
  const hooks = JSON.parse(readFileSync(join(root, "plugin/hooks/hooks.json"), "utf8")) as {
    hooks: { SessionStart: { hooks: { command: string }[] }[] };
  };
  const command = hooks.hooks.SessionStart[0]?.hooks[0]?.command;
  if (!command) throw new Error("no SessionStart hook command");
  return command;
})();

function runHook(sb: Sandbox, env: Record<string, string>, options?: { onStart?: (pid: number) => Promise<void> }): Promise<Run> {
  return sh(sb, hookCommand, { CLAUDE_PLUGIN_ROOT: sb.pluginRoot, ...env }, options);
}

/** Every entry under `dir`: files with size and sha (and inode/mtime when `identity`), links with targets. */
function tree(dir: string, identity = false): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = join(dir, rel, name);
      const key = rel ? `${rel}/${name}` : name;
      const st = lstatSync(path);
      if (st.isSymbolicLink()) out[key] = `-> ${readlinkSync(path)}`;
      else if (st.isDirectory()) {
        out[key] = "dir";
        walk(key);
      } else {
        out[key] = `${(st.mode & 0o777).toString(8)} ${sha256Of(path).slice(0, 16)}${identity ? ` ino=${st.ino} mtime=${st.mtimeMs}` : ""}`;
      }
    }
  };
  walk("");
  return out;
}

const short = (sum: string) => sum.slice(0, 16);

/** A PATH directory with links to the usual tools, except `missing`. */
function pathWithout(sb: Sandbox, missing: string): string {
  const bin = join(sb.dir, `no-${missing}-bin`);
  mkdirSync(bin);
  for (const dir of ["/usr/local/bin", "/usr/bin", "/bin"]) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (name === missing || existsSync(join(bin, name))) continue;
      Bun.spawnSync(["ln", "-s", join(dir, name), join(bin, name)]);
    }
  }
  return bin;
}

/** A loopback port with nobody listening (connection refused). */
function closedPort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

test("install.sh: --print-target names this machine's release asset", async () => {
  const sb = sandbox();
  expect(await sh(sb, `sh ${join(root, "install.sh")} --print-target`, {})).toEqual({ code: 0, stdout: `${target}\n`, stderr: "" });
});

test("install.sh: target detection covers macOS under Rosetta, arm64 and musl (uname/sysctl/getconf stand-ins)", async () => {
  // Other platforms cannot run here; these stand-ins answer the questions install.sh asks.
  const sb = sandbox();
  const cases: [string, Record<string, string>][] = [
    ["darwin-arm64", { uname_s: "Darwin", uname_m: "arm64", translated: "0" }],
    ["darwin-arm64", { uname_s: "Darwin", uname_m: "x86_64", translated: "1" }],
    ["darwin-x64", { uname_s: "Darwin", uname_m: "x86_64", translated: "" }],
    ["linux-arm64", { uname_s: "Linux", uname_m: "aarch64", glibc: "1" }],
    ["linux-arm64-musl", { uname_s: "Linux", uname_m: "aarch64", glibc: "" }],
    ["linux-x64-musl", { uname_s: "Linux", uname_m: "x86_64", glibc: "" }],
  ];
  const bin = join(sb.dir, "shims");
  mkdirSync(bin);
  writeFileSync(join(bin, "uname"), '#!/bin/sh\ncase "$1" in -s) echo "$SHIM_UNAME_S" ;; -m) echo "$SHIM_UNAME_M" ;; esac\n', { mode: 0o755 });
  writeFileSync(join(bin, "sysctl"), '#!/bin/sh\n[ -n "$SHIM_TRANSLATED" ] || exit 1\necho "$SHIM_TRANSLATED"\n', { mode: 0o755 });
  writeFileSync(join(bin, "getconf"), '#!/bin/sh\n[ -n "$SHIM_GLIBC" ] || exit 1\necho "glibc 2.36"\n', { mode: 0o755 });
  writeFileSync(join(bin, "ldd"), '#!/bin/sh\n[ -n "$SHIM_GLIBC" ] && echo "ldd (GNU libc) 2.36" || echo "musl libc (x86_64)" >&2\n', { mode: 0o755 });
  const results: string[] = [];
  for (const [, shim] of cases) {
    const run = await sh(sb, `sh ${join(root, "install.sh")} --print-target`, {
      PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      SHIM_UNAME_S: shim.uname_s ?? "", SHIM_UNAME_M: shim.uname_m ?? "", SHIM_TRANSLATED: shim.translated ?? "", SHIM_GLIBC: shim.glibc ?? "",
    });
    results.push(`${run.code} ${run.stdout.trim()}${run.stderr}`);
  }
  expect(results).toEqual(cases.map(([want]) => `0 ${want}`));
});

test("plugin: scripts/install.sh is a copy of install.sh (bun scripts/build.ts --sync-plugin)", () => {
  expect(readFileSync(join(root, "plugin/scripts/install.sh"), "utf8")).toEqual(readFileSync(join(root, "install.sh"), "utf8"));
});

test("plugin: manifests agree with package.json and point the MCP server at the installed binary", () => {
  const read = (path: string): unknown => JSON.parse(readFileSync(join(root, path), "utf8"));
  expect({
    plugin: read("plugin/.claude-plugin/plugin.json"),
    marketplace: read(".claude-plugin/marketplace.json"),
    mcp: read("plugin/.mcp.json"),
    hook: hookCommand,
  }).toMatchObject({
    plugin: { name: "pty-mcp", version },
    marketplace: { name: "pty-mcp", plugins: [{ name: "pty-mcp", source: "./plugin", version }] },
    mcp: { mcpServers: { "pty-mcp": { command: "sh", args: ["${CLAUDE_PLUGIN_ROOT}/scripts/launch.sh", "serve"] } } },
    hook: 'exec sh "${CLAUDE_PLUGIN_ROOT}/scripts/install.sh" --plugin',
  });
  const skill = readFileSync(join(root, "plugin/skills/pty-mcp/SKILL.md"), "utf8");
  expect(skill.match(/^---\nname: (.+)\ndescription: .+\n---\n/)?.[1]).toEqual("pty-mcp");
});

/** The plugin's own bin/ as shipped: the pty-mcp shim for the Bash tool. */
const shippedBin = (): Record<string, string> => tree(join(root, "plugin", "bin"));

// Without CLAUDE_PLUGIN_DATA (Claude Code before it had one) the binary goes into the plugin's bin/,
// replacing the shim there.
describe("plugin installer (SessionStart hook)", () => {
  let sb: Sandbox;
  let before: Record<string, string>;
  beforeAll(() => {
    sb = sandbox();
    before = tree(sb.pluginRoot);
  });

  test("plugin: installs the binary for this platform inside CLAUDE_PLUGIN_ROOT only", async () => {
    const { url, requests } = server("good");
    const run = await runHook(sb, { PTY_MCP_RELEASE_BASE: url });
    expect({ run, requests: [...requests], plugin: tree(sb.pluginRoot), home: tree(sb.home), tmp: tree(sb.tmpdir) }).toEqual({
      run: {
        code: 0,
        stdout: "", // a SessionStart hook's stdout lands in the model's context: say nothing there
        stderr:
          `pty-mcp install: downloading ${asset} from ${url}\n` +
          `pty-mcp install: installed pty-mcp ${version} at ${sb.pluginRoot}/bin/pty-mcp\n`,
      },
      requests: ["/SHA256SUMS", `/${asset}`],
      plugin: { ...before, bin: "dir", "bin/pty-mcp": `755 ${short(hostSum)}` },
      home: {},
      tmp: {},
    });
    const v = Bun.spawnSync([join(sb.pluginRoot, "bin/pty-mcp"), "--version"], { stdout: "pipe" });
    expect(v.stdout.toString()).toEqual(`pty-mcp ${version}\n`);
  });

  test("plugin: a second run with the same version is a no-op without network", async () => {
    const { url, requests } = server("good");
    const seen = requests.length;
    const installed = tree(sb.pluginRoot, true);
    const run = await runHook(sb, { PTY_MCP_RELEASE_BASE: url });
    expect({ run, newRequests: requests.slice(seen), plugin: tree(sb.pluginRoot, true) }).toEqual({
      run: { code: 0, stdout: "", stderr: `pty-mcp install: pty-mcp ${version} is already installed at ${sb.pluginRoot}/bin/pty-mcp\n` },
      newRequests: [],
      plugin: installed,
    });
  });

  test("plugin: reads the release from a local directory too", async () => {
    const other = sandbox();
    const run = await runHook(other, { PTY_MCP_RELEASE_BASE: dirs.good });
    expect({ code: run.code, bin: tree(join(other.pluginRoot, "bin")) }).toEqual({ code: 0, bin: { "pty-mcp": `755 ${short(hostSum)}` } });
  });
});

describe("plugin installer refuses", () => {
  const refusals: [string, keyof typeof servers, (url: string) => string][] = [
    ["a tampered binary", "badBinary", () => `checksum mismatch for ${asset} (SHA256SUMS says ${hostSum}, the download is `],
    ["a tampered SHA256SUMS", "badSums", () => `checksum mismatch for ${asset} (SHA256SUMS says ${"0".repeat(64)}, the download is ${hostSum}); refusing to install it.`],
    ["a SHA256SUMS without this target", "noSum", () => `SHA256SUMS has no entry for ${asset}; refusing to install an unverified binary\n`],
  ];
  for (const [what, name, message] of refusals) {
    test(`plugin: refuses ${what} and installs nothing`, async () => {
      const sb = sandbox();
      const before = tree(sb.pluginRoot);
      const { url } = server(name);
      const run = await runHook(sb, { PTY_MCP_RELEASE_BASE: url });
      expect({ code: run.code, stdout: run.stdout, refused: run.stderr.includes(message(url)), plugin: tree(sb.pluginRoot), tmp: tree(sb.tmpdir) }).toEqual({
        code: 1, stdout: "", refused: true, plugin: { ...before, bin: "dir" }, tmp: {},
      });
    });
  }

  test("plugin: an unreachable server fails within its timeout, retried, with a clear message", async () => {
    const sb = sandbox();
    await using stall = stallServer();
    const run = await runHook(sb, { PTY_MCP_RELEASE_BASE: stall.url, PTY_MCP_CONNECT_TIMEOUT: "1", PTY_MCP_DOWNLOAD_TIMEOUT: "1", PTY_MCP_DOWNLOAD_RETRIES: "1" });
    expect({ run, attempts: stall.connections, bin: tree(join(sb.pluginRoot, "bin")) }).toEqual({
      run: {
        code: 1,
        stdout: "",
        stderr:
          `pty-mcp install: error: download of ${stall.url}/SHA256SUMS failed after 2 attempts: timed out (connect 1s, transfer 1s). ` +
          "Check the network, or set PTY_MCP_RELEASE_BASE to a reachable mirror or a local directory.\n",
      },
      attempts: 2,
      bin: shippedBin(),
    });
  });

  test("plugin: a refused connection fails with a clear message", async () => {
    const sb = sandbox();
    const url = `http://127.0.0.1:${closedPort()}`;
    const run = await runHook(sb, { PTY_MCP_RELEASE_BASE: url, PTY_MCP_DOWNLOAD_RETRIES: "0" });
    expect(run).toEqual({
      code: 1,
      stdout: "",
      stderr:
        `pty-mcp install: error: download of ${url}/SHA256SUMS failed after 1 attempts: could not connect. ` +
        "Check the network, or set PTY_MCP_RELEASE_BASE to a reachable mirror or a local directory.\n",
    });
  });

  test("plugin: fails clearly when CLAUDE_PLUGIN_ROOT is unset, writing nothing", async () => {
    const sb = sandbox();
    const run = await sh(sb, `sh ${join(sb.pluginRoot, "scripts/install.sh")} --plugin`, { PTY_MCP_RELEASE_BASE: server("good").url });
    expect({ run, home: tree(sb.home), tmp: tree(sb.tmpdir), dir: Object.keys(tree(sb.dir)).filter((k) => !k.startsWith("plugin")) }).toEqual({
      run: {
        code: 1,
        stdout: "",
        stderr:
          "pty-mcp install: error: CLAUDE_PLUGIN_ROOT is not set. This mode runs from the pty-mcp Claude Code plugin's SessionStart hook; " +
          "to install by hand, run install.sh without --plugin (INSTALL_DIR chooses where).\n",
      },
      home: {},
      tmp: {},
      dir: ["home", "tmp"],
    });
  });

  test("plugin: SIGTERM during a download stops it and removes the temp files", async () => {
    const sb = sandbox();
    await using stall = stallServer();
    const bin = join(sb.pluginRoot, "bin");
    const run = await runHook(sb, { PTY_MCP_RELEASE_BASE: stall.url, PTY_MCP_DOWNLOAD_TIMEOUT: "600" }, {
      async onStart(pid) {
        await waitFor("the download to start", () => stall.connections === 1 && readdirSync(bin).some((n) => n.startsWith(".pty-mcp-install.") && !n.endsWith(".lock")));
        process.kill(pid, "SIGTERM");
      },
    });
    // The hook command execs the installer, so a signal to the hook reaches it.
    await waitFor("curl to be stopped", () => stall.open === 0);
    expect({ code: run.code, bin: tree(bin) }).toEqual({ code: 143, bin: shippedBin() });
  });
});

/** The MCP server command exactly as plugin/.mcp.json declares it, with ${CLAUDE_PLUGIN_ROOT} substituted as Claude Code does. */
const mcpServer: { command: string; args: string[] } = (() => {
  const mcp = JSON.parse(readFileSync(join(root, "plugin/.mcp.json"), "utf8")) as { mcpServers: Record<string, { command: string; args: string[] }> };
  const server = mcp.mcpServers["pty-mcp"];
  if (!server) throw new Error("no pty-mcp server in plugin/.mcp.json");
  return server;
})();

/** Claude Code's environment for the plugin's hook and MCP server: both CLAUDE_PLUGIN_ROOT and CLAUDE_PLUGIN_DATA. */
function pluginEnv(sb: Sandbox, env: Record<string, string> = {}): Record<string, string> {
  return { CLAUDE_PLUGIN_ROOT: sb.pluginRoot, CLAUDE_PLUGIN_DATA: sb.pluginData, ...env };
}

/** The launcher command line with its `serve` argument replaced (e.g. by `--version`). */
function launcherScript(sb: Sandbox, args: string[]): string {
  const [script] = mcpServer.args;
  if (!script) throw new Error("plugin/.mcp.json has no launcher argument");
  const quoted = [mcpServer.command, script.replace("${CLAUDE_PLUGIN_ROOT}", sb.pluginRoot), ...args].map((a) => `'${a}'`);
  return `exec ${quoted.join(" ")}`;
}

/** A process started in the background whose stderr is collected as it arrives. */
function start(sb: Sandbox, script: string, env: Record<string, string>) {
  const proc = Bun.spawn([dash, "-c", script], {
    cwd: sb.dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: sb.home, TMPDIR: sb.tmpdir, ...env },
    stdin: "ignore", stdout: "pipe", stderr: "pipe",
  });
  let stderr = "";
  const stderrDone = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) stderr += decoder.decode(chunk, { stream: true });
  })();
  return {
    get stderr() {
      return stderr;
    },
    async done(): Promise<Run> {
      const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited, stderrDone]);
      return { code, stdout, stderr };
    },
  };
}

describe("plugin launcher (.mcp.json) and CLAUDE_PLUGIN_DATA", () => {
  test("launcher: with no binary yet, installs the .gz into CLAUDE_PLUGIN_DATA (nothing in the plugin) and serves MCP on stdio", async () => {
    const sb = sandbox();
    const before = tree(sb.pluginRoot);
    const { url, requests } = server("gz");
    const seen = requests.length;
    const transport = new StdioClientTransport({
      command: mcpServer.command,
      args: mcpServer.args.map((a) => a.replace("${CLAUDE_PLUGIN_ROOT}", sb.pluginRoot)),
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: sb.home, TMPDIR: sb.tmpdir, ...pluginEnv(sb, { PTY_MCP_RELEASE_BASE: url }) },
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const client = new Client({ name: "launcher-test", version: "0" });
    await client.connect(transport);
    const tools = (await client.listTools()).tools.map((t) => t.name);
    await client.close();
    const dest = join(sb.pluginData, "bin/pty-mcp");
    expect({ stderr, requests: requests.slice(seen), data: tree(sb.pluginData), plugin: tree(sb.pluginRoot), home: tree(sb.home), tmp: tree(sb.tmpdir) }).toEqual({
      stderr:
        `pty-mcp launch: ${dest} is not installed yet; installing it\n` +
        `pty-mcp install: downloading ${asset}.gz from ${url}\n` +
        `pty-mcp install: installed pty-mcp ${version} at ${dest}\n`,
      requests: ["/SHA256SUMS", `/${asset}.gz`],
      data: { bin: "dir", "bin/pty-mcp": `755 ${short(hostSum)}` },
      plugin: before,
      home: {},
      tmp: {},
    });
    expect(tools).toContain("create_local_session");

    // Started again: the installed binary at once, no network, nothing said.
    const again = await sh(sb, launcherScript(sb, ["--version"]), pluginEnv(sb, { PTY_MCP_RELEASE_BASE: url }));
    expect({ again, newRequests: requests.slice(seen + 2) }).toEqual({ again: { code: 0, stdout: `pty-mcp ${version}\n`, stderr: "" }, newRequests: [] });
  });

  test("launcher: started while the SessionStart hook installs, waits for its lock and starts the binary it installed (one download)", async () => {
    const sb = sandbox();
    const { url, requests } = server("gz");
    const seen = requests.length;
    let release = (): void => {};
    gate = { promise: new Promise<void>((resolve) => (release = resolve)), release };
    try {
      const hook = start(sb, hookCommand, pluginEnv(sb, { PTY_MCP_RELEASE_BASE: url }));
      await waitFor("the hook's download to start", () => requests.slice(seen).includes(`/${asset}.gz`));
      const launcher = start(sb, launcherScript(sb, ["--version"]), pluginEnv(sb, { PTY_MCP_RELEASE_BASE: url }));
      await waitFor("the launcher to wait for the lock", () => launcher.stderr.includes("waiting for another install"));
      release();
      const [hookRun, launcherRun] = await Promise.all([hook.done(), launcher.done()]);
      const dest = join(sb.pluginData, "bin/pty-mcp");
      expect({ hookRun, launcherRun, requests: requests.slice(seen), data: tree(sb.pluginData) }).toEqual({
        hookRun: {
          code: 0,
          stdout: "",
          stderr: `pty-mcp install: downloading ${asset}.gz from ${url}\npty-mcp install: installed pty-mcp ${version} at ${dest}\n`,
        },
        launcherRun: {
          code: 0,
          stdout: `pty-mcp ${version}\n`,
          stderr: expect.stringMatching(
            new RegExp(`^pty-mcp launch: ${dest} is not installed yet; installing it\\npty-mcp install: waiting for another install into ${sb.pluginData}/bin \\(pid \\d+\\)\\npty-mcp install: pty-mcp ${version.replaceAll(".", "\\.")} is already installed at ${dest}\\n$`),
          ),
        },
        requests: ["/SHA256SUMS", `/${asset}.gz`],
        data: { bin: "dir", "bin/pty-mcp": `755 ${short(hostSum)}` },
      });
    } finally {
      gate.release();
      gate = undefined;
    }
  });

  test("install: a lock left by an install that was SIGKILLed is taken over", async () => {
    const sb = sandbox();
    // A pid that is surely gone: a process that has exited and been reaped.
    const gone = Bun.spawnSync(["sh", "-c", "echo $$"], { stdout: "pipe" }).stdout.toString().trim();
    mkdirSync(join(sb.pluginData, "bin/.pty-mcp-install.lock"), { recursive: true });
    writeFileSync(join(sb.pluginData, "bin/.pty-mcp-install.lock/pid"), `${gone}\n`);
    const run = await runHook(sb, pluginEnv(sb, { PTY_MCP_RELEASE_BASE: server("gz").url }));
    expect({ code: run.code, said: run.stderr.split("\n")[0], data: tree(sb.pluginData) }).toEqual({
      code: 0,
      said: `pty-mcp install: removed a stale install lock (pid ${gone} is gone)`,
      data: { bin: "dir", "bin/pty-mcp": `755 ${short(hostSum)}` },
    });
  });

  test("install: refuses a tampered .gz and installs nothing", async () => {
    const sb = sandbox();
    const run = await runHook(sb, pluginEnv(sb, { PTY_MCP_RELEASE_BASE: server("badGz").url }));
    expect({ code: run.code, stdout: run.stdout, last: run.stderr.trimEnd().split("\n").at(-1), data: tree(sb.pluginData), plugin: tree(join(sb.pluginRoot, "bin")) }).toEqual({
      code: 1,
      stdout: "",
      last: `pty-mcp install: error: checksum mismatch for ${asset}.gz (SHA256SUMS says ${gzSum}, the download is ${sha256Of(join(dirs.badGz, `${asset}.gz`))}); refusing to install it. The download is corrupt or was tampered with.`,
      data: { bin: "dir" },
      plugin: shippedBin(),
    });
  });

  test("install.sh: without gzip, installs the plain binary of a release that has both", async () => {
    const sb = sandbox();
    const bin = pathWithout(sb, "gzip");
    const { url, requests } = server("gz");
    const seen = requests.length;
    const run = await sh(sb, `sh ${join(root, "install.sh")}`, { PATH: bin, PTY_MCP_RELEASE_BASE: url, INSTALL_DIR: sb.installDir });
    expect({ code: run.code, requests: requests.slice(seen), installed: tree(sb.installDir) }).toEqual({
      code: 0,
      requests: ["/SHA256SUMS", `/${asset}`],
      installed: { "ai-tmux": "-> pty-mcp", "pty-mcp": `755 ${short(hostSum)}` },
    });
  });

  test("shim: bin/pty-mcp from the Bash tool (no CLAUDE_PLUGIN_* variables) runs the binary in Claude Code's plugin data dir", async () => {
    const sb = sandbox();
    const data = join(sb.home, ".claude/plugins/data/pty-mcp-pty-mcp");
    mkdirSync(data, { recursive: true });
    // Install it with the hook of another copy (as a plugin update leaves it), then run this copy's shim.
    const other = join(sb.dir, "other-plugin-copy");
    cpSync(join(root, "plugin"), other, { recursive: true });
    const installed = await sh(sb, hookCommand, { CLAUDE_PLUGIN_ROOT: other, CLAUDE_PLUGIN_DATA: data, PTY_MCP_RELEASE_BASE: dirs.gz });
    const shim = await sh(sb, `${join(sb.pluginRoot, "bin/pty-mcp")} --version`, {});
    expect({ installed: installed.code, shim, plugin: tree(join(sb.pluginRoot, "bin")) }).toEqual({
      installed: 0, shim: { code: 0, stdout: `pty-mcp ${version}\n`, stderr: "" }, plugin: shippedBin(),
    });
  });
});

describe("install.sh (curl | sh)", () => {
  let sb: Sandbox;
  beforeAll(() => {
    sb = sandbox();
  });
  const script = readFileSync(join(root, "install.sh"), "utf8");

  test("install.sh: piped into sh, installs pty-mcp and ai-tmux into INSTALL_DIR and explains how to register", async () => {
    const { url, requests } = server("good");
    const seen = requests.length;
    const run = await sh(sb, "sh", { PTY_MCP_RELEASE_BASE: url, INSTALL_DIR: sb.installDir }, { stdin: script });
    const dest = join(sb.installDir, "pty-mcp");
    expect({ run, requests: requests.slice(seen), installed: tree(sb.installDir), home: tree(sb.home), tmp: tree(sb.tmpdir) }).toEqual({
      run: {
        code: 0,
        stdout:
          `\npty-mcp is installed: ${dest} (and ai-tmux -> pty-mcp)\n\n` +
          `Note: ${sb.installDir} is not on your PATH; add it, e.g. export PATH="${sb.installDir}:$PATH"\n\n` +
          "Register it with your MCP client (BUN_GC_TIMER_DISABLE=1: less CPU while idle; optional):\n" +
          `  Claude Code:     claude mcp add ${Object.entries(RUNTIME_SETTINGS).map(([k, v]) => `-e ${k}=${v} `).join("")}pty-mcp -- ${dest}\n` +
          "  Claude Desktop,  Cursor (~/.cursor/mcp.json) and others:\n" +
          `                   { "mcpServers": { "pty-mcp": { "command": "${dest}", "env": ${runtimeSettingsJson} } } }\n` +
          "  VS Code (.vscode/mcp.json):\n" +
          `                   { "servers": { "pty-mcp": { "type": "stdio", "command": "${dest}", "env": ${runtimeSettingsJson} } } }\n`,
        stderr: `pty-mcp install: downloading ${asset} from ${url}\npty-mcp install: installed pty-mcp ${version} at ${dest}\n`,
      },
      requests: ["/SHA256SUMS", `/${asset}`],
      installed: { "ai-tmux": "-> pty-mcp", "pty-mcp": `755 ${short(hostSum)}` },
      home: {},
      tmp: {},
    });
    const v = Bun.spawnSync([dest, "--version"], { stdout: "pipe", stderr: "pipe" });
    expect({ code: v.exitCode, out: v.stdout.toString() }).toEqual({ code: 0, out: `pty-mcp ${version}\n` });
  });

  test("install.sh: ai-tmux list runs the installed binary as ai-tmux", async () => {
    const list = Bun.spawnSync([join(sb.installDir, "ai-tmux"), "list"], { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "", HOME: sb.home, XDG_RUNTIME_DIR: sb.tmpdir } });
    // `ai-tmux list` is `pty-mcp sessions`: with no daemon running it must say so, not crash.
    expect({ code: list.exitCode, stdout: list.stdout.toString(), stderr: list.stderr.toString() }).toMatchObject({ code: expect.any(Number) });
    expect(list.stderr.toString()).not.toContain("Usage: bun");
  });

  test("install.sh: a second run downloads only SHA256SUMS and leaves the binary alone", async () => {
    const { url, requests } = server("good");
    const seen = requests.length;
    const installed = tree(sb.installDir, true);
    const run = await sh(sb, "sh", { PTY_MCP_RELEASE_BASE: url, INSTALL_DIR: sb.installDir, PATH: `${sb.installDir}:${process.env.PATH ?? ""}` }, { stdin: script });
    expect({ code: run.code, stderr: run.stderr, requests: requests.slice(seen), installed: tree(sb.installDir, true) }).toEqual({
      code: 0,
      stderr: `pty-mcp install: ${sb.installDir}/pty-mcp is already the current release (${asset})\n`,
      requests: ["/SHA256SUMS"],
      installed: { ...installed, "ai-tmux": "-> pty-mcp" },
    });
  });

  test("install.sh: with PTY_MCP_VERSION pinned and installed, a second run makes no request", async () => {
    const { url, requests } = server("good");
    const seen = requests.length;
    const run = await sh(sb, "sh", { PTY_MCP_RELEASE_BASE: url, INSTALL_DIR: sb.installDir, PTY_MCP_VERSION: version }, { stdin: script });
    expect({ code: run.code, stderr: run.stderr, requests: requests.slice(seen) }).toEqual({
      code: 0, stderr: `pty-mcp install: pty-mcp ${version} is already installed at ${sb.installDir}/pty-mcp\n`, requests: [],
    });
  });

  for (const [what, name, message] of [
    ["a tampered binary", "badBinary", `checksum mismatch for ${asset} (SHA256SUMS says `],
    ["a tampered SHA256SUMS", "badSums", `checksum mismatch for ${asset} (SHA256SUMS says ${"0".repeat(64)}`],
    ["a SHA256SUMS without this target", "noSum", `SHA256SUMS has no entry for ${asset}; refusing to install an unverified binary`],
  ] as const) {
    test(`install.sh: refuses ${what} and installs nothing`, async () => {
      const other = sandbox();
      const run = await sh(other, "sh", { PTY_MCP_RELEASE_BASE: server(name).url, INSTALL_DIR: other.installDir }, { stdin: script });
      expect({ code: run.code, stdout: run.stdout, refused: run.stderr.includes(message), installed: tree(other.installDir), tmp: tree(other.tmpdir) }).toEqual({
        code: 1, stdout: "", refused: true, installed: {}, tmp: {},
      });
    });
  }

  test("install.sh: an unreachable server fails within its timeout with a clear message", async () => {
    const other = sandbox();
    await using stall = stallServer();
    const run = await sh(other, "sh", {
      PTY_MCP_RELEASE_BASE: stall.url, INSTALL_DIR: other.installDir,
      PTY_MCP_CONNECT_TIMEOUT: "1", PTY_MCP_DOWNLOAD_TIMEOUT: "1", PTY_MCP_DOWNLOAD_RETRIES: "0",
    }, { stdin: script });
    expect({ run, installed: tree(other.installDir) }).toEqual({
      run: {
        code: 1,
        stdout: "",
        stderr:
          `pty-mcp install: error: download of ${stall.url}/SHA256SUMS failed after 1 attempts: timed out (connect 1s, transfer 1s). ` +
          "Check the network, or set PTY_MCP_RELEASE_BASE to a reachable mirror or a local directory.\n",
      },
      installed: {},
    });
  });

  test("install.sh: downloads with wget when curl is missing", async () => {
    const other = sandbox();
    // A PATH with the usual tools but no curl.
    const bin = pathWithout(other, "curl");
    const { url, requests } = server("good");
    const seen = requests.length;
    const run = await sh(other, "sh", { PATH: bin, PTY_MCP_RELEASE_BASE: url, INSTALL_DIR: other.installDir }, { stdin: script });
    expect({ code: run.code, stderr: run.stderr, requests: requests.slice(seen), installed: tree(other.installDir), home: tree(other.home) }).toEqual({
      code: 0,
      stderr: `pty-mcp install: downloading ${asset} from ${url}\npty-mcp install: installed pty-mcp ${version} at ${other.installDir}/pty-mcp\n`,
      requests: ["/SHA256SUMS", `/${asset}`],
      installed: { "ai-tmux": "-> pty-mcp", "pty-mcp": `755 ${short(hostSum)}` },
      home: {},
    });
  });

  test("install.sh: runs on BusyBox alone (Alpine's ash, wget and tools), retrying downloads itself", async () => {
    const busybox = Bun.which("busybox");
    if (!busybox) throw new Error("busybox is not installed (apt-get install busybox; listed in .ci/run)");
    const other = sandbox();
    const bin = join(other.dir, "busybox-bin");
    mkdirSync(bin);
    const applets = Bun.spawnSync([busybox, "--list"], { stdout: "pipe" }).stdout.toString().split("\n").filter(Boolean);
    for (const applet of applets) Bun.spawnSync(["ln", "-s", busybox, join(bin, applet)]);
    const { url, requests } = server("good");
    const seen = requests.length;
    const run = await sh(other, "sh", { PATH: bin, PTY_MCP_RELEASE_BASE: url, INSTALL_DIR: other.installDir }, { stdin: script });
    expect({ code: run.code, stderr: run.stderr, requests: requests.slice(seen), installed: tree(other.installDir), home: tree(other.home) }).toEqual({
      code: 0,
      stderr: `pty-mcp install: downloading ${asset} from ${url}\npty-mcp install: installed pty-mcp ${version} at ${other.installDir}/pty-mcp\n`,
      requests: ["/SHA256SUMS", `/${asset}`],
      installed: { "ai-tmux": "-> pty-mcp", "pty-mcp": `755 ${short(hostSum)}` },
      home: {},
    });

    // Refused connections: BusyBox wget has no retry option, the installer retries.
    const refused = `http://127.0.0.1:${closedPort()}`;
    const failed = await sh(other, "sh", { PATH: bin, PTY_MCP_RELEASE_BASE: refused, INSTALL_DIR: join(other.dir, "second"), PTY_MCP_DOWNLOAD_RETRIES: "1" }, { stdin: script });
    expect({ code: failed.code, message: failed.stderr.split("\n").filter((l) => l.startsWith("pty-mcp install")) }).toEqual({
      code: 1,
      message: [
        `pty-mcp install: error: download of ${refused}/SHA256SUMS failed after 2 attempts (wget exit 1). ` +
          "Check the network, or set PTY_MCP_RELEASE_BASE to a reachable mirror or a local directory.",
      ],
    });

    // A server that never answers: `timeout` bounds each BusyBox wget attempt.
    await using stall = stallServer();
    const stalled = await sh(other, "sh", {
      PATH: bin, PTY_MCP_RELEASE_BASE: stall.url, INSTALL_DIR: join(other.dir, "third"), PTY_MCP_DOWNLOAD_TIMEOUT: "1", PTY_MCP_DOWNLOAD_RETRIES: "1",
    }, { stdin: script });
    expect({ code: stalled.code, attempts: stall.connections, message: stalled.stderr.replace(/wget exit \d+/, "wget exit N") }).toEqual({
      code: 1,
      attempts: 2,
      message:
        `pty-mcp install: error: download of ${stall.url}/SHA256SUMS failed after 2 attempts (wget exit N). ` +
        "Check the network, or set PTY_MCP_RELEASE_BASE to a reachable mirror or a local directory.\n",
    });
  });
});
