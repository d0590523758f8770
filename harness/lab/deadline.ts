/**
 * One deadline for one call, however many requests, retries and back-off waits it takes (a composite call
 * such as "acquire the lease, waiting while it is busy" has ONE deadline, not one per step).
 */
import type { Clock } from '../../core/index.js';

export class Deadline {
  readonly totalMs: number;
  readonly #clock: Clock;
  readonly #atMs: number;

  constructor(clock: Clock, totalMs: number) {
    if (!(totalMs >= 0)) throw new RangeError(`a deadline needs a non-negative number of ms, got ${totalMs}`);
    this.#clock = clock;
    this.totalMs = totalMs;
    this.#atMs = clock.now() + totalMs;
  }

  /** Milliseconds left (0 once passed). */
  remainingMs(): number {
    return Math.max(0, this.#atMs - this.#clock.now());
  }

  get expired(): boolean {
    return this.remainingMs() <= 0;
  }

  /** A deadline at most `ms` from now and never later than this one (a step of the composite call). */
  within(ms: number): Deadline {
    return new Deadline(this.#clock, Math.min(ms, this.remainingMs()));
  }
}
