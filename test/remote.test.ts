/**
 * Remote hosts (issue 7): `pty-mcp deploy` and persistent SSH sessions, against a real sshd on
 * loopback. The "remote host" is a temp HOME (sshd's SetEnv gives the login that HOME and its own
 * XDG_RUNTIME_DIR, so the remote daemon's socket is the test's own); the remote pty-mcp is
 * dist/pty-mcp itself, copied there by deploy.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "bun";
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deployBinary } from "../src/deploy/deploy.ts";
import { connectSsh } from "../src/ssh/ssh-transport.ts";
import { binary, McpHarness } from "./harness/mcp.ts";
import { knownHostsLine, makeKey, startSshd, tempDir, type Sshd } from "./harness/sshd.ts";

setDefaultTimeout(120_000);

const local = tempDir("pty-mcp-remote-local-");
const remote = tempDir("pty-mcp-remote-host-");
const releaseDir = join(local.path, "release");
const sshDir = join(local.path, ".ssh");
let sshd: Sshd;
let version: string;

function sha256(path: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
}

/** `pty-mcp deploy` through the binary, with the test's HOME (keys, known_hosts). */
function deployCli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync([binary, "deploy", "127.0.0.1", "--port", String(sshd.port), "--user", "root", ...args], {
    env: { ...process.env, HOME: local.path, SSH_AUTH_SOCK: "", PTY_MCP_RELEASE_DIR: "" },
  });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

beforeAll(async () => {
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  mkdirSync(join(remote.path, "run"), { recursive: true, mode: 0o700 });
  mkdirSync(releaseDir);
  symlinkSync(binary, join(releaseDir, "pty-mcp-linux-x64"));
  symlinkSync(binary, join(releaseDir, "pty-mcp-linux-x64-baseline"));
  sshd = await startSshd({ extraConfig: `SetEnv HOME=${remote.path} XDG_RUNTIME_DIR=${join(remote.path, "run")}` });
  const key = makeKey(join(sshDir, "id_ed25519"));
  sshd.authorize(key.pub);
  writeFileSync(join(sshDir, "known_hosts"), `${knownHostsLine(sshd)}\n`);
  version = spawnSync([binary, "--version"]).stdout.toString().trim();
});

afterAll(async () => {
  // The remote daemon runs on the test's socket; stop it so nothing outlives the test.
  spawnSync(["sh", "-c", `pid=$(cat '${join(remote.path, "run", "pty-mcp", "daemon.pid")}' 2>/dev/null) && kill $pid`]);
  await sshd?.[Symbol.asyncDispose]();
  remote[Symbol.dispose]();
  local[Symbol.dispose]();
});

describe("deploy", () => {
  test("to an empty path installs the running binary (SHA-256 equal, 0755); a second deploy is a no-op", async () => {
    const dest = join(remote.path, "opt", "bin", "pty-mcp");
    const first = deployCli(["--path", dest, "--json"]);
    expect(first.stderr).toContain("uploading");
    expect(first.code).toBe(0);
    const result = JSON.parse(first.stdout);
    expect(result).toEqual({
      path: dest,
      action: "installed",
      version: version.replace("pty-mcp ", ""),
      target: "linux-x64",
      source: binary,
      bytes: readFileSync(binary).length,
      compressed_bytes: expect.any(Number),
    });
    expect(result.compressed_bytes).toBeLessThan(result.bytes);
    expect(sha256(dest)).toBe(sha256(binary));
    expect(spawnSync(["stat", "-c", "%a", dest]).stdout.toString().trim()).toBe("755");
    expect(spawnSync([dest, "--version"]).stdout.toString().trim()).toBe(version);
    expect(readdirSync(join(remote.path, "opt", "bin"))).toEqual(["pty-mcp"]);

    const second = deployCli(["--path", dest]);
    expect(second).toEqual({ code: 0, stdout: `root@127.0.0.1:${sshd.port}: ${dest} is already ${version}\n`, stderr: expect.any(String) });
    expect(second.stderr).not.toContain("uploading");
  });

  test("the default path is ~/.local/bin/pty-mcp of the remote HOME", () => {
    const r = deployCli([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`root@127.0.0.1:${sshd.port}: installed ${version} (linux-x64) at ${remote.path}/.local/bin/pty-mcp\n`);
    expect(sha256(join(remote.path, ".local/bin/pty-mcp"))).toBe(sha256(binary));
  });

  test("a corrupted upload is detected on the host and not installed", async () => {
    const dir = join(remote.path, "corrupt");
    const dest = join(dir, "pty-mcp");
    const connection = await connectSsh({ host: "127.0.0.1", port: sshd.port, user: "root", home: local.path, userConfigFile: join(sshDir, "config") });
    try {
      let uploaded = "";
      const error = await deployBinary(
        { client: connection.client, label: connection.target },
        {
          path: dest,
          releaseDir,
          afterUpload: (file) => {
            uploaded = file;
            // Flip one byte in the middle of what arrived, as a bad link or disk would.
            const bytes = readFileSync(file);
            bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
            writeFileSync(file, bytes);
          },
        },
      ).then(
        () => undefined,
        (err: unknown) => err as { code: string; message: string },
      );
      expect(uploaded.startsWith(`${dir}/.pty-mcp.`)).toBe(true);
      expect(error?.code).toBe("DEPLOY_FAILED");
      expect(error?.message).toContain("the upload arrived corrupted");
      expect(error?.message).toContain("nothing was installed");
      expect(existsSync(dest)).toBe(false);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      connection.end();
    }
  });
});
