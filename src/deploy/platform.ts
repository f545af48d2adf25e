// Which release build a host needs (SPEC §5): its OS, CPU and C library, as install.sh decides.
import { spawnSync } from "node:child_process";
import { PtyError } from "../errors.ts";

export interface Platform {
  os: "linux" | "darwin";
  arch: "x64" | "arm64";
  /** Linux only. */
  libc?: "glibc" | "musl";
  /** x86-64 CPUs without AVX2 need the baseline build. */
  avx2: boolean;
}

/**
 * One shell script, one round trip: `uname -sm`, the C library (getconf answers GNU_LIBC_VERSION
 * only on glibc), AVX2, $HOME and whether gzip and a SHA-256 tool exist. Prints `key=value` lines.
 */
export const PROBE_SCRIPT = [
  'echo "uname=$(uname -sm)"',
  'if getconf GNU_LIBC_VERSION >/dev/null 2>&1; then echo libc=glibc; elif { ldd --version 2>&1 | grep -qi musl; } || ls /lib/ld-musl-*.so.1 >/dev/null 2>&1; then echo libc=musl; else echo libc=glibc; fi',
  "if grep -qw avx2 /proc/cpuinfo 2>/dev/null; then echo avx2=1; else echo avx2=0; fi",
  'echo "home=$HOME"',
  "if command -v gzip >/dev/null 2>&1; then echo gzip=1; else echo gzip=0; fi",
  "if command -v sha256sum >/dev/null 2>&1; then echo sha=sha256sum; elif command -v shasum >/dev/null 2>&1; then echo sha=shasum; elif command -v openssl >/dev/null 2>&1; then echo sha=openssl; else echo sha=; fi",
  'p=$(command -v pty-mcp 2>/dev/null) && echo "onpath=$p"',
  "true",
].join("; ");

export interface Probe {
  platform: Platform;
  uname: string;
  home: string;
  gzip: boolean;
  /** The SHA-256 command line for a file name appended after it, or undefined when none exists. */
  sha?: string;
  /** `pty-mcp` found on the non-interactive PATH. */
  onPath?: string;
}

/** Parses PROBE_SCRIPT's output; an OS or CPU we have no build for is DEPLOY_FAILED. */
export function parseProbe(output: string, host: string): Probe {
  const values = new Map<string, string>();
  for (const line of output.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  const uname = values.get("uname") ?? "";
  const [sysName = "", machine = ""] = uname.split(/\s+/);
  const os = sysName === "Linux" ? "linux" : sysName === "Darwin" ? "darwin" : undefined;
  const arch = /^(x86_64|amd64)$/.test(machine) ? "x64" : /^(aarch64|arm64|armv8)/.test(machine) ? "arm64" : undefined;
  if (!os || !arch) {
    throw new PtyError(
      "DEPLOY_FAILED",
      `${host} reports \`uname -sm\` = "${uname || "(nothing)"}": pty-mcp has builds for Linux and macOS on x86-64 and arm64 only. Use a plain (non-persistent) SSH session there.`,
    );
  }
  const platform: Platform = { os, arch, avx2: values.get("avx2") === "1" || arch !== "x64" || os === "darwin" };
  if (os === "linux") platform.libc = values.get("libc") === "musl" ? "musl" : "glibc";
  const shaTool = values.get("sha");
  const sha = shaTool === "sha256sum" ? "sha256sum" : shaTool === "shasum" ? "shasum -a 256" : shaTool === "openssl" ? "openssl dgst -sha256 -r" : undefined;
  const probe: Probe = { platform, uname, home: values.get("home") ?? "", gzip: values.get("gzip") === "1" };
  if (sha) probe.sha = sha;
  const onPath = values.get("onpath");
  if (onPath) probe.onPath = onPath;
  return probe;
}

/** Release asset names that run on `p`, best first (`pty-mcp-<name>`). */
export function targetNames(p: Platform): string[] {
  if (p.os === "darwin") return [`darwin-${p.arch}`];
  if (p.libc === "musl") return [`linux-${p.arch}-musl`];
  if (p.arch === "x64") return p.avx2 ? ["linux-x64", "linux-x64-baseline"] : ["linux-x64-baseline"];
  return [`linux-${p.arch}`];
}

let local: Platform | undefined;

/** This machine, for deciding whether the running binary fits a host. */
export function localPlatform(): Platform {
  if (local) return local;
  const os = process.platform === "darwin" ? "darwin" : "linux";
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  const p: Platform = { os, arch, avx2: true };
  if (os === "linux") {
    const getconf = spawnSync("getconf", ["GNU_LIBC_VERSION"], { stdio: "ignore" });
    p.libc = getconf.status === 0 ? "glibc" : "musl";
  }
  return (local = p);
}

/** True when a binary built for `built` runs on `host` (the x64 default build needs AVX2). */
export function runsOn(built: Platform, host: Platform): boolean {
  if (built.os !== host.os || built.arch !== host.arch) return false;
  if (host.os === "linux" && built.libc !== host.libc) return false;
  return host.avx2 || host.arch !== "x64";
}
