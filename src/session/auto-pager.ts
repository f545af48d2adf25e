// auto_pager: answers pager prompts (--More--, (END), "Press any key") by itself, once the output
// has paused at one for AUTO_PAGER_DELAY_MS, and remembers where it answered so that results can
// leave those prompts out (classifier.joinPages).
import { isPagerLine } from "./classifier.ts";
import type { OutputBuffer } from "./output-buffer.ts";

const AUTO_PAGER_DELAY_MS = 20;

/** What the auto-pager needs of its session (Session implements it). */
export interface PagerHost {
  readonly buffer: OutputBuffer;
  readonly isAlive: boolean;
  readonly autoPager: boolean;
  tailText(bytes?: number): string;
  write(data: string, event: { kind: "auto_pager" }): Promise<void>;
}

export class AutoPager {
  readonly #host: PagerHost;
  #timer: Timer | undefined;
  /** Pages answered, for tests and the state. */
  pagesAnswered = 0;
  /** Cursors where a pager prompt was answered (each ends one). */
  #answered: number[] = [];

  constructor(host: PagerHost) {
    this.#host = host;
  }

  /** New output arrived: look again once it pauses. */
  arm(): void {
    if (this.#timer) {
      this.#timer.refresh();
      return;
    }
    this.#timer = setTimeout(() => this.#answer(), AUTO_PAGER_DELAY_MS);
  }

  #answer(): void {
    this.#timer = undefined;
    const host = this.#host;
    if (!host.isAlive || !host.autoPager) return;
    const tail = host.tailText(512);
    const last = tail.slice(tail.lastIndexOf("\n") + 1);
    if (!isPagerLine(last)) return;
    this.pagesAnswered++;
    this.#answered = this.#answered.filter((c) => c > host.buffer.start);
    this.#answered.push(host.buffer.end);
    // `(END)` is less at the end of its input: space does nothing there, q leaves.
    const answer = /\(END\)/.test(last) ? "q" : " ";
    void host.write(answer, { kind: "auto_pager" }).catch(() => undefined);
  }

  /** Cursors in [from, to] where an answered pager prompt ends. */
  cutsWithin(from: number, to: number): number[] {
    return this.#answered.filter((c) => c >= from && c <= to);
  }

  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
