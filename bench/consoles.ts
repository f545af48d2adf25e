// bun bench/consoles.ts — network consoles against a raw TCP floor measured in the same run
// (machines are noisy: compare ratios). Needs root (a throwaway telnetd user), telnetd, ser2net, socat.
//   M1 round trip: send_input → output complete, over telnet (inetutils telnetd, a shell) and over
//      RFC 2217 (ser2net → socat pair → the fake switch, at its prompt); floor: a raw TCP echo
//      (write → the same bytes back) on loopback.
//   M2 a marker printed on the far end → wait_for returns, over telnet (the shell's own clock) and
//      RFC 2217 (the bench writes it into the device end of the pair); floor: a raw TCP server's
//      write → the client's data callback.
//   F  flood: 20 MB written into the device end of a socat pair reaches the agent (wait_for on the
//      line after it), through ser2net RFC 2217 vs create_serial_session on the local pty.
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startScriptedServer, startSer2net, startTelnetd } from "../test/harness/consoles.ts";
import { McpHarness } from "../test/harness/mcp.ts";
import { startFakeSwitch, startSocatPair } from "../test/harness/socat.ts";

const rounds = Number(process.env.BENCH_ROUNDS ?? 30);
const floodBytes = Number(process.env.BENCH_FLOOD_MB ?? 20) * 1_000_000;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
const nowNs = () => (performance.timeOrigin + performance.now()) * 1e6;
const line = (name: string, ours: string, base: string, ratio: string) => console.log(`${name.padEnd(46)} ${ours.padStart(12)} ${base.padStart(12)} ${ratio.padStart(8)}`);
const results: Record<string, number> = {};

// ---- floors: raw TCP on loopback ------------------------------------------------------------
const echoServer = await startScriptedServer((s) => s.on("data", (d) => s.write(d)));
const rawEcho: number[] = [];
{
  const sock = connect({ host: "127.0.0.1", port: echoServer.port, noDelay: true });
  await new Promise((r) => sock.once("connect", r));
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    const msg = `echo r${i}\n`;
    await new Promise<void>((resolve) => {
      let got = "";
      const on = (d: Buffer) => {
        got += d.toString();
        if (got.length >= msg.length) {
          sock.off("data", on);
          resolve();
        }
      };
      sock.on("data", on);
      sock.write(msg);
    });
    rawEcho.push(performance.now() - t);
  }
  sock.destroy();
}
const rawMark: number[] = [];
{
  let writeAt = 0;
  const stamper = await startScriptedServer((s) =>
    s.on("data", () => {
      writeAt = nowNs();
      s.write("STAMP\n");
    }),
  );
  const sock = connect({ host: "127.0.0.1", port: stamper.port, noDelay: true });
  await new Promise((r) => sock.once("connect", r));
  for (let i = 0; i < rounds; i++) {
    await new Promise<void>((resolve) => {
      sock.once("data", () => {
        rawMark.push((nowNs() - writeAt) / 1e6);
        resolve();
      });
      sock.write("go");
    });
  }
  sock.destroy();
  await stamper.close();
}
await echoServer.close();
results.M1_raw_tcp_ms = median(rawEcho);
results.M2_raw_tcp_ms = median(rawMark);

console.log(`pty-mcp consoles bench, ${new Date().toISOString()}, ${rounds} rounds`);
line("measure", "pty-mcp", "raw TCP", "ratio");

