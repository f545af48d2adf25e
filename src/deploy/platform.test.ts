import { describe, expect, test } from "bun:test";
import { compareVersions } from "./deploy.ts";
import { parseProbe, runsOn, targetNames } from "./platform.ts";

const probe = (lines: Record<string, string>) => Object.entries(lines).map(([k, v]) => `${k}=${v}`).join("\n");

describe("remote platform", () => {
  test("uname, libc and AVX2 pick the release asset, best first", () => {
    const pick = (uname: string, libc = "glibc", avx2 = "1") => targetNames(parseProbe(probe({ uname, libc, avx2, home: "/h" }), "h").platform);
    expect(pick("Linux x86_64")).toEqual(["linux-x64", "linux-x64-baseline"]);
    expect(pick("Linux x86_64", "glibc", "0")).toEqual(["linux-x64-baseline"]);
    expect(pick("Linux x86_64", "musl")).toEqual(["linux-x64-musl"]);
    expect(pick("Linux aarch64")).toEqual(["linux-arm64"]);
    expect(pick("Linux aarch64", "musl", "0")).toEqual(["linux-arm64-musl"]);
    expect(pick("Darwin arm64", "glibc", "0")).toEqual(["darwin-arm64"]);
    expect(pick("Darwin x86_64", "glibc", "0")).toEqual(["darwin-x64"]);
  });

  test("an OS or CPU without a build is DEPLOY_FAILED naming uname", () => {
    expect(() => parseProbe(probe({ uname: "Linux armv7l" }), "pi")).toThrow(
      'pi reports `uname -sm` = "Linux armv7l": pty-mcp has builds for Linux and macOS on x86-64 and arm64 only. Use a plain (non-persistent) SSH session there.',
    );
    expect(() => parseProbe(probe({ uname: "FreeBSD amd64" }), "bsd")).toThrow('bsd reports `uname -sm` = "FreeBSD amd64"');
  });

  test("the probe's tools and paths", () => {
    const p = parseProbe(probe({ uname: "Linux x86_64", libc: "glibc", avx2: "1", home: "/home/ops", gzip: "0", sha: "shasum", onpath: "/usr/bin/pty-mcp" }), "h");
    expect(p).toEqual({
      platform: { os: "linux", arch: "x64", libc: "glibc", avx2: true },
      uname: "Linux x86_64",
      home: "/home/ops",
      gzip: false,
      sha: "shasum -a 256",
      onPath: "/usr/bin/pty-mcp",
    });
    expect(parseProbe(probe({ uname: "Linux x86_64", sha: "" }), "h").sha).toBeUndefined();
  });

  test("the running binary fits a host of the same OS, CPU and libc (x64 default build: AVX2)", () => {
    const glibc = { os: "linux", arch: "x64", libc: "glibc", avx2: true } as const;
    expect(runsOn(glibc, glibc)).toBe(true);
    expect(runsOn(glibc, { ...glibc, libc: "musl" })).toBe(false);
    expect(runsOn(glibc, { ...glibc, avx2: false })).toBe(false);
    expect(runsOn(glibc, { ...glibc, arch: "arm64" })).toBe(false);
  });

  test("versions compare numerically", () => {
    expect(compareVersions("0.1.0", "0.1.0")).toBe(0);
    expect(compareVersions("0.0.9", "0.1.0")).toBe(-1);
    expect(compareVersions("0.10.0", "0.9.3")).toBe(1);
    expect(compareVersions("1.2", "1.2.0")).toBe(0);
  });
});
