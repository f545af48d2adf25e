import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { PtyError } from "../errors.ts";
import { expandHostRange, parseAddress } from "./address.ts";
import { Inventory } from "./inventory.ts";
import { parseIniInventory, pythonLiteral, safeGroupName, shlexSplit } from "./inventory-ini.ts";
import { parseYamlInventory, readYamlMapping } from "./inventory-yaml.ts";

function ini(text: string): Inventory {
  const inventory = new Inventory();
  parseIniInventory(inventory, text, "inv");
  inventory.reconcile();
  return inventory;
}

function failure(fn: () => unknown): { code: string; message: string } | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof PtyError) return { code: err.code, message: err.message };
    throw err;
  }
}

describe("host ranges", () => {
  test("numeric with zero padding, letters, steps, several ranges", () => {
    expect(expandHostRange("web[01:03].x")).toEqual(["web01.x", "web02.x", "web03.x"]);
    expect(expandHostRange("db-[a:c]")).toEqual(["db-a", "db-b", "db-c"]);
    expect(expandHostRange("n[1:9:4]")).toEqual(["n1", "n5", "n9"]);
    expect(expandHostRange("r[1:2]-[a:b]")).toEqual(["r1-a", "r1-b", "r2-a", "r2-b"]);
    expect(expandHostRange("h[:2]")).toEqual(["h0", "h1", "h2"]);
  });
  test("malformed and oversized ranges are structured errors", () => {
    expect(failure(() => expandHostRange("h[1:]"))?.code).toBe("INVALID_ARGUMENT");
    expect(failure(() => expandHostRange("h[01:100]"))?.message).toContain("equal-length");
    expect(failure(() => expandHostRange("h[1:100000000]"))?.message).toContain("expands to");
    expect(failure(() => expandHostRange("h[c:a]"))?.message).toContain("begin <= end");
  });
  test("addresses: host:port, [v6]:port, a bare IPv6", () => {
    expect(parseAddress("db.example.com:2222")).toEqual({ host: "db.example.com", port: 2222 });
    expect(parseAddress("[::1]:22")).toEqual({ host: "::1", port: 22 });
    expect(parseAddress("fe80::1")).toEqual({ host: "fe80::1", port: undefined });
    expect(parseAddress("web[1:3]")).toEqual({ host: "web[1:3]", port: undefined });
    expect(parseAddress("a:b")).toBeUndefined();
  });
});

describe("INI lines", () => {
  test("shlex split: quotes, escapes, comments", () => {
    expect(shlexSplit(`h a=1 "b=x y" c='q # r' d=\\"z # gone`)).toEqual(["h", "a=1", "b=x y", "c=q # r", 'd="z']);
    expect(() => shlexSplit(`h "open`)).toThrow("No closing quotation");
  });
  test("values as Python literals, else text", () => {
    expect([pythonLiteral("2222"), pythonLiteral("1.5"), pythonLiteral("True"), pythonLiteral("None"), pythonLiteral("'x'")]).toEqual([2222, 1.5, true, null, "x"]);
    expect(pythonLiteral("[1, 'a', (2,)]")).toEqual([1, "a", [2]]);
    expect(pythonLiteral("{'k': [1]}")).toEqual({ k: [1] });
    expect([pythonLiteral("007"), pythonLiteral("yes"), pythonLiteral("a b"), pythonLiteral(" 5"), pythonLiteral("")]).toEqual(["007", "yes", "a b", " 5", ""]);
  });
  test("group names: invalid characters become _", () => {
    expect(safeGroupName("web-servers")).toBe("web_servers");
    expect(safeGroupName("1st")).toBe("_st");
  });
  test("a child declared later, vars before the group, ungrouped hosts", () => {
    const inv = ini("loner\n[p:children]\nc\n[c:vars]\nx=1\n[c]\nh1 ansible_port=2\n");
    expect(inv.groupHosts("p")).toEqual(["h1"]);
    expect(inv.groupHosts("ungrouped")).toEqual(["loner"]);
    expect(inv.hostVars("h1")).toEqual({ ansible_port: 2, x: 1 });
    expect(inv.groupNames("h1")).toEqual(["c", "p"]);
  });
  test("errors name the file and line", () => {
    expect(failure(() => ini("[p:children]\nnever\n"))).toEqual({ code: "INVALID_ARGUMENT", message: "inv:2: Section [p:children] includes undefined group: never" });
    expect(failure(() => ini("[g:vars]\nx=1\n"))).toEqual({ code: "INVALID_ARGUMENT", message: "inv:1: Section [g:vars] not valid for undefined group: g" });
    expect(failure(() => ini("[g]\nh novalue\n"))).toEqual({ code: "INVALID_ARGUMENT", message: "inv:2: Expected key=value host variable assignment, got: novalue" });
    expect(failure(() => ini("[g:weird]\n"))?.message).toBe("inv:1: Section [g:weird] has unknown type: weird");
    expect(failure(() => ini("[a:children]\nb\n[b:children]\na\n[a]\n[b]\n"))?.message).toContain("recursive dependency loop");
  });
});

describe("YAML", () => {
  test("YAML 1.1 scalars as PyYAML reads them; a string section is one name", () => {
    const data = readYamlMapping("g:\n  hosts: h1\n  vars: {on_: yes, mode: 0755, n: ~}\n");
    expect(data).toBeDefined();
    const inv = new Inventory();
    parseYamlInventory(inv, data as Record<string, unknown>, "y");
    inv.reconcile();
    expect(inv.hostVars("h1")).toEqual({ on_: true, mode: 493, n: null });
    expect(readYamlMapping("[web]\nh1\n")).toBeUndefined();
  });
});

describe("INI parser fuzz", () => {
  const pieces = ["[", "]", ":", "children", "vars", "=", "#", ";", "'", '"', "\\", " ", "\n", "web", "db", "[1:3]", "[a:c]", "h", "1", "0", "-", ".", "ansible_port=22", ":2222", "[g]", "[g:children]", "[g:vars]", "\t", "é", "|", ","];
  test("never throws anything but a PtyError INVALID_ARGUMENT", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 60 }), (parts) => {
        const text = parts.join("");
        try {
          ini(text);
        } catch (err) {
          if (!(err instanceof PtyError) || err.code !== "INVALID_ARGUMENT") throw err;
        }
      }),
      { numRuns: 3000, seed: 17 },
    );
  });
  test("arbitrary unicode text too", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (text) => {
        try {
          ini(text);
        } catch (err) {
          if (!(err instanceof PtyError) || err.code !== "INVALID_ARGUMENT") throw err;
        }
      }),
      { numRuns: 2000, seed: 17 },
    );
  });
});
