import { describe, expect, test } from "bun:test";
import { resolveKey } from "./keys.ts";

describe("key map", () => {
  test("control keys, named keys, function keys, alt", () => {
    expect(resolveKey("ctrl+c")).toEqual({ kind: "bytes", bytes: "\x03" });
    expect(resolveKey("Ctrl-D")).toEqual({ kind: "bytes", bytes: "\x04" });
    expect(resolveKey("^Z")).toEqual({ kind: "bytes", bytes: "\x1a" });
    expect(resolveKey("ctrl+\\")).toEqual({ kind: "bytes", bytes: "\x1c" });
    expect(resolveKey("ctrl+]")).toEqual({ kind: "bytes", bytes: "\x1d" });
    expect(resolveKey("enter")).toEqual({ kind: "bytes", bytes: "\r" });
    expect(resolveKey("shift+tab")).toEqual({ kind: "bytes", bytes: "\x1b[Z" });
    expect(resolveKey("up")).toEqual({ kind: "bytes", bytes: "\x1b[A" });
    expect(resolveKey("pagedown")).toEqual({ kind: "bytes", bytes: "\x1b[6~" });
    expect(resolveKey("f1")).toEqual({ kind: "bytes", bytes: "\x1bOP" });
    expect(resolveKey("f12")).toEqual({ kind: "bytes", bytes: "\x1b[24~" });
    expect(resolveKey("alt+b")).toEqual({ kind: "bytes", bytes: "\x1bb" });
    expect(resolveKey("alt+B")).toEqual({ kind: "bytes", bytes: "\x1bB" });
    expect(resolveKey("esc")).toEqual({ kind: "bytes", bytes: "\x1b" });
  });
  test("medium actions: break and modem lines", () => {
    expect(resolveKey("break")).toEqual({ kind: "break" });
    expect(resolveKey("dtr_off")).toEqual({ kind: "modem", lines: { dtr: false } });
    expect(resolveKey("rts_on")).toEqual({ kind: "modem", lines: { rts: true } });
  });
  test("an unknown key lists the valid ones", () => {
    expect(() => resolveKey("hyper+x")).toThrow(/Unknown key "hyper\+x"\. Valid keys: ctrl\+a … ctrl\+z, enter/);
  });
});
