/**
 * EP0's serial control pipe: one control transfer at the device at a time, through its stages (SETUP →
 * optional data → status). The function controller answers the current transfer with {@link reply} /
 * {@link stall} (standard requests it handles itself) or with the class driver's stage requests
 * ({@link dataIn}, {@link dataOut}, {@link handshake}).
 *
 * @see USB 2.0 §5.5 (control transfers), §8.5.3 (control transfer stages)
 * @see docs/reference/documented-vs-inferred.md#link (*UFX page*; the inferred rules by id)
 */
import {
  CONTROL_PHASE,
  TRANSFER_STATE,
  URB_STATE,
  type LinkDeviceTransfer,
  type LinkUrb,
  type TransferQueue,
  type UrbOutcome,
} from '../link-contract.js';
import type { BusState } from './bus-state.js';
import type { CompletionTimeline, ControlCompletionListener } from './completion-timeline.js';
import { Fifo } from './fifo.js';
import { BURST_STAGE, Burst, InFlight, lastOnTheBus, type BurstStage } from './in-flight.js';

export class ControlPipe implements ControlCompletionListener, TransferQueue {
  readonly #state: BusState;
  readonly #timeline: CompletionTimeline;
  /** Control URBs waiting for EP0. */
  readonly #queue = new Fifo<LinkUrb>();
  /** The control transfer at the device. */
  #ctl: LinkUrb | undefined;
  /** Stages whose packets are still on the wire (in-flight.ts). */
  readonly #inFlight = new InFlight();

  constructor(state: BusState, timeline: CompletionTimeline) {
    this.#state = state;
    this.#timeline = timeline;
  }

  /** The control transfer currently at the device, if any. */
  get current(): LinkUrb | undefined {
    return this.#ctl;
  }

  /** Queues a submitted control URB; it goes to the device when EP0 is free. */
  submit(urb: LinkUrb): void {
    this.#queue.push(urb);
    this.startNext();
  }

  /**
   * Unlinks a control URB (libusb cancel or timeout) and completes it with `outcome`. A stage still on the
   * wire stops at the current bus time: the URB keeps the data bytes that had crossed, and the function's
   * EP0 request of that stage ends 'purged'. Returns false when the outcome can no longer change.
   */
  cancel(urb: LinkUrb, outcome: 'timeout' | 'cancelled'): boolean;
  /** {@link TransferQueue.cancel} for a function's EP0 request (data stage or handshake). */
  cancel(transfer: LinkDeviceTransfer): boolean;
  cancel(x: LinkUrb | LinkDeviceTransfer, outcome?: 'timeout' | 'cancelled'): boolean {
    return x.end === 'host' ? this.#cancelUrb(x, outcome ?? 'cancelled') : this.#cancelTransfer(x);
  }

  #cancelUrb(urb: LinkUrb, outcome: 'timeout' | 'cancelled'): boolean {
    if (this.#ctl === urb) {
      const now = this.#timeline.nowUnits();
      const index = this.#inFlight.firstLive(urb, now);
      if (index >= 0) {
        for (const t of this.#stopOnTheWire(index, now)) t.fail('purged', 'the host abandoned this control transfer (timeout, cancel, reset or detach)');
      } else if (urb.state !== URB_STATE.QUEUED) return false;
      // ASSUMPTION(link-ep0-misuse): the function's EP0 requests for an abandoned setup end with UfxAbort
      // 'purged' (STATUS_CANCELLED); UFX starts on the next SETUP.
      urb.phase = CONTROL_PHASE.ABANDONED;
      this.#ctl = undefined;
      this.#timeline.completeNow(urb, outcome);
      this.startNext();
      return true;
    }
    if (urb.state !== URB_STATE.QUEUED) return false;
    this.#queue.remove(urb);
    this.#timeline.completeNow(urb, outcome);
    return true;
  }

