// The key chord that detaches `pty-mcp attach`: ctrl+] then d. ctrl+] (0x1d, the telnet and
// `virsh console` escape) is held until the next key: `d` detaches, a second ctrl+] sends one
// ctrl+], anything else sends both keys as typed. Nothing else is ever held or changed.

export const DETACH_PREFIX = 0x1d; // ctrl+]
export const DETACH_KEY = 0x64; // d
export const DETACH_CHORD_NAME = "ctrl+] d";

export class DetachChord {
  #pending = false;

  /** True while a ctrl+] waits for its second key. */
  get pending(): boolean {
    return this.#pending;
  }

  /** Splits typed bytes into what to send on and whether the chord was completed (bytes after it are dropped). */
  feed(bytes: Uint8Array): { send: Uint8Array; detach: boolean } {
    const out: number[] = [];
    for (const byte of bytes) {
      if (this.#pending) {
        this.#pending = false;
        if (byte === DETACH_KEY) return { send: Uint8Array.from(out), detach: true };
        out.push(DETACH_PREFIX);
        if (byte !== DETACH_PREFIX) out.push(byte);
      } else if (byte === DETACH_PREFIX) {
        this.#pending = true;
      } else {
        out.push(byte);
      }
    }
    return { send: Uint8Array.from(out), detach: false };
  }
}
