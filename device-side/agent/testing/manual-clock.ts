/** A wall clock that moves only when a test says so (leases, idempotency TTLs). */
import type { Clock, ClockTimer } from '../../../core/index.js';

export class ManualClock implements Clock {
  #now: number;
  #timers: { at: number; callback: () => void; cancelled: boolean }[] = [];

  constructor(startMs = 1_765_000_000_000) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(delayMs: number, callback: () => void): ClockTimer {
    const timer = { at: this.#now + Math.max(0, delayMs), callback, cancelled: false };
    this.#timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  /** Moves time forward, firing due timers in time order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => !t.cancelled && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      due.cancelled = true;
      this.#now = due.at;
      due.callback();
    }
    this.#timers = this.#timers.filter((t) => !t.cancelled);
    this.#now = end;
  }
}
