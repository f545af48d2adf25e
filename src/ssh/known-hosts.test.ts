import { expect, test } from "bun:test";
import { spawnSync } from "bun";
import { createHash, createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { appendKnownHost, checkHostKey, fingerprintSha256, formatKnownHostsLine, keyTypeOfBlob, knownHostsName, knownKeyTypes, loadKnownHosts, parseKnownHosts } from "./known-hosts.ts";

/** A syntactically valid key blob: string type, string payload. */
function blob(type: string, payload: string): Buffer {
  const t = Buffer.from(type);
  const p = Buffer.from(payload);
  const out = Buffer.alloc(8 + t.length + p.length);
  out.writeUInt32BE(t.length, 0);
  t.copy(out, 4);
  out.writeUInt32BE(p.length, 4 + t.length);
  p.copy(out, 8 + t.length);
  return out;
}
const ED_A = blob("ssh-ed25519", "A".repeat(32));
const ED_B = blob("ssh-ed25519", "B".repeat(32));
const RSA = blob("ssh-rsa", "R".repeat(64));
const line = (hosts: string, key: Buffer, marker = ""): string => `${marker}${marker ? " " : ""}${hosts} ${keyTypeOfBlob(key)} ${key.toString("base64")}`;
const hashed = (name: string, salt = Buffer.alloc(20, 7)): string => `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(name).digest("base64")}`;

test("fingerprintSha256 matches ssh-keygen -lf", () => {
  const dir = mkdtempSync(join(tmpdir(), "pty-mcp-kh-"));
  try {
    spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(dir, "k")]);
    const pub = readFileSync(join(dir, "k.pub"), "utf8");
    const keyBlob = Buffer.from(pub.split(" ")[1] ?? "", "base64");
    const fromKeygen = spawnSync(["ssh-keygen", "-l", "-E", "sha256", "-f", join(dir, "k.pub")]).stdout.toString().split(" ")[1];
    expect(fingerprintSha256(keyBlob)).toBe(fromKeygen as string);
    expect(fingerprintSha256(keyBlob)).toBe(`SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`);
    expect(keyTypeOfBlob(keyBlob)).toBe("ssh-ed25519");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("knownHostsName: bare on 22, [host]:port otherwise", () => {
  expect([knownHostsName("h", 22), knownHostsName("h", 2222)]).toEqual(["h", "[h]:2222"]);
});

test("checkHostKey: plain patterns, lists, wildcards, [host]:port", () => {
  const entries = parseKnownHosts([line("web,10.0.0.1", ED_A), line("[db]:2222", ED_A), line("*.lab,!x.lab", ED_A), "# comment", "", "garbage"].join("\n"), "kh");
  expect(checkHostKey(entries, "web", 22, ED_A).kind).toBe("trusted");
  expect(checkHostKey(entries, "10.0.0.1", 22, ED_A).kind).toBe("trusted");
  expect(checkHostKey(entries, "db", 2222, ED_A).kind).toBe("trusted");
  expect(checkHostKey(entries, "db", 22, ED_A).kind).toBe("unknown");
  expect(checkHostKey(entries, "sw.lab", 22, ED_A).kind).toBe("trusted");
  expect(checkHostKey(entries, "x.lab", 22, ED_A).kind).toBe("unknown");
});

test("checkHostKey: hashed |1| entries for port 22 and [host]:port", () => {
  const entries = parseKnownHosts([line(hashed("alpha"), ED_A), line(hashed("[beta]:2200"), ED_A)].join("\n"), "kh");
  expect(checkHostKey(entries, "alpha", 22, ED_A).kind).toBe("trusted");
  expect(checkHostKey(entries, "beta", 2200, ED_A).kind).toBe("trusted");
  expect(checkHostKey(entries, "beta", 22, ED_A).kind).toBe("unknown");
  expect(checkHostKey(entries, "alpha", 22, ED_B)).toEqual({ kind: "mismatch", entry: entries[0] as (typeof entries)[0] });
});

test("checkHostKey: same type different key = mismatch; other type only = unknown with the listed types", () => {
  const entries = parseKnownHosts([line("h", RSA), line("h", ED_A)].join("\n"), "kh");
  const v = checkHostKey(entries, "h", 22, ED_B);
  expect(v.kind === "mismatch" ? [v.entry.file, v.entry.line] : v).toEqual(["kh", 2]);
  const onlyRsa = parseKnownHosts(line("h", RSA), "kh");
  expect(checkHostKey(onlyRsa, "h", 22, ED_B)).toEqual({ kind: "unknown", otherTypes: ["ssh-rsa"] });
  expect(knownKeyTypes(entries, "h", 22)).toEqual(["ssh-rsa", "ssh-ed25519"]);
});

test("checkHostKey: @revoked wins for any host; @cert-authority lines are ignored", () => {
  const entries = parseKnownHosts([line("h", ED_A), line("*", ED_A, "@revoked"), line("*", ED_B, "@cert-authority")].join("\n"), "kh");
  expect(checkHostKey(entries, "h", 22, ED_A).kind).toBe("revoked");
  expect(checkHostKey(entries, "other", 22, ED_B).kind).toBe("unknown");
});

test("appendKnownHost: creates ~/.ssh 0700 and the file 0600, plain or hashed, and the line reads back", () => {
  const dir = mkdtempSync(join(tmpdir(), "pty-mcp-kh-"));
  try {
    const file = join(dir, ".ssh", "known_hosts");
    appendKnownHost(file, "h", 2222, ED_A, false);
    writeFileSync(file, readFileSync(file, "utf8").trimEnd()); // no trailing newline
    appendKnownHost(file, "g", 22, ED_B, true);
    expect(statSync(join(dir, ".ssh")).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, "utf8");
    expect(text.split("\n")[0]).toBe(`[h]:2222 ssh-ed25519 ${ED_A.toString("base64")}`);
    expect(text.split("\n")[1]?.startsWith("|1|")).toBe(true);
    const entries = loadKnownHosts([file, join(dir, "missing")]);
    expect([checkHostKey(entries, "h", 2222, ED_A).kind, checkHostKey(entries, "g", 22, ED_B).kind]).toEqual(["trusted", "trusted"]);
    // ssh-keygen agrees with what we wrote.
    expect(spawnSync(["ssh-keygen", "-F", "[h]:2222", "-f", file]).exitCode).toBe(0);
    expect(spawnSync(["ssh-keygen", "-F", "g", "-f", file]).exitCode).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("formatKnownHostsLine: plain form", () => {
  expect(formatKnownHostsLine("10.0.0.1", 22, RSA, false)).toBe(`10.0.0.1 ssh-rsa ${RSA.toString("base64")}`);
});
