/**
 * The bus-wide time line (bus-timing.ts): bus time is reserved packet by packet, and completions are
 * committed with their bus time and fired from one clock timer in time order (the time line is
 * monotonic), so a transfer costs one timer, not one per packet.
 *
 * A commitment can be taken back while its bus time runs (in-flight.ts: a fault stopped the data): the
 * entry stays in the queue with the time it was committed for, and fires only if the URB or transfer is
 * still committed for that same time.
 */
import type { Clock, ClockTimer } from '../../../core/index.js';
import { TRANSFER_STATE, URB_STATE, type LinkDeviceTransfer, type LinkUrb, type UrbOutcome } from '../link-contract.js';
import { BUS_UNITS_PER_MS, busUnitsToMs, msToBusUnits } from './bus-timing.js';
import { URB_STATUS, type UrbTap } from './urb-tap.js';

type Completion = LinkUrb | LinkDeviceTransfer;

/** Told when a committed control URB has completed (EP0's stage machine then starts the next one). */
export interface ControlCompletionListener {
  controlFired(urb: LinkUrb): void;
}

export class CompletionTimeline {
  readonly #clock: Clock;
  readonly #tap: UrbTap;
  #control: ControlCompletionListener | undefined = undefined;
  /** End of the last reserved bus time (units). */
  #busyUntil = 0;
  /**
   * Committed completions in bus-time order, from #doneHead (next due) to #doneTail. The arrays keep their
   * slots when the queue empties (the head and tail go back to 0): truncating them (`length = 0`) is a
   * runtime call, and the queue empties at almost every timer.
   */
  #done: (Completion | undefined)[] = [];
  /** The bus time each entry of #done was committed for (an entry whose object moved on is skipped). */
  #doneAt: number[] = [];
  #doneHead = 0;
  #doneTail = 0;
  #doneTimer: ClockTimer | undefined;
  readonly #fireDue = (): void => this.#fireCompletions();

  constructor(clock: Clock, tap: UrbTap) {
    this.#clock = clock;
    this.#tap = tap;
  }

  /** Sets who hears of completed control URBs (the control pipe). */
  listen(control: ControlCompletionListener): void {
    this.#control = control;
  }

  /** The time line's end, in Clock ms. */
  get busyUntilMs(): number {
    return busUnitsToMs(this.#busyUntil);
  }

  /** The clock's now, in bus units. */
  nowUnits(): number {
    return msToBusUnits(this.#clock.now());
  }

  /** The time line's end, in bus units. */
  get busyUntil(): number {
    return this.#busyUntil;
  }

  /**
   * Gives back the bus time reserved after `units` (not before now): the runs that had it were stopped by a
   * fault. The caller makes sure nothing else was reserved after them (in-flight.ts `lastOnTheBus`).
   */
  release(units: number): void {
    const now = this.nowUnits();
    this.#busyUntil = units > now ? units : now;
  }

  /** Reserves `units` of bus time after everything already reserved; returns its end. */
  reserve(units: number): number {
    const now = this.nowUnits();
    const start = this.#busyUntil > now ? this.#busyUntil : now;
    this.#busyUntil = start + units;
    return this.#busyUntil;
  }

  /** Decides a URB's outcome; it completes at bus time `at`. */
  commitHost(urb: LinkUrb, outcome: UrbOutcome, at: number): void {
    urb.state = URB_STATE.COMMITTED;
    urb.outcome = outcome;
    urb.at = at;
    this.#pushDone(urb, at);
  }

  /** Decides a device transfer's outcome (its abortReason, if any, is set); it settles at bus time `at`. */
  commitDevice(t: LinkDeviceTransfer, at: number): void {
    t.state = TRANSFER_STATE.COMMITTED;
    t.at = at;
    this.#pushDone(t, at);
  }

  #pushDone(c: Completion, at: number): void {
    const i = this.#doneTail++;
    if (i < this.#done.length) {
      this.#done[i] = c;
      this.#doneAt[i] = at;
    } else {
      this.#done.push(c);
      this.#doneAt.push(at);
    }
    if (this.#doneTimer === undefined) this.#armDone();
  }

  #armDone(): void {
    if (this.#doneHead >= this.#doneTail) return;
    const delayMs = (this.#doneAt[this.#doneHead]! - this.nowUnits()) / BUS_UNITS_PER_MS;
    this.#doneTimer = this.#clock.setTimer(delayMs > 0 ? delayMs : 0, this.#fireDue);
  }

  #fireCompletions(): void {
    this.#doneTimer = undefined;
    const now = this.nowUnits() + 0.001;
    // Re-read #done each turn: a completion callback may detach/reset, which replaces the queue.
    for (;;) {
      const i = this.#doneHead;
      if (i >= this.#doneTail) break;
      const at = this.#doneAt[i]!;
      if (at > now) break;
      const q = this.#done;
      const c = q[i]!;
      q[this.#doneHead++] = undefined;
      this.#fire(c, at);
    }
    if (this.#doneHead >= this.#doneTail) {
      this.#doneHead = 0;
      this.#doneTail = 0;
    } else if (this.#doneHead > 1024) {
      this.#done = this.#done.slice(this.#doneHead, this.#doneTail);
      this.#doneAt = this.#doneAt.slice(this.#doneHead, this.#doneTail);
      this.#doneTail -= this.#doneHead;
      this.#doneHead = 0;
    }
    if (this.#doneTimer === undefined) this.#armDone();
  }

  #fire(c: Completion, at: number): void {
    // An entry whose object was taken back (and maybe committed again for another time) is stale.
    if (c.at !== at) return;
    if (c.end === 'device') {
      if (c.state === TRANSFER_STATE.COMMITTED) c.settle();
      return;
    }
    if (c.state !== URB_STATE.COMMITTED) return;
    this.#finish(c);
    if (c.transferType === 'control') this.#control?.controlFired(c);
  }

  /** Fires everything committed but not yet due, as `outcome` (host) / 'purged' (device). */
  abortInFlight(outcome: UrbOutcome): void {
    const q = this.#done;
    const head = this.#doneHead;
    const tail = this.#doneTail;
    this.#done = [];
    this.#doneAt = [];
    this.#doneHead = 0;
    this.#doneTail = 0;
    this.#doneTimer?.cancel();
    this.#doneTimer = undefined;
    // Traffic scheduled after now never happened.
    this.#busyUntil = this.nowUnits();
    for (let i = head; i < tail; i++) {
      const c = q[i]!;
      if (c.end === 'device') {
        if (c.state === TRANSFER_STATE.COMMITTED) c.fail('purged', outcome === 'reset' ? 'bus reset' : 'detach');
      } else if (c.state === URB_STATE.COMMITTED) {
        c.outcome = outcome;
        this.#finish(c);
      }
    }
  }

  /** Completes a URB at once with `outcome`, off the time line (cancel, timeout, teardown). */
  completeNow(urb: LinkUrb, outcome: UrbOutcome): void {
    urb.outcome = outcome;
    this.#finish(urb);
  }

  #finish(urb: LinkUrb): void {
    urb.state = URB_STATE.DONE;
    this.#tap.record(urb, 'C', URB_STATUS[urb.outcome], urb.actual);
    urb.completion?.urbCompleted(urb);
  }
}
