/**
 * The simulator's discrete-event scheduler and virtual clock (docs/simulator.md#time, issue 3 item 1).
 *
 * Simulated time advances only when nothing else can run: a timer fires once the microtask queue
 * (every promise chain the simulator and the code above it started) has drained. A 30-second timeout
 * therefore costs no wall time, and a run is deterministic: timers due at the same instant fire in the
 * order they were set.
 *
 * @note Timers fire one at a time from Node's tick queue: a microtask queues a `process.nextTick`, and
 * Node runs a tick queued from a microtask only after the whole microtask queue has drained, so the
 * microtasks a timer's callback started (promise continuations of the code it woke, however many hops)
 * run before the next timer, exactly as on a real event loop. Every {@link TIMERS_PER_TURN} timers the
 * clock yields one event-loop turn (`setImmediate`) so that real I/O and real timers get their turn.
 * Node's unhandled-rejection check runs whenever the tick queue is empty: after such a turn and whenever
 * no timer is due (a rejection handled only by a later timer's code is therefore reported when a turn
 * falls between the two, no longer every time). One event-loop turn per timer (the former design) costs
 * a system call (`epoll_pwait`) per timer, whose price depends on the machine's kernel and hypervisor,
 * not on this code: 3–5 µs in a VM with page-table isolation, where it was half the cost of a simulated
 * control transfer (bench/README.md). Real I/O awaited in the middle of a simulated exchange would let
 * virtual time run ahead of it; the simulator and the shared code above it do none.
 *
 * **Real-time pacing** (`new VirtualClock({ realTime: true })`): when the simulation talks to something
 * outside its process (the `lab-sim` world, `usbfn-hil usbip serve`: a USB/IP client whose timeouts run on
 * wall time), time must not jump while the other side is busy. The clock then advances in step with wall
 * time: `now()` follows the wall clock, and a timer fires once wall time has reached it (never earlier).
 * The order of timers stays (time, insertion), so the model behaves the same; only determinism is lost.
 */
import { type Clock, type ClockTimer, SimulatorError } from '../../core/index.js';
import { queueJob } from '../runtime/index.js';

/** A scheduled timer; it is its own cancel handle (no closure per timer). */
class Entry implements ClockTimer {
  /** Position in the clock's heap, or -1 once fired or cancelled. */
  index = -1;
  constructor(
    readonly at: number,
    readonly seq: number,
    public callback: (() => void) | undefined,
    readonly clock: VirtualClock,
  ) {}

  cancel(): void {
    if (this.callback === undefined) return;
    this.callback = undefined;
    this.clock.timerCancelled(this);
  }
}

/**
 * A virtual clock driven by a min-heap of timers.
 *
 * @note A cancelled timer leaves the heap at once (each entry knows its heap index, O(log n)). Per-transfer
 * timeouts are cancelled far more often than they fire and their deadlines lie seconds of scenario time
 * ahead; left in place (even pruned in batches) they made the heap hundreds of entries deep, and every
 * transfer's completion timer paid for sifting through them, cache misses included.
 */
/** Options of {@link VirtualClock}. */
export interface VirtualClockOptions {
  /**
   * Advance in step with wall time instead of jumping to the next timer when idle (see the file's doc).
   * Default false (pure virtual time: deterministic, a 30-second timeout costs no wall time).
   */
  readonly realTime?: boolean | undefined;
}

/** Below this wait (ms) a real-time clock polls from `setImmediate` turns instead of a `setTimeout`, whose granularity is 1 ms. */
const REAL_TIME_SPIN_MS = 1;

/**
 * Timers a virtual-time clock fires from the tick queue before it yields one event-loop turn. Large enough
 * that the turn's system call is noise per timer (< 0.1 µs even where a turn costs 5 µs), small enough that
 * real I/O waits at most a few milliseconds while a simulation runs.
 */
export const TIMERS_PER_TURN = 64;

