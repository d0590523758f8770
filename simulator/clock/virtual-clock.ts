/**
 * The simulator's discrete-event scheduler and virtual clock (DESIGN.md §2.3, issue 3 item 1).
 *
 * Simulated time advances only when nothing else can run: a timer fires from a `setImmediate`
 * turn, i.e. after the microtask queue (every promise chain the simulator and the code above it
 * started) has drained. A 30-second timeout therefore costs one event-loop turn of wall time, and
 * a run is deterministic: timers due at the same instant fire in the order they were set.
 *
 * @note Only one timer fires per event-loop turn, so the microtasks a timer's callback started
 * (promise continuations of the code it woke) run before the next timer, exactly as on a real event
 * loop. Real I/O awaited in the middle of a simulated exchange would let virtual time run ahead of
 * it; the simulator and the shared code above it do none.
 */
import type { Clock, ClockTimer } from '../../harness/clock.js';
import { SimulatorError } from '../../harness/errors.js';

/** A scheduled timer; it is its own cancel handle (no closure per timer). */
class Entry implements ClockTimer {
  constructor(
    readonly at: number,
    readonly seq: number,
    public callback: (() => void) | undefined,
    readonly clock: VirtualClock,
  ) {}

  cancel(): void {
    if (this.callback === undefined) return;
    this.callback = undefined;
    this.clock.timerCancelled();
  }
}

/**
 * A cancelled timer stays in the heap until it reaches the top. Per-transfer timeouts are cancelled far
 * more often than they fire and their deadline lies seconds of scenario time ahead, so without pruning
 * the heap would hold every timeout of a long soak: the heap is rebuilt without them once they are the
 * majority (amortised O(1) per cancel, memory bounded by twice the live timers).
 */
const PRUNE_MIN_CANCELLED = 1024;

/** A virtual clock driven by a min-heap of timers. */
export class VirtualClock implements Clock {
  #now = 0;
  #seq = 0;
  #heap: Entry[] = [];
  #scheduled = false;
  #firing = false;
  #fired = 0;
  #idleWaiters: (() => void)[] = [];
  /** Cancelled entries still in the heap. */
  #cancelled = 0;
  /** Fires the next due timer; bound once so scheduling allocates nothing. */
  readonly #tick = (): void => this.#runOne();

  /** Virtual milliseconds since the simulation started. */
  now(): number {
    return this.#now;
  }

  /** How many timers have fired so far (for benchmarks and diagnostics). */
  get firedCount(): number {
    return this.#fired;
  }

  /** Timers not yet fired (cancelled ones may still be counted until they reach the top or are pruned). */
  get pendingCount(): number {
    return this.#heap.length;
  }

  /** @internal Called by a timer's cancel(): counts it and prunes the heap when cancelled ones dominate. */
  timerCancelled(): void {
    this.#cancelled++;
    if (this.#cancelled >= PRUNE_MIN_CANCELLED && this.#cancelled * 2 > this.#heap.length) this.#prune();
  }

  setTimer(delayMs: number, callback: () => void): ClockTimer {
    if (!Number.isFinite(delayMs)) {
      throw new SimulatorError('SIM_BAD_DELAY', `setTimer(${delayMs}): the delay must be a finite number of ms`);
    }
    const entry = new Entry(this.#now + Math.max(0, delayMs), this.#seq++, callback, this);
    this.#push(entry);
    this.#schedule();
    return entry;
  }

  /** Runs `callback` at the current instant, after everything already due now. */
  post(callback: () => void): ClockTimer {
    return this.setTimer(0, callback);
  }

  /**
   * Resolves once no timer is left (every pending one fired or was cancelled). Useful in unit tests
   * of the simulator; scenarios wait for events instead.
   */
  idle(): Promise<void> {
    if (this.#liveCount() === 0 && !this.#firing) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #liveCount(): number {
    return this.#heap.length - this.#cancelled;
  }

  /** Rebuilds the heap from its live entries (Floyd's heapify; the (at, seq) order is total, so firing order is unchanged). */
  #prune(): void {
    const live = this.#heap.filter((e) => e.callback !== undefined);
    this.#heap = live;
    this.#cancelled = 0;
    for (let i = (live.length >> 1) - 1; i >= 0; i--) this.#siftDown(i);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#tick);
  }

  #runOne(): void {
    this.#scheduled = false;
    let entry = this.#pop();
    while (entry !== undefined && entry.callback === undefined) {
      this.#cancelled--;
      entry = this.#pop();
    }
    if (entry === undefined) {
      this.#notifyIdle();
      return;
    }
    this.#now = entry.at;
    const cb = entry.callback!;
    entry.callback = undefined;
    if (this.#heap.length > 0) this.#schedule();
    this.#firing = true;
    try {
      this.#fired++;
      cb();
    } finally {
      this.#firing = false;
    }
    if (this.#heap.length === 0 && this.#idleWaiters.length > 0) {
      // Declare idle only after a full event-loop turn: the callback's promise chains (however many
      // microtask hops they take) run first and may set new timers.
      setImmediate(() => {
        if (this.#heap.length === 0 && !this.#scheduled) this.#notifyIdle();
      });
    }
  }

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  // Binary min-heap ordered by (at, seq).
  #less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i]!, h[p]!)) break;
      const t = h[i]!;
      h[i] = h[p]!;
      h[p] = t;
      i = p;
    }
  }

  #pop(): Entry | undefined {
    const h = this.#heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      this.#siftDown(0);
    }
    return top;
  }

  #siftDown(start: number): void {
    const h = this.#heap;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.#less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.#less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      const t = h[i]!;
      h[i] = h[m]!;
      h[m] = t;
      i = m;
    }
  }
}
