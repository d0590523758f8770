/**
 * The simulator's one pending-operation primitive: a request in flight whose caller holds a promise (a
 * host URB's run, a DeviceIoControl of the simulated port, a transfer the function queued on the link).
 * One object carries everything the request needs until it settles:
 * - the caller's promise ({@link PendingOp.result}) and its settlers;
 * - links in one {@link IntrusiveList} (it is an {@link AbortSubscriber} of its signal's {@link AbortFanout});
 * - its abort subscription ({@link PendingOp.watchAbort}: the subclass says what the abort cancels);
 * - an optional timeout on the simulation clock ({@link PendingOp.startTimeout}).
 *
 * The subclasses keep the domain meaning (libusb's URB outcomes, the IRP's Win32 code, UFX's abort):
 * `UrbRun` (simulator/link/host-end), `PendingIoctl` (simulator/usbfn), `DeviceTransfer`
 * (simulator/link/device-end).
 *
 * Why it is built this way (each point was measured on `npm run bench`'s bulk loopback; bench/README.md
 * "Where the bulk loopback's time goes"):
 * @note One object per operation. The operation is its own completion receiver, abort subscriber and timer
 * target, and its promise's settlers live in its fields, so a transfer allocates no closure beyond its
 * timeout callback. Together with the other allocation cuts this took a 512-byte loopback from 13.1 KB to
 * 9.3 KB of allocation.
 * @note Captured settlers. `new Promise(executor)` runs the executor synchronously, so a module-level
 * executor stores `resolve`/`reject` in module variables and the constructor moves them into the object
 * at once: no executor closure per operation (`Promise.withResolvers` would do the same once the
 * project's `engines` allow Node ≥ 22).
 * @note The timeout callback is an inline arrow, not a named function value: tsx/esbuild's keepNames would
 * redefine `name` on every named closure (an `Object.defineProperty` per operation).
 * @note The abort check asks the fan-out ({@link AbortFanout.aborted}), never `signal.aborted`: a signal's
 * hidden class changes with its first listener, so reading it deoptimized the hot callers on every new
 * signal. One listener per signal and intrusive lists (not `Set`s, not one EventTarget listener per
 * request) keep finished requests from being retained across scavenges: abort-fanout.ts and
 * intrusive-list.ts give the figures (~30 % of a bulk loopback's time was GC; 7.8 µs vs 11.6 µs per
 * 512-byte loopback without the `Set`).
 */
import { type Clock, type ClockTimer, SimulatorError } from '../../core/index.js';
import type { AbortFanout, AbortSubscriber } from './abort-fanout.js';
import type { IntrusiveList } from './intrusive-list.js';

function noop(): void {}

// The executor of every PendingOp's promise (see the captured-settlers note above).
let capturedResolve: (value: never) => void = noop;
let capturedReject: (reason: unknown) => void = noop;
function captureSettlers(resolve: (value: never) => void, reject: (reason: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/**
 * A request in flight and the caller's promise for its result. Settle it once with {@link resolve} or
 * {@link reject}; a subclass that waits on a signal or a timeout overrides {@link onAbort} /
 * {@link onTimeout} and calls {@link stopWaiting} when the request ends.
 *
 * @example
 * class PendingRead extends PendingOp<number> {
 *   constructor(readonly request: Request) { super(); }
 *   protected override onAbort(): void { this.request.cancel(); }
 * }
 * const op = new PendingRead(request);
 * const fanout = abortFanout(signal);
 * if (fanout.aborted) request.cancel(); else op.watchAbort(fanout);
 * return op.result; // request.done → op.stopWaiting(); op.resolve(bytes)
 */
export class PendingOp<T> implements AbortSubscriber {
  /** The caller's promise: settled once, by {@link resolve} or {@link reject}. */
  readonly result: Promise<T>;
  readonly #resolve: (value: T) => void;
  readonly #reject: (reason: unknown) => void;
  #fanout: AbortFanout | undefined = undefined;
  #timer: ClockTimer | undefined = undefined;
  /** Links in its signal's fan-out (intrusive-list.ts). */
  listPrev: AbortSubscriber | undefined = undefined;
  listNext: AbortSubscriber | undefined = undefined;
  listOwner: IntrusiveList<AbortSubscriber> | undefined = undefined;

  constructor() {
    this.result = new Promise<T>(captureSettlers);
    this.#resolve = capturedResolve as (value: T) => void;
    this.#reject = capturedReject;
    capturedResolve = capturedReject = noop;
  }

  /** Fulfils {@link result} (a no-op once settled, like the promise's own resolve). */
  resolve(value: T): void {
    this.#resolve(value);
  }

  /** Rejects {@link result} (a no-op once settled). */
  reject(reason: unknown): void {
    this.#reject(reason);
  }

  /**
   * Subscribes to `fanout`: {@link onAbort} runs once if its signal aborts before {@link stopWaiting}. The
   * caller checks `fanout.aborted` first (a subscriber added after the abort is never notified).
   */
  watchAbort(fanout: AbortFanout): void {
    this.#fanout = fanout;
    fanout.add(this);
  }

  /** Arms the optional timeout: {@link onTimeout} runs after `timeoutMs` of `clock` time unless {@link stopWaiting} ran first. */
  startTimeout(clock: Clock, timeoutMs: number): void {
    // An inline arrow (see the keepNames note above).
    this.#timer = clock.setTimer(timeoutMs, () => {
      this.#timer = undefined;
      this.onTimeout();
    });
  }

  /** The request ended: cancels the timeout and leaves the fan-out (call before settling). */
  stopWaiting(): void {
    const timer = this.#timer;
    if (timer !== undefined) {
      timer.cancel();
      this.#timer = undefined;
    }
    const fanout = this.#fanout;
    if (fanout !== undefined) {
      fanout.delete(this);
      this.#fanout = undefined;
    }
  }

  /** {@link AbortSubscriber}: the signal aborted (the fan-out has already unsubscribed this operation). */
  signalAborted(): void {
    this.#fanout = undefined;
    this.onAbort();
  }

  /**
   * What an abort cancels (libusb_cancel_transfer, CancelIoEx). Overridden by every operation that calls
   * {@link watchAbort}.
   * @throws SimulatorError SIM_PENDING_OP when it is not (a simulator bug).
   */
  protected onAbort(): void {
    throw new SimulatorError('SIM_PENDING_OP', `${this.constructor.name} watches an abort signal but does not override onAbort`);
  }

  /**
   * What the timeout does (libusb unlinks the URB). Overridden by every operation that calls
   * {@link startTimeout}.
   * @throws SimulatorError SIM_PENDING_OP when it is not (a simulator bug).
   */
  protected onTimeout(): void {
    throw new SimulatorError('SIM_PENDING_OP', `${this.constructor.name} started a timeout but does not override onTimeout`);
  }
}