export class VirtualClock implements Clock {
  /** Whether time follows the wall clock ({@link VirtualClockOptions.realTime}). */
  readonly realTime: boolean;
  #now = 0;
  #seq = 0;
  #heap: Entry[] = [];
  #scheduled = false;
  #firing = false;
  #fired = 0;
  #idleWaiters: (() => void)[] = [];
  /** Timers fired from the tick queue since the last event-loop turn (virtual time only). */
  #firedSinceTurn = 0;
  /** Fires the next due timer from an event-loop turn; bound once so scheduling allocates nothing. */
  readonly #tick = (): void => {
    this.#firedSinceTurn = 1;
    this.#runOne();
  };
  /** Fires the next due timer from the tick queue. */
  readonly #tickQueued = (): void => {
    this.#firedSinceTurn++;
    this.#runOne();
  };
  /** Runs as a microtask: a tick queued from a microtask runs once the microtask queue has drained. */
  readonly #afterMicrotasks = (): void => void process.nextTick(this.#tickQueued);
  /** Real time only: `performance.now()` at construction, and the pending `setTimeout` with the time it is armed for. */
  readonly #wallOrigin: number;
  #wallTimer: ReturnType<typeof setTimeout> | undefined;
  #wallTimerAt = Infinity;

  constructor(options: VirtualClockOptions = {}) {
    this.realTime = options.realTime ?? false;
    this.#wallOrigin = performance.now();
  }

  /**
   * Milliseconds since the simulation started: virtual time, or with `realTime` the wall time elapsed
   * (never less than the time of the last timer fired, so it never goes back).
   */
  now(): number {
    if (!this.realTime) return this.#now;
    const wall = performance.now() - this.#wallOrigin;
    return wall > this.#now ? wall : this.#now;
  }

  /** How many timers have fired so far (for benchmarks and diagnostics). */
  get firedCount(): number {
    return this.#fired;
  }

  /** Timers not yet fired (cancelled ones are not counted). */
  get pendingCount(): number {
    return this.#heap.length;
  }

  /** @internal Called by a timer's cancel(): takes it out of the heap. */
  timerCancelled(entry: Entry): void {
    const i = entry.index;
    if (i < 0) return;
    entry.index = -1;
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0 && this.#wallTimer !== undefined) {
      // Real time, nothing left: drop the armed setTimeout (it would hold the process) and report idle.
      this.#rearm();
      this.#schedule();
    }
    if (i === h.length) return; // it was the last one
    h[i] = last;
    last.index = i;
    if (i > 0 && this.#less(last, h[(i - 1) >> 1]!)) this.#siftUp(i);
    else this.#siftDown(i);
  }

  setTimer(delayMs: number, callback: () => void): ClockTimer {
    if (!Number.isFinite(delayMs)) {
      throw new SimulatorError('SIM_BAD_DELAY', `setTimer(${delayMs}): the delay must be a finite number of ms`);
    }
    const entry = new Entry(this.now() + Math.max(0, delayMs), this.#seq++, callback, this);
    this.#push(entry);
    // Real time: a timer earlier than the armed setTimeout re-arms it.
    if (this.realTime && this.#scheduled && entry.at < this.#wallTimerAt && this.#heap[0] === entry) this.#rearm();
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
    if (this.#heap.length === 0 && !this.#firing) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    if (!this.realTime && this.#firedSinceTurn < TIMERS_PER_TURN) {
      // A microtask (queueJob: queueMicrotask's order at half its cost).
      queueJob(this.#afterMicrotasks);
      return;
    }
    const head = this.#heap[0];
    const waitMs = this.realTime && head !== undefined ? head.at - this.now() : 0;
    if (waitMs < REAL_TIME_SPIN_MS) {
      setImmediate(this.#tick);
      return;
    }
    this.#wallTimerAt = head!.at;
    this.#wallTimer = setTimeout(this.#tick, Math.floor(waitMs));
  }

  /** Real time: cancels the armed setTimeout (an earlier timer was set) so that {@link #schedule} arms anew. */
  #rearm(): void {
    if (this.#wallTimer === undefined) return; // a setImmediate turn is already pending: it will look again
    clearTimeout(this.#wallTimer);
    this.#wallTimer = undefined;
    this.#wallTimerAt = Infinity;
    this.#scheduled = false;
  }

  #runOne(): void {
    this.#scheduled = false;
    this.#wallTimer = undefined;
    this.#wallTimerAt = Infinity;
    if (this.realTime) {
      const head = this.#heap[0];
      if (head !== undefined && head.at > this.now()) {
        // Not due yet on the wall clock (a setTimeout may fire a little early, a spin turn always does).
        this.#schedule();
        return;
      }
    }
    const entry = this.#pop();
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

  // Binary min-heap ordered by (at, seq), a total order: firing order does not depend on the heap's shape.
  #less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(e: Entry): void {
    const h = this.#heap;
    e.index = h.length;
    h.push(e);
    this.#siftUp(e.index);
  }

  #pop(): Entry | undefined {
    const h = this.#heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    top.index = -1;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      last.index = 0;
      this.#siftDown(0);
    }
    return top;
  }

  #siftUp(start: number): void {
    const h = this.#heap;
    const e = h[start]!;
    let i = start;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!this.#less(e, parent)) break;
      h[i] = parent;
      parent.index = i;
      i = p;
    }
    h[i] = e;
    e.index = i;
  }

  #siftDown(start: number): void {
    const h = this.#heap;
    const n = h.length;
    const e = h[start]!;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && this.#less(h[r]!, h[l]!) ? r : l;
      const child = h[m]!;
      if (!this.#less(child, e)) break;
      h[i] = child;
      child.index = i;
      i = m;
    }
    h[i] = e;
    e.index = i;
  }
}
