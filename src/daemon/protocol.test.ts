import { describe, expect, test } from "bun:test";
import { clientHello, encodeFrame, FrameDecoder, MAX_FRAME_BYTES, negotiateVersion, ProtocolError, requestSchema } from "./protocol.ts";

describe("frame codec", () => {
  test("a frame is u32 length, u32 header length, JSON header, body", () => {
    const frame = encodeFrame({ type: "write", id: 1, session: "s" }, new Uint8Array([1, 2, 3]));
    const header = JSON.stringify({ type: "write", id: 1, session: "s" });
    const view = new DataView(frame.buffer);
    expect(view.getUint32(0)).toBe(4 + header.length + 3);
    expect(view.getUint32(4)).toBe(header.length);
    expect(new TextDecoder().decode(frame.subarray(8, 8 + header.length))).toBe(header);
    expect([...frame.subarray(8 + header.length)]).toEqual([1, 2, 3]);
  });

  test("frames split at every byte and glued together decode in order", () => {
    const body = new Uint8Array(300).map((_, i) => i & 0xff);
    const stream = new Uint8Array([...encodeFrame({ type: "hello", n: 1 }), ...encodeFrame({ type: "output", cursor: 5 }, body), ...encodeFrame({ type: "x" })]);
    const decoder = new FrameDecoder();
    const frames = [];
    for (let i = 0; i < stream.length; i++) frames.push(...decoder.push(stream.subarray(i, i + 1)));
    expect(frames).toEqual([
      { header: { type: "hello", n: 1 }, body: new Uint8Array(0) },
      { header: { type: "output", cursor: 5 }, body },
      { header: { type: "x" }, body: new Uint8Array(0) },
    ]);
    expect(decoder.pending).toBe(0);
    expect(new FrameDecoder().push(stream).length).toBe(3);
  });

  test("a large body across many chunks", () => {
    const body = new Uint8Array(1024 * 1024).map((_, i) => (i * 7) & 0xff);
    const frame = encodeFrame({ type: "output" }, body);
    const decoder = new FrameDecoder();
    const frames = [];
    for (let i = 0; i < frame.length; i += 65_000) frames.push(...decoder.push(frame.subarray(i, i + 65_000)));
    expect(frames.length).toBe(1);
    expect(frames[0]!.body).toEqual(body);
  });

  test("malformed frames are protocol errors", () => {
    const tooLong = new Uint8Array(8);
    new DataView(tooLong.buffer).setUint32(0, MAX_FRAME_BYTES + 1);
    expect(() => new FrameDecoder().push(tooLong)).toThrow(ProtocolError);
    const badHeaderLength = new Uint8Array(12);
    new DataView(badHeaderLength.buffer).setUint32(0, 8);
    new DataView(badHeaderLength.buffer).setUint32(4, 9);
    expect(() => new FrameDecoder().push(badHeaderLength)).toThrow("header length 9 exceeds frame length 8");
    const notJson = new Uint8Array([0, 0, 0, 6, 0, 0, 0, 2, 0x7b, 0x7b]);
    expect(() => new FrameDecoder().push(notJson)).toThrow(ProtocolError);
    const array = new Uint8Array([0, 0, 0, 6, 0, 0, 0, 2, 0x5b, 0x5d]);
    expect(() => new FrameDecoder().push(array)).toThrow("frame header is not a JSON object");
    expect(() => encodeFrame({}, new Uint8Array(MAX_FRAME_BYTES))).toThrow(ProtocolError);
  });
});

describe("hello and requests", () => {
  test("the highest common version wins; none in common is undefined", () => {
    expect(negotiateVersion([1, 2, 3], [1, 2])).toBe(2);
    expect(negotiateVersion([5], [1, 2])).toBeUndefined();
    expect(clientHello("x")).toEqual({ type: "hello", protocol: "pty-mcp", versions: [1], client: "x" });
  });

  test("requests are checked field by field", () => {
    expect(requestSchema.parse({ type: "attach", id: 3, session: "local-1", from: 10 })).toEqual({ type: "attach", id: 3, session: "local-1", from: 10 });
    expect(requestSchema.safeParse({ type: "resize", id: 1, session: "s", cols: 1, rows: 10 }).success).toBe(false);
    expect(requestSchema.safeParse({ type: "signal", id: 1, session: "s", signal: "rm -rf" }).success).toBe(false);
    expect(requestSchema.safeParse({ type: "launch", id: 1 }).success).toBe(false);
  });
});