  /**
   * The function cancelled its data stage or handshake (CancelIoEx, handle close, removal) while its packets
   * were on the wire: they stop at the current bus time, the request ends 'cancelled' with the bytes that had
   * crossed, and the host's control transfer goes back to waiting for that stage (NAK) until its timeout.
   * ASSUMPTION(link-stop-in-flight).
   */
  #cancelTransfer(t: LinkDeviceTransfer): boolean {
    const ctl = this.#ctl;
    const now = this.#timeline.nowUnits();
    const index = this.#inFlight.firstLive(t, now);
    if (ctl === undefined || index < 0) return false;
    const first = this.#inFlight.stageAt(index);
    for (const other of this.#stopOnTheWire(index, now)) {
      if (other !== t) other.fail('purged', 'the stage before it was cancelled');
    }
    ctl.state = URB_STATE.QUEUED;
    ctl.outcome = 'ok';
    ctl.phase = first === BURST_STAGE.DATA || ctl.length === 0 ? CONTROL_PHASE.AT_DEVICE : CONTROL_PHASE.STATUS;
    t.fail('cancelled');
    return true;
  }

  /**
   * Stops EP0's stages on the wire at `now` from run `index` on (in-flight.ts); gives the bus time back when
   * nothing was reserved after it. Returns the function's EP0 requests of those stages (still to be ended).
   */
  #stopOnTheWire(index: number, now: number): LinkDeviceTransfer[] {
    const { bursts, packetsDone } = this.#inFlight.cutFrom(index, now);
    const first = bursts[0];
    if (first === undefined) return [];
    if (lastOnTheBus(bursts, this.#timeline.busyUntil)) this.#timeline.release(first.start + packetsDone * first.slot);
    const out: LinkDeviceTransfer[] = [];
    for (const b of bursts) if (b.transfer !== undefined && b.transfer.state !== TRANSFER_STATE.DONE && !out.includes(b.transfer)) out.push(b.transfer);
    return out;
  }

  /** Detach or reset at `now`: a stage with packets on the wire keeps only what had crossed. */
  cutInFlight(now: number): void {
    this.#inFlight.cutAll(now);
  }

  /** Reserves `packets` control slots for a stage of `ctl` (with the function's request `t`) and records it as in flight. */
  #run(ctl: LinkUrb, t: LinkDeviceTransfer | undefined, stage: BurstStage, packets: number, urbBytes: number, transferBytes: number, overflow = false): number {
    const timeline = this.#timeline;
    const slot = this.#state.slots.control;
    const units = packets * slot;
    const end = timeline.reserve(units);
    const urbBefore = stage === BURST_STAGE.STATUS ? ctl.actual : 0;
    this.#inFlight.add(
      new Burst(ctl, t, stage, end - units, end, packets, slot, this.#state.ep0MaxPacket, urbBytes, transferBytes, urbBefore, 0, false, false, 0, overflow),
      timeline.nowUnits(),
    );
    return end;
  }

  /** Detach or reset: the current transfer and every queued one end with `outcome`. */
  teardown(outcome: UrbOutcome): void {
    const ctl = this.#ctl;
    this.#ctl = undefined;
    if (ctl !== undefined && ctl.state === URB_STATE.QUEUED) this.#timeline.completeNow(ctl, outcome);
    for (const urb of this.#queue.drain()) this.#timeline.completeNow(urb, outcome);
  }

  /** The time line completed a committed control URB: EP0 is free for the next. */
  controlFired(urb: LinkUrb): void {
    if (this.#ctl !== urb) return;
    this.#ctl = undefined;
    this.startNext();
  }

  /** Hands the next queued control URB to the device (SETUP stage) when EP0 is free and the bus runs. */
  startNext(): void {
    const state = this.#state;
    if (this.#ctl !== undefined || state.suspended || !state.connected) return;
    const urb = this.#queue.shift();
    if (urb === undefined) return;
    this.#ctl = urb;
    urb.phase = CONTROL_PHASE.AT_DEVICE;
    this.#timeline.reserve(state.slots.control); // SETUP stage
    if (state.device === undefined) {
      this.stall(urb);
      return;
    }
    state.device.setup(urb);
  }

  /**
   * Completes the current control transfer as answered by the controller itself (standard requests):
   * IN: `data` truncated to wLength; OUT/no-data: acknowledged. Costs data packets + status stage.
   */
  reply(ctl: LinkUrb, data?: Uint8Array): void {
    if (!this.#isCurrent(ctl, CONTROL_PHASE.AT_DEVICE)) return;
    let packets = 1; // status stage
    if (ctl.isIn) {
      const n = Math.min(data?.length ?? 0, ctl.length);
      if (n > 0) ctl.buffer.set(n === data!.length ? data! : data!.subarray(0, n));
      ctl.actual = n;
      packets += this.#inDataPackets(n, ctl.length);
    } else if (ctl.length > 0) {
      ctl.actual = ctl.length;
      packets += Math.ceil(ctl.length / this.#state.ep0MaxPacket);
    }
    ctl.phase = CONTROL_PHASE.FINISHED;
    this.#timeline.commitHost(ctl, 'ok', this.#run(ctl, undefined, BURST_STAGE.REPLY, packets, ctl.actual, 0));
  }

  /** STALLs the current control transfer (the stall ends at the next SETUP, USB 2.0 §8.5.3.4). */
  stall(ctl: LinkUrb): void {
    if (!this.#isCurrent(ctl, CONTROL_PHASE.AT_DEVICE) && !this.#isCurrent(ctl, CONTROL_PHASE.STATUS)) return;
    ctl.phase = CONTROL_PHASE.FINISHED;
    this.#timeline.commitHost(ctl, 'stall', this.#run(ctl, undefined, BURST_STAGE.STATUS, 1, 0, 0));
  }

  /**
   * Data stage device→host for the current control transfer (a class driver's TRANSFER_IN on pipe 0).
   * The host gets at most wLength bytes; a shorter answer ends with a short packet, or a ZLP when it is
   * an exact multiple of EP0's wMaxPacketSize (USB 2.0 §8.5.3.2).
   * ASSUMPTION(link-control-lengths): an answer longer than wLength is truncated and the transfer completes
   * with the bytes the host took.
   */
  dataIn(ctl: LinkUrb, t: LinkDeviceTransfer): void {
    if (!this.#checkStage(ctl, t, CONTROL_PHASE.AT_DEVICE, true)) return;
    const n = Math.min(t.length, ctl.length);
    if (n > 0) ctl.buffer.set(n === t.length ? t.data : t.data.subarray(0, n));
    ctl.actual = n;
    t.offset = n;
    t.queue = this;
    ctl.phase = CONTROL_PHASE.STATUS;
    this.#timeline.commitDevice(t, this.#run(ctl, t, BURST_STAGE.DATA, this.#inDataPackets(n, ctl.length), n, n));
  }

  /**
   * Data stage host→device into `t` (a class driver's TRANSFER_OUT on pipe 0): wLength bytes arrive.
   * ASSUMPTION(link-control-lengths): a buffer smaller than wLength takes what fits and ends with UfxAbort 'overflow'.
   */
  dataOut(ctl: LinkUrb, t: LinkDeviceTransfer): void {
    if (!this.#checkStage(ctl, t, CONTROL_PHASE.AT_DEVICE, false)) return;
    const n = Math.min(t.length, ctl.length);
    if (n > 0) t.data.set(n === ctl.length ? ctl.buffer : ctl.buffer.subarray(0, n));
    t.offset = n;
    t.queue = this;
    ctl.actual = ctl.length;
    const overflow = t.length < ctl.length;
    if (overflow) {
      t.abortReason = 'overflow';
      t.abortDetail = `wLength ${ctl.length} > buffer ${t.length}`;
    }
    ctl.phase = CONTROL_PHASE.STATUS;
    this.#timeline.commitDevice(t, this.#run(ctl, t, BURST_STAGE.DATA, Math.ceil(ctl.length / this.#state.ep0MaxPacket), ctl.length, n, overflow));
  }

  /**
   * Status stage (CONTROL_STATUS_HANDSHAKE_IN/OUT): completes the control transfer.
   * With a data stage the handshake must go the opposite way (*Service page*); without one either direction
   * is accepted: ASSUMPTION(drv-no-data-handshake), usbfnbase.h and USB 2.0 §8.5.3 disagree.
   */
  handshake(ctl: LinkUrb, t: LinkDeviceTransfer, direction: 'in' | 'out'): void {
    if (ctl.phase === CONTROL_PHASE.ABANDONED || ctl.state !== URB_STATE.QUEUED || this.#ctl !== ctl) {
      t.fail('purged', 'the host abandoned this control transfer (timeout, cancel, reset or detach)');
      return;
    }
    if (ctl.phase === CONTROL_PHASE.AT_DEVICE && ctl.length > 0) {
      t.fail('invalidParameter', `the request has a ${ctl.length}-byte data stage: send TRANSFER_${ctl.isIn ? 'IN' : 'OUT'} on pipe 0 before the handshake`);
      return;
    }
    if (ctl.phase === CONTROL_PHASE.STATUS) {
      const expected = ctl.isIn ? 'out' : 'in';
      if (direction !== expected) {
        t.fail('invalidParameter', `after a ${ctl.isIn ? 'device→host' : 'host→device'} data stage the handshake is ${expected.toUpperCase()} (Service page)`);
        return;
      }
    }
    t.queue = this;
    const at = this.#run(ctl, t, BURST_STAGE.STATUS, 1, 0, 0);
    ctl.phase = CONTROL_PHASE.FINISHED;
    this.#timeline.commitDevice(t, at);
    this.#timeline.commitHost(ctl, 'ok', at);
  }

  #isCurrent(ctl: LinkUrb, phase: number): boolean {
    return this.#ctl === ctl && ctl.state === URB_STATE.QUEUED && ctl.phase === phase;
  }

  #checkStage(ctl: LinkUrb, t: LinkDeviceTransfer, phase: number, wantIn: boolean): boolean {
    if (this.#ctl !== ctl || ctl.state !== URB_STATE.QUEUED || ctl.phase === CONTROL_PHASE.ABANDONED) {
      t.fail('purged', 'the host abandoned this control transfer (timeout, cancel, reset or detach)');
      return false;
    }
    if (ctl.phase !== phase) {
      t.fail('invalidState', 'the data stage of this control transfer is already done: send the handshake');
      return false;
    }
    if (ctl.isIn !== wantIn || ctl.length === 0) {
      t.fail(
        'invalidParameter',
        ctl.length === 0
          ? 'the request has no data stage (wLength 0): answer with the handshake only'
          : `the request's data stage is ${ctl.isIn ? 'device→host: use TRANSFER_IN' : 'host→device: use TRANSFER_OUT'} on pipe 0`,
      );
      return false;
    }
    return true;
  }

  /** Packets of a control IN data stage carrying n of wLength bytes (USB 2.0 §8.5.3.2). */
  #inDataPackets(n: number, wLength: number): number {
    if (wLength === 0) return 0;
    if (n === 0) return 1;
    const mps = this.#state.ep0MaxPacket;
    return Math.ceil(n / mps) + (n < wLength && n % mps === 0 ? 1 : 0);
  }
}
