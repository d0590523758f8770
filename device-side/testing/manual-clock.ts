/**
 * `ManualClock`: a {@link Clock} whose time moves only when a unit test says so, for the device-side
 * tests that may not use the simulator's scheduler. Timers due at the same instant fire in the order they
 * were set; between two timers every promise job the previous one started runs first (a `setImmediate`
 * turn), as on a real event loop. Deferred work (`setTimer(0, …)`) therefore runs only inside
 * {@link ManualClock.advance}, which lets a test look at the moment between a callback and its deferred
 * routine.
 */
import type { Clock, ClockTimer } from '../../core/index.js';

interface Timer {
  readonly at: number;
  readonly seq: number;
  callback: (() => void) | undefined;
}

/** Resolves once every promise job queued so far (and those they queue) has run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
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
    await settle();
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
      await settle();
    }
    this.#now = until;
  }
}
