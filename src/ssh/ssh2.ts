// ssh2 (pure-JS crypto) is loaded on the first connection, not at server start: it is ~30 ms of a
// cold start that sessions without SSH never need.
export type Ssh2 = typeof import("ssh2");
let ssh2: Ssh2 | undefined;
export async function loadSsh2(): Promise<Ssh2> {
  const m = (await import("ssh2")) as unknown as Ssh2 & { default?: Ssh2 };
  const loaded: Ssh2 = ssh2 ?? (m.default?.Client ? m.default : m);
  ssh2 = loaded;
  return loaded;
}
export function lib(): Ssh2 {
  if (!ssh2) throw new Error("ssh2 used before loadSsh2()");
  return ssh2;
}