const dir = mkdtempSync(join(tmpdir(), `pty-mcp-bench-consoles-${process.pid}-`));
const telnetd = await startTelnetd();
const switchPair = await startSocatPair();
const markPair = await startSocatPair();
const floodPair = await startSocatPair();
const rawFloodPair = await startSocatPair();
const localPair = await startSocatPair();
const localSwitchPair = await startSocatPair();
const sw = await startFakeSwitch(switchPair.b);
const localSw = await startFakeSwitch(localSwitchPair.b);
const ser2net = await startSer2net([
  { device: switchPair.a, mode: "rfc2217" },
  { device: markPair.a, mode: "rfc2217" },
  { device: floodPair.a, mode: "rfc2217" },
  { device: rawFloodPair.a, mode: "raw" },
]);
writeFileSync(join(dir, "secret"), `${telnetd.password}\n`, { mode: 0o600 });
const h = await McpHarness.start({ env: { HOME: dir, PTY_MCP_SECRET_COMMAND: `cat ${join(dir, "secret")}` } });
try {
  // ---- references: the same round trips on local sessions (a PTY shell, a local serial pair) -----
  const roundTrips = async (session_id: string, input: (i: number) => string, expected: (i: number) => string): Promise<number[]> => {
    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const start = performance.now();
      const r = await h.call<{ output: string }>("send_input", { session_id, input: input(i) });
      times.push(performance.now() - start);
      if (r.output !== expected(i)) throw new Error(`unexpected output ${JSON.stringify(r.output)}`);
    }
    return times;
  };
  const local = await h.call<{ session_id: string }>("create_local_session", { command: "/bin/sh", env: { PS1: "$ " }, shell_integration: false });
  await h.call("read_output", { session_id: local.session_id, wait_for: "\\$ $", timeout: 10 });
  results.M1_local_sh_ms = median(await roundTrips(local.session_id, (i) => `echo m${i}`, (i) => `m${i}\n$ `));
  const localSerial = await h.call<{ session_id: string }>("create_serial_session", { device: localSwitchPair.a, baud_rate: 115200 });
  for (const input of ["", "admin", "cisco"]) await h.call("send_input", { session_id: localSerial.session_id, input });
  results.M1_local_serial_ms = median(await roundTrips(localSerial.session_id, () => "", () => "Router>"));

  // ---- M1 / M2 over telnet ------------------------------------------------------------------
  const t = await h.call<{ session_id: string; login: { completed: boolean } }>("create_telnet_session", { host: "127.0.0.1", port: telnetd.port, user: telnetd.user, login: true });
  if (!t.login.completed) throw new Error("telnet login failed");
  await h.call("read_output", { session_id: t.session_id, wait_for: "\\$ $", timeout: 10 });
  for (let i = 0; i < 5; i++) await h.call("send_input", { session_id: t.session_id, input: `echo w${i}` });
  const m1Telnet: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    const r = await h.call<{ output: string }>("send_input", { session_id: t.session_id, input: `echo m${i}` });
    m1Telnet.push(performance.now() - start);
    if (r.output !== `m${i}\n$ `) throw new Error(`M1 telnet: unexpected output ${JSON.stringify(r.output)}`);
  }
  const m2Telnet: number[] = [];
  for (let i = 0; i < rounds; i++) {
    // Not anchored at the line start: typed ahead, the next prompt may come before the marker line.
    const wait = h.call<{ match_line: string }>("read_output", { session_id: t.session_id, wait_for: `MARK${i} \\d+$`, timeout: 10 });
    await h.call("send_input", { session_id: t.session_id, input: `sleep 0.05; echo MARK${i} $(date +%s%N)`, timeout_ms: 0 });
    const r = await wait;
    if (!r.match_line) throw new Error(`M2 telnet: ${JSON.stringify(r)}`);
    m2Telnet.push((nowNs() - Number(r.match_line.split(" ").at(-1))) / 1e6);
  }

  // ---- M1 / M2 over RFC 2217 ----------------------------------------------------------------
  const s = await h.call<{ session_id: string }>("create_serial_session", { device: `rfc2217://127.0.0.1:${ser2net.ports[0]}`, baud_rate: 115200 });
  for (const input of ["", "admin", "cisco"]) await h.call("send_input", { session_id: s.session_id, input });
  const m1Serial: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    const r = await h.call<{ output: string }>("send_input", { session_id: s.session_id, input: "" });
    m1Serial.push(performance.now() - start);
    if (r.output !== "Router>") throw new Error(`M1 rfc2217: unexpected output ${JSON.stringify(r.output)}`);
  }
  const m = await h.call<{ session_id: string }>("create_serial_session", { device: `rfc2217://127.0.0.1:${ser2net.ports[1]}`, baud_rate: 115200 });
  const markFd = openSync(markPair.b, constants.O_RDWR | constants.O_NOCTTY);
  const m2Serial: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const wait = h.call<{ match_line: string }>("read_output", { session_id: m.session_id, wait_for: `^MARK${i} `, timeout: 10 });
    await Bun.sleep(50);
    writeSync(markFd, `MARK${i} ${Math.round(nowNs())}\r\n`);
    const r = await wait;
    m2Serial.push((nowNs() - Number(r.match_line.split(" ")[1])) / 1e6);
  }
  closeSync(markFd);

  results.M1_telnet_ms = median(m1Telnet);
  results.M1_rfc2217_ms = median(m1Serial);
  results.M2_telnet_ms = median(m2Telnet);
  results.M2_rfc2217_ms = median(m2Serial);
  const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}x`;
  line("M1 round trip, telnet (telnetd shell)", `${results.M1_telnet_ms.toFixed(2)} ms`, `${results.M1_raw_tcp_ms.toFixed(2)} ms`, ratio(results.M1_telnet_ms, results.M1_raw_tcp_ms));
  line("M1 round trip, RFC 2217 (ser2net, switch)", `${results.M1_rfc2217_ms.toFixed(2)} ms`, `${results.M1_raw_tcp_ms.toFixed(2)} ms`, ratio(results.M1_rfc2217_ms, results.M1_raw_tcp_ms));
  line("  same on a local PTY /bin/sh (reference)", `${results.M1_local_sh_ms.toFixed(2)} ms`, "", "");
  line("  same on a local serial pair (reference)", `${results.M1_local_serial_ms.toFixed(2)} ms`, "", "");
  line("M2 marker → wait_for, telnet", `${results.M2_telnet_ms.toFixed(2)} ms`, `${results.M2_raw_tcp_ms.toFixed(2)} ms`, ratio(results.M2_telnet_ms, results.M2_raw_tcp_ms));
  line("M2 marker → wait_for, RFC 2217", `${results.M2_rfc2217_ms.toFixed(2)} ms`, `${results.M2_raw_tcp_ms.toFixed(2)} ms`, ratio(results.M2_rfc2217_ms, results.M2_raw_tcp_ms));

  // ---- F: flood through ser2net vs the local pty ----------------------------------------------
  const chunk = Buffer.alloc(1_000_000);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i + 1) % 100 === 0 ? 0x0a : 0x78;
  const flood = async (device: string, writeTo: string): Promise<number> => {
    const f = await h.call<{ session_id: string }>("create_serial_session", { device, baud_rate: 115200 });
    const fd = openSync(writeTo, constants.O_RDWR | constants.O_NOCTTY);
    const wait = h.call<{ matched: boolean }>("read_output", { session_id: f.session_id, wait_for: "^FLOOD_DONE$", timeout: 600 });
    const start = performance.now();
    // Blocking writes on the device end: the pty's queue paces them (what the reader drains).
    await (async () => {
      for (let sent = 0; sent < floodBytes; sent += chunk.length) {
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off);
        await Bun.sleep(0);
      }
      writeSync(fd, "FLOOD_DONE\n");
    })();
    const r = await wait;
    const seconds = (performance.now() - start) / 1000;
    closeSync(fd);
    await h.call("close_session", { session_id: f.session_id });
    if (!r.matched) throw new Error(`flood through ${device} did not finish`);
    return floodBytes / 1e6 / seconds;
  };
  results.F_rfc2217_MBps = await flood(`rfc2217://127.0.0.1:${ser2net.ports[2]}`, floodPair.b);
  results.F_raw_MBps = await flood(`socket://127.0.0.1:${ser2net.ports[3]}`, rawFloodPair.b);
  results.F_local_pty_MBps = await flood(localPair.a, localPair.b);
  // Floor of the ser2net path: a bare TCP client (no pty-mcp) reading the same flood from ser2net's raw port.
  results.F_ser2net_bare_tcp_MBps = await (async () => {
    const sock = connect({ host: "127.0.0.1", port: ser2net.ports[3]!, noDelay: true });
    await new Promise((r) => sock.once("connect", r));
    let tail = "";
    const done = new Promise<void>((resolve) =>
      sock.on("data", (d: Buffer) => {
        tail = (tail + d.toString("latin1")).slice(-32);
        if (tail.includes("FLOOD_DONE\n")) resolve();
      }),
    );
    const fd = openSync(rawFloodPair.b, constants.O_RDWR | constants.O_NOCTTY);
    const start = performance.now();
    for (let sent = 0; sent < floodBytes; sent += chunk.length) {
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off);
      await Bun.sleep(0);
    }
    writeSync(fd, "FLOOD_DONE\n");
    await done;
    const seconds = (performance.now() - start) / 1000;
    closeSync(fd);
    sock.destroy();
    return floodBytes / 1e6 / seconds;
  })();
  line(`F ${floodBytes / 1e6} MB flood, ser2net RFC 2217 vs local pty`, `${results.F_rfc2217_MBps.toFixed(1)} MB/s`, `${results.F_local_pty_MBps.toFixed(1)} MB/s`, `${(results.F_rfc2217_MBps / results.F_local_pty_MBps).toFixed(2)}x`);
  line(`F ${floodBytes / 1e6} MB flood, ser2net raw (socket://) vs local pty`, `${results.F_raw_MBps.toFixed(1)} MB/s`, `${results.F_local_pty_MBps.toFixed(1)} MB/s`, `${(results.F_raw_MBps / results.F_local_pty_MBps).toFixed(2)}x`);
  line(`F ${floodBytes / 1e6} MB flood, ser2net raw: pty-mcp vs a bare TCP reader`, `${results.F_raw_MBps.toFixed(1)} MB/s`, `${results.F_ser2net_bare_tcp_MBps.toFixed(1)} MB/s`, `${(results.F_raw_MBps / results.F_ser2net_bare_tcp_MBps).toFixed(2)}x`);
  console.log("(F: the baseline column is create_serial_session on a local socat pty, or a bare TCP client on ser2net's port)");
} finally {
  await h.close();
  await ser2net[Symbol.asyncDispose]();
  await sw[Symbol.asyncDispose]();
  await localSw[Symbol.asyncDispose]();
  for (const p of [switchPair, markPair, floodPair, rawFloodPair, localPair, localSwitchPair]) await p[Symbol.asyncDispose]();
  await telnetd.stop();
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(results));
process.exit(0);
