// The sessions of one MCP server (or one daemon): ids, the live-session limit, lookup and teardown.
import { PtyError } from "../errors.ts";
import { Emitter } from "./transport.ts";
import type { SessionType } from "./description.ts";
import type { InputHook, Session } from "./session.ts";

export const MAX_LIVE_SESSIONS = 50;

/** Input that reaches hosts outside any session (run_on_hosts, transfer_file). */
export interface FleetInput {
  tool: string;
  /** The hosts, comma-separated. */
  target: string;
  /** The command line, or what is copied where. */
  cmd: string;
}

/**
 * Sees fleet input before it is sent (audit: a strict log refuses it by throwing) and returns
 * what to call with a short outcome afterwards.
 */
export type FleetHook = (input: FleetInput) => Promise<((outcome: string) => void) | undefined>;
/** Ended sessions kept readable beyond this many are dropped, oldest first. */
const MAX_ENDED_SESSIONS = 50;

export class SessionRegistry {
  readonly #sessions = new Map<string, Session>();
  readonly #added = new Emitter<Session>();
  /** Hooks every session gets (audit). */
  readonly inputHooks: InputHook[] = [];
  /** Hooks fleet input goes through (audit). */
  readonly fleetHooks: FleetHook[] = [];
  readonly maxLive: number;

  constructor(options: { maxLive?: number } = {}) {
    this.maxLive = options.maxLive ?? MAX_LIVE_SESSIONS;
  }

  newId(type: SessionType): string {
    return `${type}-${Buffer.from(crypto.getRandomValues(new Uint8Array(4))).toString("hex")}`;
  }

  /** Throws SESSION_LIMIT when no further live session may be opened. Call before opening a transport. */
  assertCapacity(): void {
    const live = [...this.#sessions.values()].filter((s) => s.isAlive).length;
    if (live >= this.maxLive) {
      throw new PtyError("SESSION_LIMIT", `${live} sessions are open; the limit is ${this.maxLive}. Close sessions you no longer need (list_sessions shows them).`, true);
    }
  }

  add(session: Session): Session {
    this.#sessions.set(session.id, session);
    session.inputHooks.push(...this.inputHooks);
    this.#dropOldEnded();
    this.#added.emit(session);
    return session;
  }

  /** Runs the fleet hooks (a hook's PtyError refuses the input); returns the outcome reporter. */
  async beforeFleetInput(input: FleetInput): Promise<(outcome: string) => void> {
    const reporters: ((outcome: string) => void)[] = [];
    for (const hook of this.fleetHooks) {
      const report = await hook(input);
      if (report !== undefined) reporters.push(report);
    }
    return (outcome) => {
      for (const report of reporters) report(outcome);
    };
  }

  /** What the registry holds, for the memory report (cli/memory-report.ts): all back to baseline once every session is closed. */
  counts(): { sessions: number; added_listeners: number; input_hooks: number; fleet_hooks: number } {
    return { sessions: this.#sessions.size, added_listeners: this.#added.size, input_hooks: this.inputHooks.length, fleet_hooks: this.fleetHooks.length };
  }

  onAdded(listener: (session: Session) => void): Disposable {
    return this.#added.on(listener);
  }

  get(id: string): Session | undefined {
    return this.#sessions.get(id);
  }

  getOrThrow(id: string): Session {
    const session = this.#sessions.get(id);
    if (!session) throw new PtyError("SESSION_NOT_FOUND", `No session "${id}". list_sessions shows the open ones.`);
    return session;
  }

  list(): Session[] {
    return [...this.#sessions.values()];
  }

  async close(id: string): Promise<Session> {
    const session = this.getOrThrow(id);
    this.#sessions.delete(id);
    await session.close();
    return session;
  }

  /** Forgets a session without ending its program (detach of a persistent session). */
  remove(id: string): Session {
    const session = this.getOrThrow(id);
    this.#sessions.delete(id);
    return session;
  }

  async closeAll(): Promise<void> {
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.allSettled(all.map((s) => s.close()));
  }

  #dropOldEnded(): void {
    const ended = [...this.#sessions.values()].filter((s) => !s.isAlive);
    for (const s of ended.slice(0, Math.max(0, ended.length - MAX_ENDED_SESSIONS))) {
      this.#sessions.delete(s.id);
      void s.close();
    }
  }
}
