/**
 * Runs one host URB on a bus with libusb semantics: a per-transfer timeout on the host's clock (expiry =
 * libusb cancels the URB, status LIBUSB_TRANSFER_TIMED_OUT) and an AbortSignal (libusb_cancel_transfer,
 * LIBUSB_TRANSFER_CANCELLED). The URB's settle step runs exactly once with the finished URB.
 *
 * Hot path (every bulk transfer of the host): one {@link UrbRun} per URB is its completion receiver, its
 * abort subscriber and its timer's target, so a URB costs no closures beyond its timeout callback.
 */
import type { Clock, ClockTimer } from '../../../core/index.js';
import { abortFanout, type AbortFanout, type AbortSubscriber } from '../../runtime/abort-fanout.js';
import type { IntrusiveList } from '../../runtime/intrusive-list.js';
import { type HostUrb, type UrbCompletion, URB_STATE } from './host-urb.js';
import type { VirtualBus } from '../bus/virtual-bus.js';

/**
 * One URB in flight: its timeout timer and its subscription to the abort signal. Subclasses say what
 * settling means ({@link settle}); {@link runUrb} takes a callback instead.
 */
export abstract class UrbRun implements AbortSubscriber, UrbCompletion {
  timer: ClockTimer | undefined = undefined;
  fanout: AbortFanout | undefined = undefined;
  listPrev: AbortSubscriber | undefined = undefined;
  listNext: AbortSubscriber | undefined = undefined;
  listOwner: IntrusiveList<AbortSubscriber> | undefined = undefined;
  bus: VirtualBus | undefined = undefined;
  urb: HostUrb | undefined = undefined;

  /** The URB finished (its outcome is set): called exactly once. */
  protected abstract settle(urb: HostUrb): void;

  /**
   * Submits `urb` on `bus` with `timeoutMs` (0 = none) and `signal`; {@link settle} runs once it ends
   * (at once when `signal` already aborted or nothing is connected).
   */
  start(clock: Clock, bus: VirtualBus, urb: HostUrb, timeoutMs: number, signal: AbortSignal | undefined): void {
    // The fan-out answers `aborted` without a property load on the signal (see AbortFanout.aborted).
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
    // An inline arrow, not a named function value: tsx/esbuild's keepNames would redefine `name` on every
    // named closure (Object.defineProperty per URB).
    if (timeoutMs > 0) this.timer = clock.setTimer(timeoutMs, () => this.expire());
    if (fanout !== undefined) {
      this.fanout = fanout;
      fanout.add(this);
    }
  }

  /** libusb_cancel_transfer when the signal aborts. */
  signalAborted(): void {
    this.fanout = undefined;
    this.bus?.cancel(this.urb!, 'cancelled');
  }

  /** The libusb timeout expired: the URB is unlinked with LIBUSB_TRANSFER_TIMED_OUT. */
  expire(): void {
    this.timer = undefined;
    this.bus?.cancel(this.urb!, 'timeout');
  }

  /** The bus completed the URB. */
  urbCompleted(u: HostUrb): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.fanout?.delete(this);
    this.fanout = undefined;
    this.settle(u);
  }
}

class CallbackUrbRun extends UrbRun {
  constructor(readonly callback: (urb: HostUrb) => void) {
    super();
  }
  protected settle(urb: HostUrb): void {
    this.callback(urb);
  }
}

/** Runs `urb` (see {@link UrbRun.start}); `settle` is called exactly once with the finished URB. */
export function runUrb(
  clock: Clock,
  bus: VirtualBus,
  urb: HostUrb,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  settle: (urb: HostUrb) => void,
): void {
  new CallbackUrbRun(settle).start(clock, bus, urb, timeoutMs, signal);
}

/** A receive buffer without zero-filling (the bus writes every byte it reports). */
export function allocBuffer(length: number): Uint8Array {
  const b = Buffer.allocUnsafe(length);
  return new Uint8Array(b.buffer, b.byteOffset, length);
}
