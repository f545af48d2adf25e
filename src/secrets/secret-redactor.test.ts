import { describe, expect, test } from "bun:test";
import type { OutputSink } from "../session/sink.ts";
import { redactingSink } from "./redacting-sink.ts";
import { SecretRedactor } from "./secret-redactor.ts";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

describe("SecretRedactor", () => {
  test("redactText and redactBytes replace every occurrence with ***; the caller's buffer may be zeroed at once", () => {
    const redactor = new SecretRedactor();
    const secret = bytes("hunter2");
    using _ = redactor.hold(secret);
    secret.fill(0);
    expect(redactor.redactText("pw hunter2, again hunter2.")).toBe("pw ***, again ***.");
    expect(text(redactor.redactBytes(bytes("hunter2hunter2 x")))).toBe("****** x");
    const clean = bytes("nothing here");
    expect(redactor.redactBytes(clean)).toBe(clean);
  });

  test("a secret containing another is replaced whole; non-ASCII secrets too", () => {
    const redactor = new SecretRedactor();
    using _a = redactor.hold(bytes("pass"));
    using _b = redactor.hold(bytes("password1"));
    using _c = redactor.hold(bytes("päss€"));
    expect(redactor.redactText("password1 pass päss€")).toBe("*** *** ***");
    expect(text(redactor.redactBytes(bytes("password1 pass päss€")))).toBe("*** *** ***");
  });

  test("secrets shorter than 4 bytes are not redacted; a released secret no longer is", () => {
    const redactor = new SecretRedactor();
    using _short = redactor.hold(bytes("abc"));
    const held = redactor.hold(bytes("s3cret"));
    expect(redactor.size).toBe(1);
    expect(redactor.redactText("abc s3cret")).toBe("abc ***");
    held[Symbol.dispose]();
    expect(redactor.size).toBe(0);
    expect(redactor.redactText("abc s3cret")).toBe("abc s3cret");
  });

  test("stream: a secret split across chunks is caught; a partial match is held back only as long as needed", () => {
    const redactor = new SecretRedactor();
    using _ = redactor.hold(bytes("hunter2"));
    const stream = redactor.stream();
    const out: string[] = [];
    for (const chunk of ["echo hun", "t", "er2 done; hu", "mm", " hunt"]) out.push(text(stream.push(bytes(chunk))));
    out.push(text(stream.end()));
    expect(out).toEqual(["echo ", "", "*** done; ", "humm", " ", "hunt"]);
  });

  test("redactingSink: a recording never gets the secret, even split; resize and close pass through", async () => {
    const redactor = new SecretRedactor();
    using _ = redactor.hold(bytes("s3cr3t-pw"));
    const written: string[] = [];
    const events: string[] = [];
    const inner: OutputSink = {
      write: (data) => void written.push(text(data)),
      resize: (size) => void events.push(`resize ${size.cols}x${size.rows}`),
      close: async () => void events.push("close"),
    };
    const sink = redactingSink(inner, redactor);
    sink.write(bytes("Password: s3cr"));
    sink.write(bytes("3t-pw\r\nok\r\n"));
    sink.resize?.({ cols: 100, rows: 30 });
    sink.write(bytes("s3c"));
    await sink.close();
    await sink.close();
    expect(written.join("")).toBe("Password: ***\r\nok\r\ns3c");
    expect(events).toEqual(["resize 100x30", "close", "close"]);
  });
});
