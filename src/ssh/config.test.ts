import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PtyError } from "../errors.ts";
import { parseJumpSpec, resolveSshConfig, type ResolveOptions } from "./config.ts";
import { globMatch, hostMatches } from "./patterns.ts";

let home: string;
let opts: ResolveOptions;
const write = (rel: string, text: string): void => {
  const path = join(home, rel);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
};

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "pty-mcp-sshcfg-"));
  opts = { home, systemConfigFile: join(home, "system_config") };
  process.env.USER = "localme";
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

test("config: no config file gives OpenSSH defaults", () => {
  const t = resolveSshConfig("db1.example.com", opts);
  expect(t).toEqual({
    alias: "db1.example.com",
    hostname: "db1.example.com",
    port: 22,
    user: "localme",
    identityFiles: [join(home, ".ssh/id_ed25519"), join(home, ".ssh/id_ecdsa"), join(home, ".ssh/id_rsa")],
    identityFilesConfigured: false,
    identitiesOnly: false,
    proxyJump: [],
    serverAliveIntervalS: 0,
    serverAliveCountMax: 3,
    connectTimeoutS: undefined,
    hostKeyAlias: undefined,
    userKnownHostsFiles: [join(home, ".ssh/known_hosts"), join(home, ".ssh/known_hosts2")],
    globalKnownHostsFiles: ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"],
    hashKnownHosts: false,
    strictHostKeyChecking: undefined,
    passwordAuthentication: true,
    kbdInteractiveAuthentication: true,
    pubkeyAuthentication: true,
    identityAgent: undefined,
  });
});

test("config: alias with HostName, Port, User, several IdentityFiles; first value wins; explicit params win", () => {
  write(
    ".ssh/config",
    [
      "Host web",
      "  HostName 10.0.0.5",
      "  Port 2222",
      "  User deploy",
      "  IdentityFile ~/.ssh/web_ed25519",
      '  IdentityFile "~/keys/old rsa"',
      "  IdentitiesOnly yes",
      "  ConnectTimeout 7",
      "  ServerAliveInterval 30",
      "Host *",
      "  User fallback",
      "  Port 9",
      "  IdentityFile ~/.ssh/id_all",
    ].join("\n"),
  );
  const t = resolveSshConfig("web", opts);
  expect([t.hostname, t.port, t.user, t.identityFiles, t.identitiesOnly, t.connectTimeoutS, t.serverAliveIntervalS]).toEqual([
    "10.0.0.5",
    2222,
    "deploy",
    [join(home, ".ssh/web_ed25519"), join(home, "keys/old rsa"), join(home, ".ssh/id_all")],
    true,
    7,
    30,
  ]);
  const explicit = resolveSshConfig("web", { ...opts, user: "root", port: 22, keyPath: "~/given" });
  expect([explicit.user, explicit.port, explicit.identityFiles[0]]).toEqual(["root", 22, join(home, "given")]);
});

test("config: wildcard and negated Host patterns, %h in HostName", () => {
  write(".ssh/config", "Host *.lab !bad.lab\n  HostName %h.internal\n  User labuser\nHost ?x\n  Port 2200\n");
  expect(resolveSshConfig("sw1.lab", opts).hostname).toBe("sw1.lab.internal");
  expect(resolveSshConfig("bad.lab", opts).hostname).toBe("bad.lab");
  expect(resolveSshConfig("ax", opts).port).toBe(2200);
  expect(resolveSshConfig("abx", opts).port).toBe(22);
});

test("config: Include with globs, relative to ~/.ssh, inside and outside Host blocks", () => {
  write(".ssh/config", "Include conf.d/*.conf\nHost app\n  Include app.inc\n");
  write(".ssh/conf.d/10-a.conf", "Host app\n  User from-a\n");
  write(".ssh/conf.d/20-b.conf", "Host app\n  User from-b\n  Port 2022\n");
  write(".ssh/app.inc", "HostName 192.0.2.7\n");
  write(".ssh/conf.d/ignored.txt", "Host app\n  Port 1\n");
  const t = resolveSshConfig("app", opts);
  expect([t.user, t.port, t.hostname]).toEqual(["from-a", 2022, "192.0.2.7"]);
  expect(resolveSshConfig("other", opts).hostname).toBe("other");
});

