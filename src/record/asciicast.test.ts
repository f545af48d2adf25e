import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PtyError } from "../errors.ts";
import { AsciicastWriter } from "./asciicast.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "pty-mcp-cast-"));
  dirs.push(dir);
  return dir;
}

type Event = [number, string, string];

/** What `asciinema cat` does: header line, then the "o" events' text in order. */
function parseCast(path: string): { header: Record<string, unknown>; events: Event[]; output: string } {
  const lines = readFileSync(path, "utf8").split("\n");
  expect(lines.pop()).toBe("");
  const [headerLine, ...eventLines] = lines;
  const header = JSON.parse(headerLine ?? "") as Record<string, unknown>;
  const events = eventLines.map((line) => JSON.parse(line) as Event);
  const output = events.filter((e) => e[1] === "o").map((e) => e[2]).join("");
  return { header, events, output };
}

const encoder = new TextEncoder();

describe("AsciicastWriter", () => {
  test("asciicast: multi-byte characters split across writes come out whole; resize events; 0600", async () => {
    const path = join(tempDir(), "session.cast");
    const before = Math.floor(Date.now() / 1000);
    const writer = AsciicastWriter.create(path, { cols: 80, rows: 24 });
    const text = "$ echo héllo €uro 🎉\r\nhéllo €uro 🎉\r\n\x1b[1;32mok\x1b[0m\r\n$ ";
    const bytes = encoder.encode(text);
    // Cut inside é (2 bytes), inside € (3 bytes, twice) and inside 🎉 (4 bytes).
    const e = bytes.indexOf(0xc3);
    const euro = bytes.indexOf(0xe2);
    const party = bytes.indexOf(0xf0);
    const cuts = [0, e + 1, euro + 1, euro + 2, party + 1, party + 3, bytes.length];
    for (let i = 0; i + 1 < cuts.length; i++) {
      writer.write(bytes.subarray(cuts[i], cuts[i + 1]));
      if (i === 2) writer.resize({ cols: 100, rows: 30 });
      await Bun.sleep(2);
    }
    await writer.close();

    const cast = parseCast(path);
    expect(cast.header).toEqual({ version: 2, width: 80, height: 24, timestamp: cast.header.timestamp, env: { TERM: "xterm-256color" } });
    expect(cast.header.timestamp as number).toBeGreaterThanOrEqual(before);
    expect(cast.output).toBe(text);
    expect(cast.output.includes("\uFFFD")).toBe(false);
    // Writes that end inside a character produce no event until the character is complete.
    expect(cast.events.map((event) => event[1])).toEqual(["o", "o", "r", "o", "o"]);
    expect(cast.events[2]?.[2]).toBe("100x30");
    const times = cast.events.map((event) => event[0]);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  test("asciicast: `asciinema cat` reproduces the output bytes", async () => {
    const asciinema = Bun.which("asciinema");
    if (!asciinema) {
      console.warn("asciinema not installed (apt-get install asciinema): skipping the cross-check");
      return;
    }
    const path = join(tempDir(), "cat.cast");
    const writer = AsciicastWriter.create(path, { cols: 120, rows: 40 });
    const text = "línea 1\r\nzwei €\r\n\x1b[7minverse\x1b[0m 終わり\r\n";
    const bytes = encoder.encode(text);
    for (let i = 0; i < bytes.length; i += 3) writer.write(bytes.subarray(i, i + 3));
    await writer.close();
    // asciinema 2.2 `cat` opens /dev/tty, so it runs under script(1); -onlcr keeps "\n" as it is.
    const proc = Bun.spawnSync(["script", "-qec", `stty -onlcr; ${asciinema} cat ${path}`, "/dev/null"], { stdin: "ignore", stderr: "pipe" });
    expect({ exitCode: proc.exitCode, stdout: proc.stdout.toString("utf8") }).toEqual({ exitCode: 0, stdout: text });
  });

  test("asciicast: write returns before anything is written; close flushes; close twice is safe; later writes are ignored", async () => {
    const path = join(tempDir(), "lazy.cast");
    const writer = AsciicastWriter.create(path, { cols: 80, rows: 24 });
    for (let i = 0; i < 1000; i++) writer.write(encoder.encode(`line ${i}\r\n`));
    expect(readFileSync(path, "utf8")).toBe("");
    await Promise.all([writer.close(), writer.close()]);
    writer.write(encoder.encode("after close"));
    await writer.close();
    const cast = parseCast(path);
    expect(cast.output).toBe(Array.from({ length: 1000 }, (_, i) => `line ${i}\r\n`).join(""));
  });

  test("asciicast: bytes that are not UTF-8 become U+FFFD; a character cut off at close too", async () => {
    const path = join(tempDir(), "latin1.cast");
    const writer = AsciicastWriter.create(path, { cols: 80, rows: 24 });
    writer.write(Uint8Array.of(0x63, 0x61, 0x66, 0xe9, 0x0d, 0x0a)); // "café\r\n" in latin1
    writer.write(Uint8Array.of(0x41, 0xe2, 0x82)); // "A" and two thirds of "€"
    await writer.close();
    expect(parseCast(path).output).toBe("caf\uFFFD\r\nA\uFFFD");
  });

  test("asciicast: an existing file is truncated and made 0600; a symlink is refused", async () => {
    const dir = tempDir();
    const existing = join(dir, "old.cast");
    writeFileSync(existing, "old contents\n", { mode: 0o644 });
    const writer = AsciicastWriter.create(existing, { cols: 80, rows: 24 });
    await writer.close();
    expect(readFileSync(existing, "utf8").startsWith('{"version":2,')).toBe(true);
    expect(statSync(existing).mode & 0o777).toBe(0o600);

    const target = join(dir, "victim");
    writeFileSync(target, "precious\n");
    const link = join(dir, "link.cast");
    symlinkSync(target, link);
    let error: unknown;
    try {
      AsciicastWriter.create(link, { cols: 80, rows: 24 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PtyError);
    expect((error as PtyError).code).toBe("INVALID_ARGUMENT");
    expect((error as PtyError).message).toStartWith(`Cannot create recording ${link}: `);
    expect(readFileSync(target, "utf8")).toBe("precious\n");
  });
});
