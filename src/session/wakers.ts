// The only way the session core waits: a waiter resolves at the next output or exit, after its
// timeout, or on abort, whichever comes first. No polling anywhere.
export class Wakers {
  readonly #waiting = new Set<() => void>();

  /** Resolves at the next wake(), after `timeoutMs` or on abort; never rejects (callers re-check their condition). */
  next(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: Timer | undefined;
      let aborts: Set<() => void> | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        aborts?.delete(done);
        this.#waiting.delete(done);
        resolve();
      };
      this.#waiting.add(done);
      if (Number.isFinite(timeoutMs)) timer = setTimeout(done, Math.max(0, timeoutMs));
      if (signal?.aborted) queueMicrotask(done);
      else if (signal) {
        aborts = abortWaiters(signal);
        aborts.add(done);
      }
    });
  }

  /** Something changed (output, exit, close): every waiter resolves. */
  wake(): void {
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const done of waiting) done();
  }
}

const bySignal = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * The waiters on `signal`, resolved when it aborts: one listener per signal for its lifetime. A wait
 * through a flood sleeps once per output chunk, and an abort listener added and removed each time
 * (Bun's EventTarget) cost more than the rest of the wake-up (~12% of the server's flood profile).
 */
export function abortWaiters(signal: AbortSignal): Set<() => void> {
  let waiters = bySignal.get(signal);
  if (!waiters) {
    const set = new Set<() => void>();
    waiters = set;
    bySignal.set(signal, set);
    signal.addEventListener(
      "abort",
      () => {
        const all = [...set];
        set.clear();
        for (const done of all) done();
      },
      { once: true },
    );
  }
  return waiters;
}
