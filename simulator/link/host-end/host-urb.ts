/**
 * A host URB on the simulated link: one libusb transfer as the host controller sees it (usbmon's view,
 * reference usb-captures.md §D.1). Packetization is arithmetic on `actual`; no per-packet objects exist.
 */
import type { IntrusiveList, ListLinks } from '../../runtime/intrusive-list.js';

/** How a URB ended. The host maps it to a libusb outcome, the capture to a usbmon status. */
export type UrbOutcome = 'ok' | 'stall' | 'babble' | 'timeout' | 'cancelled' | 'noDevice' | 'reset';

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

export type UrbTransferKind = 'control' | 'bulk' | 'interrupt';

/** Lifecycle of a URB on the bus. */
export const URB_STATE = {
  /** Created, not submitted. */
  NEW: 0,
  /** In an endpoint queue (or EP0's queue / at the device for control). */
  QUEUED: 1,
  /** Swallowed by an injected fault: only its timeout or a cancel ends it. */
  HELD: 2,
  /** Outcome decided; completes when its bus time has elapsed. */
  COMMITTED: 3,
  /** Completed (onComplete called). */
  DONE: 4,
} as const;
export type UrbState = (typeof URB_STATE)[keyof typeof URB_STATE];

/** Where a control URB is in its stages. */
export const CONTROL_PHASE = { WAITING: 0, AT_DEVICE: 1, STATUS: 2, FINISHED: 3, ABANDONED: 4 } as const;
export type ControlPhase = (typeof CONTROL_PHASE)[keyof typeof CONTROL_PHASE];

export interface HostUrbInit {
  readonly transferType: UrbTransferKind;
  /** Endpoint address with the direction bit (0x81 IN, 0x01 OUT; control: 0x80 IN, 0x00 OUT). */
  readonly endpoint: number;
  /** OUT: the data to send (`length` = its length). IN: the receive buffer (`length` = bytes asked). */
  readonly buffer: Uint8Array;
  /** Control only: the 8 SETUP bytes. */
  readonly setup?: Uint8Array | undefined;
  /** LIBUSB_TRANSFER_ADD_ZERO_PACKET (bulk OUT). */
  readonly zeroPacket?: boolean | undefined;
  readonly onComplete?: ((urb: HostUrb) => void) | undefined;
}

/** Told when a URB completes (see {@link HostUrb.completion}). */
export interface UrbCompletion {
  urbCompleted(urb: HostUrb): void;
}

/** One URB. Fields are public for the bus's hot path; treat them as read-only outside simulator/bus. */
export class HostUrb implements ListLinks<HostUrb> {
  /** usbmon URB tag, assigned by the bus at submission. */
  id = 0;
  readonly transferType: UrbTransferKind;
  readonly endpoint: number;
  readonly isIn: boolean;
  readonly buffer: Uint8Array;
  /** Requested length (control: wLength). */
  readonly length: number;
  readonly zeroPacket: boolean;
  readonly setup: Uint8Array | undefined;
  /** Bytes moved so far. */
  actual = 0;
  /** The terminating zero-length packet was sent. */
  zlpDone = false;
  state: UrbState = URB_STATE.NEW;
  outcome: UrbOutcome = 'ok';
  /** Bus time (units) at which a committed URB completes. */
  at = 0;
  /** Device address the URB was submitted to (usbmon devnum). */
  deviceAddress = 0;
  phase: ControlPhase = CONTROL_PHASE.WAITING;
  onComplete: ((urb: HostUrb) => void) | undefined;
  /**
   * Receives the completion instead of {@link onComplete} when set (an object with a method: no closure
   * per URB on the host's hot path, simulator/bus/urb-runner.ts).
   */
  completion: UrbCompletion | undefined = undefined;
  /** Links of the submitting handle's pending list (simulator/clock/intrusive-list.ts). */
  listPrev: HostUrb | undefined = undefined;
  listNext: HostUrb | undefined = undefined;
  listOwner: IntrusiveList<HostUrb> | undefined = undefined;

  constructor(init: HostUrbInit) {
    this.transferType = init.transferType;
    this.endpoint = init.endpoint;
    this.isIn = (init.endpoint & 0x80) !== 0;
    this.buffer = init.buffer;
    this.setup = init.setup;
    this.zeroPacket = init.zeroPacket ?? false;
    this.onComplete = init.onComplete;
    this.length = init.setup !== undefined ? init.setup[6]! | (init.setup[7]! << 8) : init.buffer.length;
  }

  get bmRequestType(): number {
    return this.setup?.[0] ?? 0;
  }
  get bRequest(): number {
    return this.setup?.[1] ?? 0;
  }
  get wValue(): number {
    return this.setup === undefined ? 0 : this.setup[2]! | (this.setup[3]! << 8);
  }
  get wIndex(): number {
    return this.setup === undefined ? 0 : this.setup[4]! | (this.setup[5]! << 8);
  }
  get wLength(): number {
    return this.setup === undefined ? 0 : this.length;
  }

  /** An OUT URB still owes its terminating ZLP (length 0, or URB_ZERO_PACKET on an exact multiple). */
  needsZlp(maxPacketSize: number): boolean {
    return !this.zlpDone && (this.length === 0 || (this.zeroPacket && this.length % maxPacketSize === 0));
  }
}
