/**
 * `queueJob`: runs a callback as a microtask, like `queueMicrotask`, for the simulator's hot paths.
 *
 * A reaction on an already settled promise is queued at once, at the same place in the microtask queue as a
 * `queueMicrotask` callback would be, so the order of everything else is the same. It costs half as much:
 * Node wraps every `queueMicrotask` callback in an AsyncResource and a bound function (measured on the
 * control-transfer bench, bench/README.md). A callback that throws surfaces as an unhandled rejection
 * (Node's default turns it into an uncaught exception, as `queueMicrotask` does) — the simulator's callbacks
 * throw only on simulator bugs.
 */
const SETTLED: Promise<void> = Promise.resolve();

/** Queues `callback` at the end of the microtask queue. */
export function queueJob(callback: () => void): void {
  void SETTLED.then(callback);
}
