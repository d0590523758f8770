/**
 * The `Clock` seam (docs/architecture.md#seams): real time in `lab`, virtual time in `sim`.
 *
 * A leaf module like `errors.ts`: device-side and host-side may import it. Every bounded wait in
 * shared code goes through a Clock, so that in `sim` a 30-second timeout costs no wall time.
 */
import { AbortedError, TimeoutError } from './errors.js';

/** A scheduled callback that can be cancelled. */
export interface ClockTimer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds on this clock (fractional allowed; virtual clocks start at 0). */
  now(): number;
  /** Calls `callback` once, `delayMs` from now. */
  setTimer(delayMs: number, callback: () => void): ClockTimer;
}

/** Real time: `performance.now()` and `setTimeout` (lab mode, and the host agent in lab). */
export class RealClock implements Clock {
  now(): number {
    return performance.now();
  }
  setTimer(delayMs: number, callback: () => void): ClockTimer {
    const t = setTimeout(callback, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(t) };
  }
}

/**
 * Resolves or rejects like `promise`, but rejects with {@link TimeoutError} after `timeoutMs` on
 * `clock`, or with {@link AbortedError} when `signal` fires. `onGiveUp` runs when the wait is
 * abandoned (timeout or abort) so the caller can cancel the underlying operation.
 */
export function withTimeout<T>(
  clock: Clock,
  promise: Promise<T>,
  what: string,
  timeoutMs: number,
  opts: { signal?: AbortSignal | undefined; onGiveUp?: (reason: unknown) => void; detail?: string } = {},
): Promise<T> {
  const { signal } = opts;
  if (signal?.aborted) {
    const err = new AbortedError(what, signal.reason);
    opts.onGiveUp?.(err);
    promise.catch(() => undefined);
    return Promise.reject(err);
  }
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (): void => {
      settled = true;
      timer.cancel();
      signal?.removeEventListener('abort', onAbort);
    };
    const giveUp = (err: unknown): void => {
      if (settled) return;
      finish();
      opts.onGiveUp?.(err);
      reject(err);
    };
    const onAbort = (): void => giveUp(new AbortedError(what, signal?.reason));
    const timer = clock.setTimer(timeoutMs, () => giveUp(new TimeoutError(what, timeoutMs, opts.detail)));
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        if (settled) return;
        finish();
        resolve(v);
      },
      (e: unknown) => {
        if (settled) return;
        finish();
        reject(e);
      },
    );
  });
}

/**
 * Resolves or rejects like `promise`, or rejects when `signal` aborts first (at once if it already has),
 * with `reasonToError(signal.reason)` — by default the reason itself. `promise` goes on (and a later
 * rejection of it is handled): cancelling the operation is the caller's business.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined, reasonToError: (reason: unknown) => unknown = (reason) => reason): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(reasonToError(signal.reason));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(reasonToError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Resolves after `delayMs` on `clock` (for pacing, never for synchronisation); abortable. */
export function delay(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError('delay', signal.reason));
      return;
    }
    const onAbort = (): void => {
      timer.cancel();
      reject(new AbortedError('delay', signal?.reason));
    };
    const timer = clock.setTimer(delayMs, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
