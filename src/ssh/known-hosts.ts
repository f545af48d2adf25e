/**
 * known_hosts as OpenSSH reads it (sshd(8) SSH_KNOWN_HOSTS FILE FORMAT):
 * `[marker] hostpatterns keytype base64-key [comment]`, plain or hashed
 * (`|1|base64(salt)|base64(HMAC-SHA1(salt, name))`), `[host]:port` for
 * non-22 ports, `@revoked` keys refused everywhere, `@cert-authority` lines
 * ignored (we do not do host certificates). Pure apart from file reads and the
 * append on accept.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { hostMatches } from "./patterns.ts";

export interface KnownHostEntry {
  file: string;
  /** 1-based line number, for messages (`ssh-keygen -R` / edit hints). */
  line: number;
  marker: "revoked" | "cert-authority" | undefined;
  /** Plain patterns (comma separated in the file), or undefined when hashed. */
  patterns: string[] | undefined;
  hashed: { salt: Buffer; hash: Buffer } | undefined;
  keyType: string;
  key: Buffer;
}

export type HostKeyVerdict =
  | { kind: "trusted"; entry: KnownHostEntry }
  | { kind: "unknown"; otherTypes: string[] }
  | { kind: "mismatch"; entry: KnownHostEntry }
  | { kind: "revoked"; entry: KnownHostEntry };

/** The name OpenSSH looks up: `host` on port 22, else `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** OpenSSH fingerprint: `SHA256:` + unpadded base64 of sha256(key blob). */
export function fingerprintSha256(keyBlob: Uint8Array): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

/** The key type named inside an SSH public key blob (RFC 4253 §6.6: first field is a string). */
export function keyTypeOfBlob(blob: Uint8Array): string {
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (buf.length < 4) return "unknown";
  const len = buf.readUInt32BE(0);
  if (len > buf.length - 4 || len > 64) return "unknown";
  return buf.subarray(4, 4 + len).toString("latin1");
}

export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const trimmed = (lines[i] ?? "").trim();
    if (trimmed.length === 0 || trimmed.startsWith("#")) continue;
    const fields = trimmed.split(/\s+/);
    let marker: KnownHostEntry["marker"];
    if (fields[0]?.startsWith("@")) {
      const m = fields.shift();
      if (m === "@revoked") marker = "revoked";
      else if (m === "@cert-authority") marker = "cert-authority";
      else continue;
    }
    const [hosts, keyType, keyB64] = fields;
    if (hosts === undefined || keyType === undefined || keyB64 === undefined) continue;
    const key = Buffer.from(keyB64, "base64");
    if (key.length === 0) continue;
    let hashed: KnownHostEntry["hashed"];
    let patterns: string[] | undefined;
    if (hosts.startsWith("|1|")) {
      const [, , salt, hash] = hosts.split("|");
      if (salt === undefined || hash === undefined) continue;
      hashed = { salt: Buffer.from(salt, "base64"), hash: Buffer.from(hash, "base64") };
    } else {
      patterns = hosts.split(",");
    }
    entries.push({ file, line: i + 1, marker, patterns, hashed, keyType, key });
  }
  return entries;
}

/** Read and parse the files that exist, in order. */
export function loadKnownHosts(files: readonly string[]): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    entries.push(...parseKnownHosts(text, file));
  }
  return entries;
}

export function entryMatchesHost(entry: KnownHostEntry, name: string): boolean {
  if (entry.hashed !== undefined) {
    const mac = createHmac("sha1", entry.hashed.salt).update(name).digest();
    return mac.length === entry.hashed.hash.length && mac.equals(entry.hashed.hash);
  }
  return entry.patterns !== undefined && hostMatches(entry.patterns, name);
}

/**
 * Decide about `keyBlob` offered by `host`:`port`. A revoked key is refused
 * whatever host it is listed for; a host with a key of the same type that
 * differs is a mismatch; a host listed only with other key types is unknown
 * (OpenSSH does the same, and we prefer the listed types when negotiating).
 */
export function checkHostKey(entries: readonly KnownHostEntry[], host: string, port: number, keyBlob: Uint8Array): HostKeyVerdict {
  const blob = Buffer.from(keyBlob.buffer, keyBlob.byteOffset, keyBlob.byteLength);
  for (const entry of entries) if (entry.marker === "revoked" && entry.key.equals(blob)) return { kind: "revoked", entry };
  const name = knownHostsName(host, port);
  const keyType = keyTypeOfBlob(blob);
  let mismatch: KnownHostEntry | undefined;
  const otherTypes = new Set<string>();
  for (const entry of entries) {
    if (entry.marker !== undefined || !entryMatchesHost(entry, name)) continue;
    if (entry.key.equals(blob)) return { kind: "trusted", entry };
    if (entry.keyType === keyType) mismatch ??= entry;
    else otherTypes.add(entry.keyType);
  }
  if (mismatch !== undefined) return { kind: "mismatch", entry: mismatch };
  return { kind: "unknown", otherTypes: [...otherTypes] };
}

/** Key types listed for host:port, in file order (to prefer them in key exchange, as OpenSSH does). */
export function knownKeyTypes(entries: readonly KnownHostEntry[], host: string, port: number): string[] {
  const name = knownHostsName(host, port);
  const types: string[] = [];
  for (const entry of entries)
    if (entry.marker === undefined && entryMatchesHost(entry, name) && !types.includes(entry.keyType)) types.push(entry.keyType);
  return types;
}

/** One known_hosts line for host:port, hashed like `HashKnownHosts yes` when asked. */
export function formatKnownHostsLine(host: string, port: number, keyBlob: Uint8Array, hash: boolean): string {
  const name = knownHostsName(host, port);
  let hostField = name;
  if (hash) {
    const salt = randomBytes(20);
    hostField = `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(name).digest("base64")}`;
  }
  return `${hostField} ${keyTypeOfBlob(keyBlob)} ${Buffer.from(keyBlob).toString("base64")}`;
}

/** Append a line (creating ~/.ssh 0700 and the file 0600 if needed). */
export function appendKnownHost(file: string, host: string, port: number, keyBlob: Uint8Array, hash: boolean): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let prefix = "";
  try {
    const text = readFileSync(file, "utf8");
    if (text.length > 0 && !text.endsWith("\n")) prefix = "\n";
  } catch {
    // New file.
  }
  appendFileSync(file, `${prefix}${formatKnownHostsLine(host, port, keyBlob, hash)}\n`, { mode: 0o600 });
}
