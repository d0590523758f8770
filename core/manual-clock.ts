/**
 * `ManualClock`: a {@link Clock} whose time moves only when a unit test says so, for the tests that may not
 * use the simulator's scheduler (the device side's, the lab client's). Timers due at the same instant fire in the order they
 * were set; between two timers every promise job the previous one started runs first (a `setImmediate`
 * turn), as on a real event loop. Deferred work (`setTimer(0, …)`) therefore runs only inside
 * {@link ManualClock.advance}, which lets a test look at the moment between a callback and its deferred
 * routine.
 */
import type { Clock, ClockTimer } from './clock.js';

interface Timer {
  readonly at: number;
  readonly seq: number;
  callback: (() => void) | undefined;
}

/**
 * Resolves once every promise job queued so far (and those they queue) has run: `turns` event-loop turns
 * (one is enough in process; an exchange over a socket, even an intercepted one, takes a few).
 */
export async function settleEventLoop(turns = 1): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export class ManualClock implements Clock {
  #now = 0;
  #seq = 0;
  #timers: Timer[] = [];
  readonly #settleTurns: number;

  /** @param options.settleTurns event-loop turns {@link advance} lets run before and after each timer (default 1). */
  constructor(options: { settleTurns?: number } = {}) {
    this.#settleTurns = options.settleTurns ?? 1;
  }

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

  /** Timers set and neither fired nor cancelled. */
  get pendingTimers(): number {
    return this.#timers.filter((t) => t.callback !== undefined).length;
  }

  /**
   * Lets pending promise jobs run, then fires every timer due within `ms` from now in time order (settling
   * after each), and ends at now + `ms`. `advance(0)` runs what is due now, deferred routines included.
   */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    await settleEventLoop(this.#settleTurns);
    for (;;) {
      this.#timers = this.#timers.filter((t) => t.callback !== undefined);
      let next: Timer | undefined;
      for (const t of this.#timers) {
        if (t.at <= until && (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (next === undefined) break;
      const callback = next.callback!;
      next.callback = undefined;
      this.#now = next.at;
      callback();
      await settleEventLoop(this.#settleTurns);
    }
    this.#now = until;
  }
}
