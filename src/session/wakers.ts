// The only way the session core waits: a waiter resolves at the next output or exit, after its
// timeout, or on abort, whichever comes first. No polling anywhere.
export class Wakers {
  readonly #waiting = new Set<() => void>();

  /** Resolves at the next wake(), after `timeoutMs` or on abort; never rejects (callers re-check their condition). */
  next(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: Timer | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.#waiting.delete(done);
        resolve();
      };
      this.#waiting.add(done);
      if (Number.isFinite(timeoutMs)) timer = setTimeout(done, Math.max(0, timeoutMs));
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  /** Something changed (output, exit, close): every waiter resolves. */
  wake(): void {
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const done of waiting) done();
  }
}
