/**
 * Runs one host URB on a bus with libusb semantics: a per-transfer timeout on the host's clock (expiry =
 * libusb cancels the URB, status LIBUSB_TRANSFER_TIMED_OUT) and an AbortSignal (libusb_cancel_transfer,
 * LIBUSB_TRANSFER_CANCELLED). The URB's settle step runs exactly once with the finished URB.
 *
 * A {@link UrbRun} is a {@link PendingOp} (simulator/runtime/pending-op.ts: one object per URB is its
 * completion receiver, abort subscriber and timer target, and holds the caller's promise).
 */
import type { Clock } from '../../../core/index.js';
import { abortFanout, PendingOp } from '../../runtime/index.js';
import type { VirtualBus } from '../bus/index.js';
import { URB_STATE, type UrbCompletion } from '../link-contract.js';
import type { HostUrb } from './host-urb.js';

/**
 * One URB in flight. Subclasses say what settling means ({@link settle}): it maps the finished URB to
 * the caller's result `T`.
 */
export abstract class UrbRun<T> extends PendingOp<T> implements UrbCompletion {
  bus: VirtualBus | undefined = undefined;
  urb: HostUrb | undefined = undefined;

  /** The URB finished (its outcome is set): called exactly once. */
  protected abstract settle(urb: HostUrb): void;

  /**
   * Submits `urb` on `bus` with `timeoutMs` (0 = none) and `signal`; {@link settle} runs once it ends
   * (at once when `signal` already aborted or nothing is connected).
   */
  start(clock: Clock, bus: VirtualBus, urb: HostUrb, timeoutMs: number, signal: AbortSignal | undefined): void {
    const fanout = signal === undefined ? undefined : abortFanout(signal);
    if (fanout?.aborted) {
      urb.state = URB_STATE.DONE;
      urb.outcome = 'cancelled';
      this.settle(urb);
      return;
    }
    this.bus = bus;
    this.urb = urb;
    urb.completion = this;
    bus.submit(urb);
    if (urb.state === URB_STATE.DONE) return;
    if (timeoutMs > 0) this.startTimeout(clock, timeoutMs);
    if (fanout !== undefined) this.watchAbort(fanout);
  }

  /** libusb_cancel_transfer when the signal aborts. */
  protected override onAbort(): void {
    this.bus?.cancel(this.urb!, 'cancelled');
  }

  /** The libusb timeout expired: the URB is unlinked with LIBUSB_TRANSFER_TIMED_OUT. */
  protected override onTimeout(): void {
    this.bus?.cancel(this.urb!, 'timeout');
  }

  /** The bus completed the URB. */
  urbCompleted(): void {
    this.stopWaiting();
    this.settle(this.urb!);
  }
}

/** A URB whose result is the finished URB itself (enumeration and the handle's chapter-9 requests). */
export class PlainUrbRun extends UrbRun<HostUrb> {
  protected settle(urb: HostUrb): void {
    this.resolve(urb);
  }
}
