/**
 * One `abort` listener per AbortSignal for the simulator's per-request cancellation (libusb_cancel_transfer
 * for URBs, CancelIoEx for IOCTLs), instead of one listener per request.
 *
 * @note Why not `signal.addEventListener` per request: besides its cost on the hot path, Node's
 * EventTarget unlinks a removed listener from its list without clearing the removed node's own
 * `next`/`previous` links. A listener that was promoted to the old generation and then removed keeps
 * every later listener (and the request, buffers and promises each one closes over) reachable until the
 * next full GC, so a long-lived signal shared by thousands of requests (a configuration's signal, a
 * pipelined run's signal) made every scavenge copy them: ~30 % of a bulk loopback's time went to GC.
 * Subscribers here live in an {@link IntrusiveList}, which clears a removed item's links.
 */
import { IntrusiveList, type ListLinks } from './intrusive-list.js';

/** Notified once when the signal it subscribed to aborts; it carries its own list links. */
export interface AbortSubscriber extends ListLinks<AbortSubscriber> {
  /** Called synchronously from the signal's `abort` dispatch, in subscription order. */
  signalAborted(): void;
}

/** The subscribers of one signal; it is the signal's single `abort` listener (an EventListener object). */
export class AbortFanout {
  readonly #subscribers = new IntrusiveList<AbortSubscriber>();
  #aborted = false;

  /**
   * Whether the signal has aborted: the same answer as `signal.aborted`, without touching the signal (whose
   * hidden class changes when its first listener is added, which made the hot callers' optimized code
   * bail out on every new signal).
   */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Adds `subscriber` (a no-op if it is already subscribed). */
  add(subscriber: AbortSubscriber): void {
    this.#subscribers.add(subscriber);
  }

  /** Removes `subscriber`; false when it was not subscribed (already notified or removed). */
  delete(subscriber: AbortSubscriber): boolean {
    return this.#subscribers.delete(subscriber);
  }

  /** Subscribers currently waiting (for tests and diagnostics). */
  get size(): number {
    return this.#subscribers.size;
  }

  /** The `abort` listener: notifies every subscriber once, oldest first. */
  handleEvent(): void {
    this.#aborted = true;
    // Live, like EventTarget's dispatch: a subscriber whose request ended (and unsubscribed) during an
    // earlier subscriber's cancellation is skipped.
    for (let s = this.#subscribers.shift(); s !== undefined; s = this.#subscribers.shift()) s.signalAborted();
  }
}

const fanouts = new WeakMap<AbortSignal, AbortFanout>();

/**
 * The fan-out of `signal`, registering its one `abort` listener on first use. Subscribe with
 * `fanout.add(subscriber)` and unsubscribe with `fanout.delete(subscriber)` when the request ends.
 * The caller checks `fanout.aborted` first: a subscriber added after the abort is never notified.
 *
 * @example
 * const fanout = abortFanout(signal);
 * fanout.add(pending); // pending.signalAborted() runs CancelIoEx
 * // ... on completion:
 * fanout.delete(pending);
 */
export function abortFanout(signal: AbortSignal): AbortFanout {
  let fanout = fanouts.get(signal);
  if (fanout === undefined) {
    fanout = new AbortFanout();
    fanouts.set(signal, fanout);
    if (signal.aborted) fanout.handleEvent();
    else signal.addEventListener('abort', fanout, { once: true });
  }
  return fanout;
}
