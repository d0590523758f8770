/**
 * Runs one host URB on a bus with libusb semantics: a per-transfer timeout on the host's clock (expiry =
 * libusb cancels the URB, status LIBUSB_TRANSFER_TIMED_OUT) and an AbortSignal (libusb_cancel_transfer,
 * LIBUSB_TRANSFER_CANCELLED). `settle` is called exactly once with the finished URB.
 */
import type { Clock, ClockTimer } from '../../harness/clock.js';
import { type HostUrb, URB_STATE } from './host-urb.js';
import type { VirtualBus } from './virtual-bus.js';

export function runUrb(
  clock: Clock,
  bus: VirtualBus,
  urb: HostUrb,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  settle: (urb: HostUrb) => void,
): void {
  if (signal?.aborted) {
    urb.state = URB_STATE.DONE;
    urb.outcome = 'cancelled';
    settle(urb);
    return;
  }
  let timer: ClockTimer | undefined;
  let onAbort: (() => void) | undefined;
  urb.onComplete = (u) => {
    timer?.cancel();
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    settle(u);
  };
  bus.submit(urb);
  if (urb.state === URB_STATE.DONE) return;
  if (timeoutMs > 0) timer = clock.setTimer(timeoutMs, () => bus.cancel(urb, 'timeout'));
  if (signal !== undefined) {
    onAbort = () => {
      bus.cancel(urb, 'cancelled');
    };
    signal.addEventListener('abort', onAbort, { once: true });
  }
}

/** A receive buffer without zero-filling (the bus writes every byte it reports). */
export function allocBuffer(length: number): Uint8Array {
  const b = Buffer.allocUnsafe(length);
  return new Uint8Array(b.buffer, b.byteOffset, length);
}

