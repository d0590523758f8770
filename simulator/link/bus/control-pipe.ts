/**
 * EP0's serial control pipe: one control transfer at the device at a time, through its stages (SETUP →
 * optional data → status). The function controller answers the current transfer with {@link reply} /
 * {@link stall} (standard requests it handles itself) or with the class driver's stage requests
 * ({@link dataIn}, {@link dataOut}, {@link handshake}).
 *
 * @see USB 2.0 §5.5 (control transfers), §8.5.3 (control transfer stages)
 * @see reference §6.1 (D-UFX), §6.2 (assumptions)
 */
import { CONTROL_PHASE, URB_STATE, type LinkDeviceTransfer, type LinkUrb, type UrbOutcome } from '../link-contract.js';
import type { BusState } from './bus-state.js';
import type { CompletionTimeline, ControlCompletionListener } from './completion-timeline.js';
import { Fifo } from './fifo.js';

export class ControlPipe implements ControlCompletionListener {
  readonly #state: BusState;
  readonly #timeline: CompletionTimeline;
  /** Control URBs waiting for EP0. */
  readonly #queue = new Fifo<LinkUrb>();
  /** The control transfer at the device. */
  #ctl: LinkUrb | undefined;

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

  /** Unlinks a queued control URB (its outcome not yet decided). */
  cancel(urb: LinkUrb, outcome: 'timeout' | 'cancelled'): void {
    if (this.#ctl === urb) {
      // ASSUMPTION (reference §6.2, not documented): the function's EP0 requests for an abandoned
      // setup end with UfxAbort 'purged' (STATUS_CANCELLED); UFX starts on the next SETUP.
      urb.phase = CONTROL_PHASE.ABANDONED;
      this.#ctl = undefined;
      this.#timeline.completeNow(urb, outcome);
      this.startNext();
      return;
    }
    this.#queue.remove(urb);
    this.#timeline.completeNow(urb, outcome);
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
    this.#timeline.commitHost(ctl, 'ok', this.#timeline.reserve(packets * this.#state.slots.control));
  }

  /** STALLs the current control transfer (the stall ends at the next SETUP, USB 2.0 §8.5.3.4). */
  stall(ctl: LinkUrb): void {
    if (!this.#isCurrent(ctl, CONTROL_PHASE.AT_DEVICE) && !this.#isCurrent(ctl, CONTROL_PHASE.STATUS)) return;
    ctl.phase = CONTROL_PHASE.FINISHED;
    this.#timeline.commitHost(ctl, 'stall', this.#timeline.reserve(this.#state.slots.control));
  }

  /**
   * Data stage device→host for the current control transfer (a class driver's TRANSFER_IN on pipe 0).
   * The host gets at most wLength bytes; a shorter answer ends with a short packet, or a ZLP when it is
   * an exact multiple of EP0's wMaxPacketSize (USB 2.0 §8.5.3.2).
   * ASSUMPTION (not documented): an answer longer than wLength is truncated and the transfer completes
   * with the bytes the host took.
   */
  dataIn(ctl: LinkUrb, t: LinkDeviceTransfer): void {
    if (!this.#checkStage(ctl, t, CONTROL_PHASE.AT_DEVICE, true)) return;
    const n = Math.min(t.length, ctl.length);
    if (n > 0) ctl.buffer.set(n === t.length ? t.data : t.data.subarray(0, n));
    ctl.actual = n;
    t.offset = n;
    ctl.phase = CONTROL_PHASE.STATUS;
    this.#timeline.commitDevice(t, this.#timeline.reserve(this.#inDataPackets(n, ctl.length) * this.#state.slots.control));
  }

  /**
   * Data stage host→device into `t` (a class driver's TRANSFER_OUT on pipe 0): wLength bytes arrive.
   * ASSUMPTION (reference §6.2): a buffer smaller than wLength takes what fits and ends with UfxAbort 'overflow'.
   */
  dataOut(ctl: LinkUrb, t: LinkDeviceTransfer): void {
    if (!this.#checkStage(ctl, t, CONTROL_PHASE.AT_DEVICE, false)) return;
    const n = Math.min(t.length, ctl.length);
    if (n > 0) t.data.set(n === ctl.length ? ctl.buffer : ctl.buffer.subarray(0, n));
    t.offset = n;
    ctl.actual = ctl.length;
    if (t.length < ctl.length) {
      t.abortReason = 'overflow';
      t.abortDetail = `wLength ${ctl.length} > buffer ${t.length}`;
    }
    ctl.phase = CONTROL_PHASE.STATUS;
    this.#timeline.commitDevice(t, this.#timeline.reserve(Math.ceil(ctl.length / this.#state.ep0MaxPacket) * this.#state.slots.control));
  }

  /**
   * Status stage (CONTROL_STATUS_HANDSHAKE_IN/OUT): completes the control transfer.
   * With a data stage the handshake must go the opposite way (D-OV); without one either direction is
   * accepted (reference §6.2: the header and USB 2.0 disagree).
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
        t.fail('invalidParameter', `after a ${ctl.isIn ? 'device→host' : 'host→device'} data stage the handshake is ${expected.toUpperCase()} (D-OV)`);
        return;
      }
    }
    const at = this.#timeline.reserve(this.#state.slots.control);
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
