/**
 * The bus's capture tap: every URB submission ('S'), completion ('C') and submission error ('E') as a
 * usbmon event (simulator/capture/urb-event.ts), with Linux's status and flag values.
 */
import type { Clock } from '../../../core/index.js';
import type { UrbEvent, UrbSink } from '../../capture/index.js';
import type { LinkUrb, UrbOutcome } from '../link-contract.js';

/**
 * usbmon `status` per outcome (negative errno, Linux `drivers/usb/mon/mon_bin.c` semantics).
 * A libusb timeout is an unlink from user space, so usbmon shows -ECONNRESET for it as for a cancel;
 * a host-initiated port reset disables the endpoints (-ESHUTDOWN); a detach gives -ENODEV.
 */
export const URB_STATUS: Readonly<Record<UrbOutcome, number>> = {
  ok: 0,
  stall: -32, // -EPIPE
  babble: -75, // -EOVERFLOW
  timeout: -104, // -ECONNRESET (libusb cancels the URB when its timeout expires)
  cancelled: -104, // -ECONNRESET
  noDevice: -19, // -ENODEV
  reset: -108, // -ESHUTDOWN
};

/** usbmon status of a submission ('S'). */
export const URB_STATUS_IN_PROGRESS = -115; // -EINPROGRESS

/** urb->transfer_flags bits (Linux include/linux/usb.h). */
export const URB_FLAGS = { URB_SHORT_NOT_OK: 0x1, URB_ZERO_PACKET: 0x40, URB_DIR_IN: 0x200 } as const;

/** Writes URB events to the capture sink, when there is one. */
export class UrbTap {
  /** The capture sink; undefined = no capture (nothing is built). */
  sink: UrbSink | undefined;
  readonly #clock: Clock;
  readonly #busNumber: number;
  /** bInterval of an endpoint (the packet engine's pipe). */
  readonly #intervalOf: (endpoint: number) => number;

  constructor(clock: Clock, busNumber: number, sink: UrbSink | undefined, intervalOf: (endpoint: number) => number) {
    this.#clock = clock;
    this.#busNumber = busNumber;
    this.sink = sink;
    this.#intervalOf = intervalOf;
  }

  record(urb: LinkUrb, kind: 'S' | 'C' | 'E', status: number, length: number): void {
    const sink = this.sink;
    if (sink === undefined) return;
    const isIn = urb.isIn;
    const isControl = urb.transferType === 'control';
    let data: Uint8Array | undefined;
    if (kind === 'S' && !isIn && urb.length > 0) data = urb.buffer.subarray(0, urb.length);
    else if (kind === 'C' && isIn && length > 0) data = urb.buffer.subarray(0, length);
    const event: UrbEvent = {
      urbId: urb.id,
      kind,
      transferType: urb.transferType,
      endpoint: isControl ? (isIn ? 0x80 : 0x00) : urb.endpoint,
      deviceAddress: urb.deviceAddress,
      busNumber: this.#busNumber,
      timeUs: this.#clock.now() * 1000,
      status,
      length,
      setup: kind === 'S' || kind === 'E' ? urb.setup : undefined,
      data,
      transferFlags: (isIn ? URB_FLAGS.URB_DIR_IN : 0) | (urb.zeroPacket ? URB_FLAGS.URB_ZERO_PACKET : 0),
      interval: urb.transferType === 'interrupt' ? this.#intervalOf(urb.endpoint) : undefined,
    };
    sink.record(event);
  }
}