test("config: the system config applies after the user's", () => {
  write(".ssh/config", "Host x\n  Port 1000\n");
  writeFileSync(opts.systemConfigFile as string, "Host *\n  Port 2000\n  HashKnownHosts yes\n");
  const t = resolveSshConfig("x", opts);
  expect([t.port, t.hashKnownHosts]).toEqual([1000, true]);
});

test("config: ProxyJump chains resolve each hop through the config", () => {
  write(
    ".ssh/config",
    "Host bastion\n  HostName 203.0.113.1\n  User jump\n  Port 2201\nHost inner\n  HostName 10.1.1.1\n  ProxyJump bastion,ops@mid:2202\nHost mid\n  HostName 10.0.0.2\n",
  );
  const t = resolveSshConfig("inner", opts);
  expect(t.proxyJump.map((h) => `${h.user}@${h.hostname}:${h.port}`)).toEqual(["jump@203.0.113.1:2201", "ops@10.0.0.2:2202"]);
  expect(resolveSshConfig("inner", { ...opts, jump: "none" }).proxyJump).toEqual([]);
  // A hop with its own ProxyJump is reached through it first (ssh -J semantics for the first hop).
  write(".ssh/config", "Host a\n  ProxyJump b\nHost b\n  HostName 10.9.9.9\nHost c\n  ProxyJump a\n");
  expect(resolveSshConfig("c", opts).proxyJump.map((h) => h.hostname)).toEqual(["10.9.9.9", "a"]);
});

test("config: a ProxyJump loop is refused", () => {
  write(".ssh/config", "Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n");
  const err = (() => {
    try {
      resolveSshConfig("a", opts);
    } catch (e) {
      return e;
    }
  })();
  expect(err instanceof PtyError ? err.code : err).toBe("INVALID_ARGUMENT");
});

test("config: Match all/host/user work; Match exec is never run", () => {
  write(".ssh/config", `Match exec "touch ${join(home, "ran")}"\n  Port 1\nMatch host db* user admin\n  Port 5432\nMatch all\n  User everyone\n`);
  expect(resolveSshConfig("db1", opts).port).toBe(22);
  expect(resolveSshConfig("db1", { ...opts, user: "admin" }).port).toBe(5432);
  expect(resolveSshConfig("db1", opts).user).toBe("everyone");
  expect(Bun.file(join(home, "ran")).size).toBe(0);
});

test("config: IdentityAgent, UserKnownHostsFile, StrictHostKeyChecking", () => {
  write(".ssh/config", "Host *\n  IdentityAgent ~/agent.sock\n  UserKnownHostsFile ~/kh1 /abs/kh2\n  StrictHostKeyChecking accept-new\n");
  const t = resolveSshConfig("h", opts);
  expect([t.identityAgent, t.userKnownHostsFiles, t.strictHostKeyChecking]).toEqual([join(home, "agent.sock"), [join(home, "kh1"), "/abs/kh2"], "accept-new"]);
});

test("parseJumpSpec: user, host, port, brackets, ssh:// URLs", () => {
  expect(parseJumpSpec("a, me@b:2022 ,[::1]:23,ssh://u@c:24")).toEqual([
    { host: "a" },
    { user: "me", host: "b", port: 2022 },
    { host: "::1", port: 23 },
    { user: "u", host: "c", port: 24 },
  ]);
  expect(() => parseJumpSpec("b:99999")).toThrow(PtyError);
});

test("hostMatches / globMatch follow ssh_config PATTERNS", () => {
  expect(hostMatches(["*.example.com", "!secret.example.com"], "www.example.com")).toBe(true);
  expect(hostMatches(["*.example.com", "!secret.example.com"], "secret.example.com")).toBe(false);
  expect(hostMatches(["WEB?"], "web1")).toBe(true);
  expect(globMatch("[a]*", "[a]:22")).toBe(true);
  expect(globMatch("a.b", "axb")).toBe(false);
});

test("host names that could be options or hold spaces are refused", () => {
  expect(() => resolveSshConfig("-oProxyCommand=x", opts)).toThrow(PtyError);
  expect(() => resolveSshConfig("a b", opts)).toThrow(PtyError);
});
