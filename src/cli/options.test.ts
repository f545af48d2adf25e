import { describe, expect, test } from "bun:test";
import { parseOptions, SOCKET_OPTION } from "./options.ts";

const spec = { flags: { json: ["--json"] }, values: { ...SOCKET_OPTION, retention: { names: ["--retention"], valid: /^\d+$/ } }, positionals: 1 };

describe("parseOptions", () => {
  test("flags, --name VALUE and --name=VALUE, one positional", () => {
    expect(parseOptions("t", "usage\n", ["--json", "--socket", "/s", "--retention=5", "id-1"], spec)).toEqual({
      flags: { json: true },
      values: { socket: "/s", retention: "5" },
      positionals: ["id-1"],
    });
    expect(parseOptions("t", "usage\n", [], spec)).toEqual({ flags: { json: false }, values: {}, positionals: [] });
  });

  test("a missing or invalid value, an unknown option, a second positional: exit 2", () => {
    for (const args of [["--socket"], ["--retention", "soon"], ["--nope"], ["a", "b"]]) expect(parseOptions("t", "", args, spec)).toBe(2);
  });
});
