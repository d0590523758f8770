/**
 * Runs one host URB on a bus with libusb semantics: a per-transfer timeout on the host's clock (expiry =
 * libusb cancels the URB, status LIBUSB_TRANSFER_TIMED_OUT) and an AbortSignal (libusb_cancel_transfer,
 * LIBUSB_TRANSFER_CANCELLED). `settle` is called exactly once with the finished URB.
 */
import type { Clock, ClockTimer } from '../../harness/clock.js';
import { abortFanout, type AbortFanout, type AbortSubscriber } from '../clock/abort-fanout.js';
import type { IntrusiveList } from '../clock/intrusive-list.js';
import { type HostUrb, URB_STATE } from './host-urb.js';
import type { VirtualBus } from './virtual-bus.js';

/** One URB in flight: its timeout timer and its subscription to the abort signal. */
class UrbRun implements AbortSubscriber {
  timer: ClockTimer | undefined = undefined;
  fanout: AbortFanout | undefined = undefined;
  listPrev: AbortSubscriber | undefined = undefined;
  listNext: AbortSubscriber | undefined = undefined;
  listOwner: IntrusiveList<AbortSubscriber> | undefined = undefined;
  constructor(
    readonly bus: VirtualBus,
    readonly urb: HostUrb,
    readonly settle: (urb: HostUrb) => void,
  ) {}

  /** libusb_cancel_transfer when the signal aborts. */
  signalAborted(): void {
    this.fanout = undefined;
    this.bus.cancel(this.urb, 'cancelled');
  }

  /** The libusb timeout expired: the URB is unlinked with LIBUSB_TRANSFER_TIMED_OUT. */
  expire(): void {
    this.timer = undefined;
    this.bus.cancel(this.urb, 'timeout');
  }

  done(u: HostUrb): void {
    this.timer?.cancel();
    this.fanout?.delete(this);
    this.settle(u);
  }
}

export function runUrb(
  clock: Clock,
  bus: VirtualBus,
  urb: HostUrb,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  settle: (urb: HostUrb) => void,
): void {
  // The fan-out answers `aborted` without a property load on the signal (see AbortFanout.aborted).
  const fanout = signal === undefined ? undefined : abortFanout(signal);
  if (fanout?.aborted) {
    urb.state = URB_STATE.DONE;
    urb.outcome = 'cancelled';
    settle(urb);
    return;
  }
  const run = new UrbRun(bus, urb, settle);
  urb.onComplete = (u) => run.done(u);
  bus.submit(urb);
  if (urb.state === URB_STATE.DONE) return;
  // An inline arrow, not a named function value: tsx/esbuild's keepNames would redefine `name` on every
  // named closure (Object.defineProperty per URB).
  if (timeoutMs > 0) run.timer = clock.setTimer(timeoutMs, () => run.expire());
  if (fanout !== undefined) {
    run.fanout = fanout;
    fanout.add(run);
  }
}

/** A receive buffer without zero-filling (the bus writes every byte it reports). */
export function allocBuffer(length: number): Uint8Array {
  const b = Buffer.allocUnsafe(length);
  return new Uint8Array(b.buffer, b.byteOffset, length);
}

