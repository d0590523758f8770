/**
 * One deadline for a whole action (its commands, retries and diagnosis), on a {@link Clock}: each step gets
 * what is left, never a fresh timeout of its own.
 */
import { TimeoutError, type Clock } from '../../../core/index.js';

export class Deadline {
  readonly timeoutMs: number;
  readonly #clock: Clock;
  readonly #endMs: number;

  constructor(clock: Clock, timeoutMs: number) {
    this.#clock = clock;
    this.timeoutMs = timeoutMs;
    this.#endMs = clock.now() + timeoutMs;
  }

  /** Milliseconds left (≤ 0 once passed). */
  remainingMs(): number {
    return this.#endMs - this.#clock.now();
  }

  /**
   * Milliseconds left for the next step.
   * @throws TimeoutError naming `what` when the deadline has passed.
   */
  next(what: string): number {
    const left = this.remainingMs();
    if (left <= 0) throw new TimeoutError(what, this.timeoutMs, 'the deadline of the action passed before this step');
    return left;
  }
}
