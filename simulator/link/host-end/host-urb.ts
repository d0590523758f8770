/**
 * A host URB on the simulated link: one libusb transfer as the host controller sees it (usbmon's view,
 * docs/reference/captures.md#usbmon-header). The bus moves it through the {@link LinkUrb} contract.
 */
import type { IntrusiveList, ListLinks } from '../../runtime/index.js';
import {
  CONTROL_PHASE,
  URB_STATE,
  type ControlPhase,
  type LinkUrb,
  type UrbCompletion,
  type UrbOutcome,
  type UrbState,
  type UrbTransferKind,
} from '../link-contract.js';

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
}

/** One URB. Fields are public for the bus's hot path; treat them as read-only outside simulator/link. */
export class HostUrb implements LinkUrb, ListLinks<HostUrb> {
  readonly end = 'host';
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
  /** Told when the URB completes (its UrbRun, urb-run.ts). */
  completion: UrbCompletion | undefined = undefined;
  /** Links of the submitting handle's pending list (simulator/runtime/intrusive-list.ts). */
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

/** Below this length a receive buffer is a plain zero-filled Uint8Array (cheaper than a slice of Node's Buffer pool). */
const UNPOOLED_BELOW = 4096;

/**
 * A receive buffer (the bus writes every byte it reports). Large ones skip zero-filling; small ones (control
 * transfers) are plain arrays: Buffer.allocUnsafe's pool slicing and its refills cost more than filling a
 * few bytes.
 */
export function allocBuffer(length: number): Uint8Array {
  if (length < UNPOOLED_BELOW) return new Uint8Array(length);
  const b = Buffer.allocUnsafe(length);
  return new Uint8Array(b.buffer, b.byteOffset, length);
}
