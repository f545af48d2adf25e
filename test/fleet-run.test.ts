// run_on_hosts against real OpenSSH servers on 127.0.0.11…: grouping, an unreachable host, an
// unknown host key, a hanging host, the concurrency limit, cancellation, a jump host, the pool.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "bun";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { until } from "./harness/daemon.ts";
import { acceptedLogins, startFleet, type Fleet } from "./harness/fleet.ts";
import { McpHarness } from "./harness/mcp.ts";
import { descendantPids, ensurePasswordUser, freePort, makeKey, sshdAvailable } from "./harness/sshd.ts";

const names = Array.from({ length: 12 }, (_, i) => `h${String(i + 1).padStart(2, "0")}`);
let fleet: Fleet;
let h: McpHarness;
let inventory: string;
let closedPort: number;
let changedLine: number;
let mute: Server;
let mutePort: number;
const mutedSockets: Socket[] = [];

type Run = {
  summary: { hosts: number; ok: number; failed: number; unreachable: number; elapsed_ms: number; cancelled?: number };
  groups: { hosts: string[]; exit_code: number | null; output: string; timed_out?: boolean; output_bytes: number; output_shortened?: true }[];
  failures: { host: string; code: string; message: string; fingerprint?: string }[];
  cancelled?: string[];
};

beforeAll(async () => {
  // sshd refuses signal requests for root sessions (a root login has no privilege-separated child
  // to deliver them), so the hosts whose command must be stopped log in as an unprivileged user.
  // Its sshd cannot read authorized_keys as that user (a root-only temp dir): it logs in with ansible_password.
  const { user, password } = ensurePasswordUser();
  const withPassword = (lines: string) => lines.split("\n").map((l) => `${l} ansible_password=${password}`).join("\n");
  fleet = await startFleet({ names: [...names, "stranger", "b1", "b2", "changed"], untrusted: ["stranger", "changed"] });
  // "changed" is in known_hosts with another key (a reinstalled host, or an attack).
  const changed = fleet.byName("changed");
  const other = makeKey(join(fleet.home, "other_host_key"));
  appendFileSync(join(fleet.home, ".ssh", "known_hosts"), `[${changed.address}]:${changed.sshd.port} ${other.pub.split(" ").slice(0, 2).join(" ")}\n`);
  changedLine = readFileSync(join(fleet.home, ".ssh", "known_hosts"), "utf8").trim().split("\n").length;
  closedPort = await freePort();
  // "mute" accepts TCP connections and never says a word (a wedged host): its connect hits the deadline.
  mute = createServer((socket) => mutedSockets.push(socket));
  await new Promise<void>((resolve) => mute.listen(0, "127.0.0.31", resolve));
  mutePort = (mute.address() as AddressInfo).port;
  // Files that differ: 7 × Debian 12, 3 × Debian 11, one without the file, one whose read hangs (a FIFO nobody writes).
  names.forEach((n, i) => {
    const release = join(fleet.byName(n).root, "etc", "release");
    if (i < 7) writeFileSync(release, "debian 12\n");
    else if (i < 10) writeFileSync(release, "debian 11\n");
    else if (n === "h12") spawnSync(["mkfifo", release]);
  });
  const jump = fleet.byName("h01");
  inventory = fleet.writeInventory(
    "hosts.ini",
    [
      "[web]",
      fleet.hostLines(names.slice(0, 6)),
      "[db]",
      fleet.hostLines(names.slice(6, 11)),
      withPassword(fleet.hostLines(["h12"], user)),
      "[unprivileged]",
      withPassword(fleet.hostLines(names.slice(0, 11).map((n) => `u${n.slice(1)}=${n}`), user)),
      "[odd]",
      `closed ansible_host=127.0.0.30 ansible_port=${closedPort} ansible_user=root`,
      `mute ansible_host=127.0.0.31 ansible_port=${mutePort} ansible_user=root`,
      fleet.hostLines(["stranger", "changed"]),
      "[behind]",
      fleet.hostLines(["b1", "b2"]),
      "[behind:vars]",
      `ansible_ssh_common_args='-o ProxyJump=root@${jump.address}:${jump.sshd.port}'`,
      "",
    ].join("\n"),
  );
  h = await McpHarness.start({ env: fleet.env(inventory) });
});

