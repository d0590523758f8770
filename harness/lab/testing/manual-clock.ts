/**
 * A clock that moves only when a test says so, for deterministic tests of deadlines, back-off, lease
 * renewal and stall detection around real (msw-intercepted) HTTP exchanges: those take a few event-loop
 * turns, so {@link ManualClock.advance} lets them run between the timers it fires.
 */
import type { Clock, ClockTimer } from '../../../core/index.js';

interface Timer {
  readonly at: number;
  readonly seq: number;
  callback: (() => void) | undefined;
}

/** Lets pending promise chains and intercepted I/O run (a few event-loop turns). */
export async function settle(turns = 8): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Resolves once `predicate` holds, letting the event loop turn in between; rejects after `turns` turns
 * (a test's bounded wait for an intercepted request to arrive, not a timing assumption).
 */
export async function until(predicate: () => boolean, what = 'the condition', turns = 500): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (predicate()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`until: ${what} did not hold within ${turns} event-loop turns`);
}

export class ManualClock implements Clock {
  #now = 0;
  #seq = 0;
  #timers: Timer[] = [];

  now(): number {
    return this.#now;
  }

  setTimer(delayMs: number, callback: () => void): ClockTimer {
    const timer: Timer = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, callback };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.callback = undefined;
      },
    };
  }

  /** Timers not yet fired or cancelled. */
  get pendingCount(): number {
    return this.#timers.filter((t) => t.callback !== undefined).length;
  }

  /** Moves time forward by `ms`, firing due timers in order and letting the event loop run after each. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      this.#timers = this.#timers.filter((t) => t.callback !== undefined);
      const next = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (next === undefined) break;
      this.#now = next.at;
      const cb = next.callback!;
      next.callback = undefined;
      cb();
      await settle();
    }
    this.#now = end;
    await settle();
  }
}
