import { describe, expect, test } from "bun:test";
import { redactCredentials } from "./redact.ts";

/**
 * The work of redacting `text`: CPU time (user + system) of the best of 3 runs, each after a full
 * GC, once a first run has warmed it up. Wall time of a single cold run of the 1 MiB input was
 * 2.5 to 95 ms on a loaded 2-core machine (the first run flattens the repeated string, a collection
 * or being descheduled adds tens of ms): one such run against the best of two 128 KiB runs failed
 * 28 of 30 times at load 11. CPU time does not count the time others ran. A non-linear scan
 * still costs ~64x for 8x the input.
 */
function costMs(text: string): number {
  redactCredentials(text);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    Bun.gc(true);
    const start = process.cpuUsage();
    redactCredentials(text);
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

describe("redactCredentials", () => {
  test("masks password/token lines, Authorization values and PEM private key blocks", () => {
    const text = [
      "login ok password=hunter2 and more",
      "Authorization: Bearer abc.def.ghi",
      "-----BEGIN RSA PRIVATE KEY-----",
      "MIIEowIBAAKCAQEA",
      "-----END RSA PRIVATE KEY-----",
      "after",
    ].join("\n");
    expect(redactCredentials(text)).toEqual(
      ["login ok password=[REDACTED]", "Authorization: Bearer [REDACTED]", "[PRIVATE KEY REDACTED]", "after"].join("\n"),
    );
  });

  test("a PEM block cut before its END line is masked to the end (a truncated snippet keeps no key body)", () => {
    expect(redactCredentials("key:\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq")).toEqual("key:\n[PRIVATE KEY REDACTED]");
  });

  test("two blocks are masked separately, the text between them kept", () => {
    const block = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----";
    expect(redactCredentials(`${block}\nmiddle\n${block}`)).toEqual("[PRIVATE KEY REDACTED]\nmiddle\n[PRIVATE KEY REDACTED]");
  });

  // Issue #21 item 4. The lazy `[\s\S]*?` to an END that never comes rescanned the rest of the
  // text from every BEGIN: 1 MB of BEGIN lines blocked the event loop for 27 s (measured with the
  // old regex here: 64 KiB 0.12 s, 512 KiB 7.6 s, a ratio of ~64 for 8x the input). Now one pass:
  // 1 MiB in ~3 ms. The assertion is a ratio (8x the input must cost well under 64x the time), not
  // a wall-clock limit.
  test("time is linear in the input: 1 MiB of BEGIN lines without END", () => {
    const line = "-----BEGIN PRIVATE KEY-----\n";
    const small = line.repeat(Math.ceil(128 * 1024 / line.length));
    const large = line.repeat(Math.ceil(1024 * 1024 / line.length));
    const smallMs = Math.max(0.5, costMs(small));
    const largeMs = costMs(large);
    expect(redactCredentials(large)).toEqual("[PRIVATE KEY REDACTED]");
    expect({ ratioUnder24: largeMs / smallMs < 24 }).toEqual({ ratioUnder24: true });
  });

  test("time is linear in the input: 1 MiB of 'password' and 'Authorization:' without values", () => {
    for (const unit of ["password ", "Authorization: ", "-----BEGIN ABC ", "-----END "]) {
      const small = unit.repeat(Math.ceil(128 * 1024 / unit.length));
      const large = unit.repeat(Math.ceil(1024 * 1024 / unit.length));
      const smallMs = Math.max(0.5, costMs(small));
      const largeMs = costMs(large);
      expect({ unit, ratioUnder24: largeMs / smallMs < 24 }).toEqual({ unit, ratioUnder24: true });
    }
  });
});