afterAll(async () => {
  await h?.close();
  for (const socket of mutedSockets) socket.destroy();
  mute?.close();
  // Whatever a failed run left blocked on h12's FIFO gets its end of file.
  spawnSync(["timeout", "2", "sh", "-c", `: > "${join(fleet.byName("h12").root, "etc", "release")}"`]);
  await fleet?.[Symbol.asyncDispose]();
});

describe.skipIf(!sshdAvailable)("run_on_hosts", () => {
  test("run_on_hosts: identical outputs grouped (biggest first), a missing file, a hanging host timed out, a closed port, a mute host (connect deadline), an unknown and a changed host key as failures", async () => {
    // The 12 good hosts' connections first, without a deadline: under load 16 handshakes at once took more
    // than 4 s (h02 came back timed_out). Then the timed run below spends its timeout on the commands and
    // on the odd hosts' 4 connects, and 10 s leaves those room on a loaded machine.
    await h.call<Run>("run_on_hosts", { pattern: "web:db", command: "true" });
    const started = performance.now();
    const result = await h.call<Run>("run_on_hosts", { pattern: "web:db:odd", command: 'cat "$FLEET_ROOT/etc/release"', timeout: 10 });
    const elapsed = performance.now() - started;
    const stranger = fleet.byName("stranger");
    const releaseOf = (n: string) => join(fleet.byName(n).root, "etc", "release");
    expect({ ...result, summary: { ...result.summary, elapsed_ms: 0 } }).toEqual({
      summary: { hosts: 16, ok: 10, failed: 2, unreachable: 4, elapsed_ms: 0 },
      groups: [
        { hosts: names.slice(0, 7), exit_code: 0, output: "debian 12\n", output_bytes: 10 },
        { hosts: names.slice(7, 10), exit_code: 0, output: "debian 11\n", output_bytes: 10 },
        { hosts: ["h11"], exit_code: 1, output: `cat: ${releaseOf("h11")}: No such file or directory\n`, output_bytes: `cat: ${releaseOf("h11")}: No such file or directory\n`.length },
        { hosts: ["h12"], exit_code: null, output: "", timed_out: true, output_bytes: 0 },
      ],
      failures: [
        { host: "closed", code: "SSH_CONN_FAILED", message: `Connection to root@127.0.0.30:${closedPort} refused: nothing listens on port ${closedPort}. Check the port and that sshd runs.` },
        { host: "mute", code: "SSH_CONN_FAILED", message: `Connecting to mute (root@127.0.0.31:${mutePort}) did not finish within the 10 s timeout. Check that the host is up and reachable.` },
        {
          host: "stranger",
          code: "SSH_HOST_KEY_UNKNOWN",
          fingerprint: stranger.sshd.hostKey.fingerprint,
          message: `The host key of ${stranger.address}:${stranger.sshd.port} is not in known_hosts: ssh-ed25519 ${stranger.sshd.hostKey.fingerprint}. Verify this fingerprint with the host's administrator, then record it with create_ssh_session {host: "${stranger.address}", port: ${stranger.sshd.port}, user: "root", accept_host_key: "${stranger.sshd.hostKey.fingerprint}"} and run again.`,
        },
        {
          host: "changed",
          code: "SSH_HOST_KEY_MISMATCH",
          fingerprint: fleet.byName("changed").sshd.hostKey.fingerprint,
          message: `HOST KEY CHANGED for root@${fleet.byName("changed").address}:${fleet.byName("changed").sshd.port}: it now presents ssh-ed25519 ${fleet.byName("changed").sshd.hostKey.fingerprint}, which differs from ${join(fleet.home, ".ssh", "known_hosts")}:${changedLine}. This may be an attack (or the host was reinstalled). Verify out of band; if legitimate, remove the old entry (ssh-keygen -R) and connect again.`,
        },
      ],
    });
    // The hanging host's cat was killed (SIGKILL through the channel), not left blocked.
    const blocked = () => spawnSync(["pgrep", "-f", `^cat ${join(fleet.byName("h12").root, "etc", "release")}`]).stdout.toString().trim();
    await until(() => blocked() === "", "the hanging cat to be killed", 30_000).catch(() => undefined);
    expect(blocked()).toBe("");
    // The hanging host cost its own 10 s, not the others' time: the whole call is one timeout, not two.
    expect({ atLeastTimeout: elapsed >= 10_000, withinOneTimeout: elapsed < 20_000 }).toEqual({ atLeastTimeout: true, withinOneTimeout: true });
    // The unknown key was not recorded.
    expect(readFileSync(join(fleet.home, ".ssh", "known_hosts"), "utf8").includes(stranger.address)).toBe(false);
  });

  test("run_on_hosts: a second run on the same hosts opens no new connection (sshd logs), progress k/N", async () => {
    const hosts = names.slice(0, 10);
    await h.call<Run>("run_on_hosts", { hosts, command: "true" });
    const before = hosts.map((n) => acceptedLogins(fleet.byName(n).sshd));
    const progress: string[] = [];
    const result = await h.call<Run>("run_on_hosts", { hosts, command: "echo $FLEET_HOST" }, { onprogress: (p) => progress.push(`${p.progress}/${p.total} ${(p as { message?: string }).message}`) });
    const after = hosts.map((n) => acceptedLogins(fleet.byName(n).sshd));
    // The last notifications may arrive after the result (the client then drops them): a prefix of 1..10.
    const expected = Array.from({ length: 10 }, (_, i) => `${i + 1}/10 ${i + 1}/10 hosts`);
    expect({ after, groups: result.groups.length, progress }).toEqual({ after: before, groups: 10, progress: expected.slice(0, Math.max(progress.length, 5)) });
    expect(before.every((n) => n >= 1)).toBe(true);
  });

  test("run_on_hosts: concurrency 3 means at most 3 hosts run at once (timestamps written on the hosts)", async () => {
    // Each host writes its start, then waits (a condition, not a time) until 3 hosts have started
    // (bounded at 30 s so a limit below 3 fails instead of hanging), then holds its slot 0.5 s more. With
    // the limit kept, the first three overlap however late a loaded machine starts them: exactly 3.
    const starts = `"$FLEET_ROOT"/../*/start`;
    const barrier = `i=0; while [ "$(ls ${starts} 2>/dev/null | wc -l)" -lt 3 ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done`;
    const command = `date +%s%N > "$FLEET_ROOT/start"; ${barrier}; sleep 0.5; date +%s%N > "$FLEET_ROOT/end"`;
    for (const n of names) spawnSync(["rm", "-f", join(fleet.byName(n).root, "start"), join(fleet.byName(n).root, "end")]);
    const result = await h.call<Run>("run_on_hosts", { pattern: "web:db:!h12", command, concurrency: 3 });
    expect(result.summary).toMatchObject({ hosts: 11, ok: 11 });
    const spans = names.slice(0, 11).map((n) => ({ start: Number(readFileSync(join(fleet.byName(n).root, "start"), "utf8")), end: Number(readFileSync(join(fleet.byName(n).root, "end"), "utf8")) }));
    const maxOverlap = Math.max(...spans.map((s) => spans.filter((o) => o.start <= s.start && o.end > s.start).length));
    expect(maxOverlap).toBe(3);
  });

  test("run_on_hosts: cancellation stops the running hosts (their command is killed) and starts no more", async () => {
    const hosts = names.slice(0, 11).map((n) => `u${n.slice(1)}`);
    const rootOf = (u: string) => fleet.byName(`h${u.slice(1)}`).root;
    for (const n of hosts) spawnSync(["rm", "-f", join(rootOf(n), "started")]);
    const controller = new AbortController();
    const call = h.callRaw("run_on_hosts", { hosts, command: 'touch "$FLEET_ROOT/started"; exec sleep 97', concurrency: 4 }, { signal: controller.signal });
    const started = () => hosts.filter((n) => existsSync(join(rootOf(n), "started")));
    // Conditions with a deadline, not a count of polls: 400 polls of 25 ms were 10 s for four password
    // logins on a loaded machine, and a cancel sent before the fourth started would leave started at 3.
    await until(() => started().length >= 4, "4 hosts to start", 60_000);
    controller.abort();
    await call.catch(() => undefined);
    const sleeping = () => spawnSync(["pgrep", "-x", "-f", "sleep 97"]).stdout.toString().trim().split("\n").filter((l) => l.length > 0).length;
    await until(() => sleeping() === 0, "the cancelled hosts' commands to be killed", 30_000);
    // Nothing more starts after the cancel (a later start would show here).
    await Bun.sleep(500);
    expect({ started: started().length, sleeping: sleeping() }).toEqual({ started: 4, sleeping: 0 });
    // The server is fine afterwards.
    expect((await h.call<Run>("run_on_hosts", { hosts: ["u01"], command: "echo ok" })).groups).toEqual([{ hosts: ["u01"], exit_code: 0, output: "ok\n", output_bytes: 3 }]);
  });

  test("run_on_hosts: a group behind a jump host (ProxyJump from ansible_ssh_common_args): the TCP connection to the hosts is the jump host's", async () => {
    const result = await h.call<Run>("run_on_hosts", { pattern: "behind", command: "echo $FLEET_HOST" });
    expect(result.groups.map((g) => [g.hosts, g.output])).toEqual([
      [["b1"], "b1\n"],
      [["b2"], "b2\n"],
    ]);
    // Who holds the TCP connection to b1's sshd: a process under the jump host's sshd, not us.
    const b1 = fleet.byName("b1");
    const ss = spawnSync(["ss", "-Htnp", "state", "established", "dst", `${b1.address}:${b1.sshd.port}`]).stdout.toString();
    const pids = [...ss.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
    const jumpChildren = new Set(fleet.byName("h01").sshd.connectionPids().flatMap((p) => [p, ...descendantPids(p)]));
    expect({ connections: pids.length > 0, allViaJump: pids.every((p) => jumpChildren.has(p)) }).toEqual({ connections: true, allViaJump: true });
  });

  test("run_on_hosts: each host's output is bounded to 2 KiB head + 14 KiB tail with the elision line; pty: true gives a terminal", async () => {
    const big = await h.call<Run>("run_on_hosts", { hosts: ["h01", "h02"], command: "seq 1 30000" });
    const full = Array.from({ length: 30000 }, (_, i) => `${i + 1}\n`).join("");
    const head = full.slice(0, 2048);
    const tail = full.slice(full.length - 14 * 1024);
    expect(big.groups).toEqual([
      { hosts: ["h01", "h02"], exit_code: 0, output: `${head}\n[… ${full.length - 2048 - 14 * 1024} bytes of output left out …]\n${tail}`, output_bytes: full.length },
    ]);
    const pty = await h.call<Run>("run_on_hosts", { hosts: ["h01"], command: "test -t 0 && echo on a tty", pty: true });
    const plain = await h.call<Run>("run_on_hosts", { hosts: ["h01"], command: "test -t 0 && echo on a tty" });
    expect([pty.groups, plain.groups]).toEqual([[{ hosts: ["h01"], exit_code: 0, output: "on a tty\n", output_bytes: 10 }], [{ hosts: ["h01"], exit_code: 1, output: "", output_bytes: 0 }]]);
  });

  test("run_on_hosts: past 96 KiB of output in all, the remaining groups keep only their start and say how to see them", async () => {
    const hosts = names.slice(0, 10);
    const result = await h.call<Run>("run_on_hosts", { hosts, command: "yes $FLEET_HOST | head -c 20000" });
    const full = result.groups.filter((g) => g.output_shortened === undefined);
    const short = result.groups.filter((g) => g.output_shortened === true);
    const total = result.groups.reduce((n, g) => n + Buffer.byteLength(g.output), 0);
    expect({ groups: result.groups.length, full: full.length, short: short.length, under: total <= 96 * 1024 + 10 * 400, bytes: [...new Set(result.groups.map((g) => g.output_bytes))] }).toEqual({ groups: 10, full: 5, short: 5, under: true, bytes: [20000] });
    const last = short.at(-1) as Run["groups"][number];
    const host = last.hosts[0] as string;
    expect(last.output).toBe(`${`${host}\n`.repeat(256 / 4).slice(0, 256)}\n[… output shortened: this result is at its size budget; run_on_hosts {hosts: ["${host}"]} shows this group's output]`);
  });

  test("run_on_hosts: bad input is INVALID_ARGUMENT", async () => {
    expect((await h.callError("run_on_hosts", { pattern: "web", hosts: ["h01"], command: "true" })).message).toBe("Give pattern or hosts, not both.");
    expect((await h.callError("run_on_hosts", { command: "true", concurrency: 0 })).code).toBe("INVALID_ARGUMENT");
  });
});

describe.skipIf(!sshdAvailable)("the pool and create_ssh_session", () => {
  test("create_ssh_session reuses the connection run_on_hosts pooled (no new login), and closing the session keeps it for the next run", async () => {
    const m = fleet.byName("h03");
    await h.call<Run>("run_on_hosts", { hosts: ["h03"], command: "true" });
    const logins = acceptedLogins(m.sshd);
    const session = await h.call<{ session_id: string; target: string }>("create_ssh_session", { host: m.address, port: m.sshd.port, user: "root", shell_integration: false });
    const out = await h.call<{ matched?: boolean; match_line?: string }>("send_input", { session_id: session.session_id, input: "echo pooled-$FLEET_HOST", wait_for: "^pooled-h03" });
    expect({ matched: out.matched, line: out.match_line }).toEqual({ matched: true, line: "pooled-h03" });
    await h.call("close_session", { session_id: session.session_id });
    const again = await h.call<Run>("run_on_hosts", { hosts: ["h03"], command: "echo $FLEET_HOST" });
    expect({ target: session.target, logins: acceptedLogins(m.sshd), groups: again.groups }).toEqual({
      target: `root@${m.address}:${m.sshd.port}`,
      logins,
      groups: [{ hosts: ["h03"], exit_code: 0, output: "h03\n", output_bytes: 4 }],
    });
  });

  test("an unknown host key recorded with create_ssh_session {accept_host_key} lets run_on_hosts reach the host (its own connection is not pooled: two logins)", async () => {
    const m = fleet.byName("stranger");
    const logins = acceptedLogins(m.sshd);
    const session = await h.call<{ session_id: string }>("create_ssh_session", { host: m.address, port: m.sshd.port, user: "root", accept_host_key: m.sshd.hostKey.fingerprint, shell_integration: false });
    await h.call("close_session", { session_id: session.session_id });
    const result = await h.call<Run>("run_on_hosts", { hosts: ["stranger"], command: "echo $FLEET_HOST" });
    expect({ groups: result.groups, failures: result.failures, newLogins: acceptedLogins(m.sshd) - logins }).toEqual({
      groups: [{ hosts: ["stranger"], exit_code: 0, output: "stranger\n", output_bytes: 9 }],
      failures: [],
      newLogins: 2,
    });
  });
});
