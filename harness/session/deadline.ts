/**
 * One deadline over several steps: a wait made of steps (find the device, open it, wait until configured)
 * ends when its whole budget is spent, not when each step has had the full budget.
 */
import { type Clock, TimeoutError } from '../../core/index.js';

/** What the steps of a {@link withDeadline} body see. */
export interface Deadline {
  /** Aborts (reason: the {@link TimeoutError}) when the deadline passes: hand it to every step that takes one. */
  readonly signal: AbortSignal;
  /**
   * Milliseconds left, at least 1: a bound for a step that takes only a timeout (0 would mean "no timeout"
   * to libusb).
   */
  remainingMs(): number;
  /** Names the step now running (`find the device`), for the timeout's message. */
  step(name: string): void;
  /**
   * Throws the deadline's TimeoutError once it passed: call it after a step that ignores the signal, so a late
   * success is not taken for one.
   */
  check(): void;
}

/**
 * Runs `body` with one deadline of `timeoutMs` on `clock`: rejects with {@link TimeoutError} exactly when it
 * passes (naming the step that was running), and aborts {@link Deadline.signal} so the steps stop. The body
 * cleans up what it made when it sees the abort (a late result is never handed back).
 * @throws TimeoutError when the deadline passes; whatever `body` rejects with before that.
 * @example
 * const handle = await withDeadline(clock, 2_000, 'opening the function', async (d) => {
 *   d.step('find the device');
 *   const info = await host.waitForDevice(filter, { timeoutMs: d.remainingMs(), signal: d.signal });
 *   d.step('open it');
 *   return host.open(info, { timeoutMs: d.remainingMs(), signal: d.signal });
 * });
 */
export function withDeadline<T>(clock: Clock, timeoutMs: number, what: string, body: (deadline: Deadline) => Promise<T>): Promise<T> {
  const aborter = new AbortController();
  const endsAt = clock.now() + timeoutMs;
  let current = 'start';
  const deadline: Deadline = {
    signal: aborter.signal,
    remainingMs: () => Math.max(1, endsAt - clock.now()),
    step: (name) => {
      current = name;
    },
    check: () => {
      if (aborter.signal.aborted) throw aborter.signal.reason;
    },
  };
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = clock.setTimer(timeoutMs, () => {
      if (settled) return;
      settled = true;
      const err = new TimeoutError(what, timeoutMs, `still at step '${current}'`);
      aborter.abort(err);
      reject(err);
    });
    let running: Promise<T>;
    try {
      running = body(deadline);
    } catch (err) {
      running = Promise.reject(err);
    }
    running.then(
      (value) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        resolve(value);
      },
      (err: unknown) => {
        // After the deadline the steps end with the abort: the TimeoutError was already reported.
        if (settled) return;
        settled = true;
        timer.cancel();
        reject(err);
      },
    );
  });
}
