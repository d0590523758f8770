/**
 * What the two ends of the simulated link and the bus between them agree on. The host end
 * (simulator/link/host-end: `HostUrb`) and the device end (simulator/link/device-end: `DeviceTransfer`)
 * implement these shapes; the bus (simulator/link/bus) moves data between them knowing nothing else of
 * either end. Speeds are core's `UsbDeviceSpeed`.
 *
 * Fields are public and mutable for the bus's hot path (no accessors on every packet); outside the
 * link treat them as read-only.
 *
 * @see docs/simulator-link.md
 */

// ---------------------------------------------------------------------------------------------
// The device end's requests (what the GenericUSBFn model sees of UFX)

/** Why UFX ended a request without completing it. The GenericUSBFn model maps each to an NTSTATUS. */
export type UfxAbortReason =
  /** Cancelled by the class driver (CancelIoEx / handle close) → STATUS_CANCELLED. */
  | 'cancelled'
  /** Queue purged by reset, detach or SET_CONFIGURATION(0) → STATUS_CANCELLED (*UFX page*). */
  | 'purged'
  /** Sent while the endpoint's queue is not usable (not configured / purged) → STATUS_INVALID_DEVICE_STATE (ASSUMPTION(drv-invalid-state)). */
  | 'invalidState'
  /** Bad endpoint, direction or parameters → STATUS_INVALID_PARAMETER (ASSUMPTION(drv-bad-pipe)). */
  | 'invalidParameter'
  /** The host sent more than the buffer holds → STATUS_BUFFER_OVERFLOW (ASSUMPTION(drv-out-overflow)). */
  | 'overflow';

/** A request UFX ended without completing it. */
export class UfxAbort extends Error {
  readonly reason: UfxAbortReason;
  /** Bytes moved before the end (OUT: received into the buffer; IN: taken by the host). */
  readonly bytesTransferred: number;
  constructor(reason: UfxAbortReason, bytesTransferred = 0, detail?: string) {
    super(`UFX request ended: ${reason}${detail ? ` (${detail})` : ''}`);
    this.reason = reason;
    this.bytesTransferred = bytesTransferred;
  }
}

/** A queued endpoint request: its result, and a way to cancel it (CancelIoEx). */
export interface UfxRequest<T> {
  /** Resolves with bytes transferred; rejects with {@link UfxAbort}. */
  readonly result: Promise<T>;
  /** Cancels if still pending (rejects `result` with UfxAbort 'cancelled'); returns false if already done. */
  cancel(): boolean;
}

/** Lifecycle of a device transfer on the bus. */
export const TRANSFER_STATE = { QUEUED: 0, COMMITTED: 1, DONE: 2 } as const;
export type TransferState = (typeof TRANSFER_STATE)[keyof typeof TRANSFER_STATE];

/** The pipe a device transfer was given to (a bus endpoint, or EP0's control pipe): it cancels it. */
export interface TransferQueue {
  /**
   * Cancels `transfer` (CancelIoEx, handle close, removal): one still waiting leaves the queue; one whose
   * packets are on the wire stops at the current bus time with the bytes that had crossed, and the other
   * side's URB waits for more (NAK). Returns false when its outcome can no longer change (its bus time has
   * elapsed: it completes normally).
   */
  cancel(transfer: LinkDeviceTransfer): boolean;
}

/**
 * The DeviceTransfer contract: a transfer the function side queued on an endpoint (TRANSFER_IN /
 * TRANSFER_IN_APPEND_ZERO_PKT / TRANSFER_OUT, or an EP0 stage) as the bus moves it.
 */
export interface LinkDeviceTransfer {
  /** Tells the bus's completion queue the two kinds apart. */
  readonly end: 'device';
  /** IN: the data to send. OUT: the buffer receiving host data. */
  readonly data: Uint8Array;
  readonly length: number;
  /** Bytes sent (IN) or received (OUT) so far. */
  offset: number;
  zlpDone: boolean;
  state: TransferState;
  /** Bus time (units) of completion once committed. */
  at: number;
  /** Set when the transfer ends without completing. */
  abortReason: UfxAbortReason | undefined;
  abortDetail: string | undefined;
  /** The pipe it was given to (for cancel), from queueing until it ends. */
  queue: TransferQueue | undefined;
  /** An IN transfer still owes its zero-length packet at this wMaxPacketSize. */
  needsZlp(maxPacketSize: number): boolean;
  /** Ends the transfer now with `reason` (bytes moved so far are reported). */
  fail(reason: UfxAbortReason, detail?: string): void;
  /** Delivers a committed outcome (called by the bus when its bus time has elapsed). */
  settle(): void;
}

// ---------------------------------------------------------------------------------------------
// The host end's URBs (what the host controller sees of libusb)

/** How a URB ended. The host maps it to a libusb outcome, the capture to a usbmon status. */
export type UrbOutcome = 'ok' | 'stall' | 'babble' | 'timeout' | 'cancelled' | 'noDevice' | 'reset';

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
  /** Completed (its completion receiver was told). */
  DONE: 4,
} as const;
export type UrbState = (typeof URB_STATE)[keyof typeof URB_STATE];

/** Where a control URB is in its stages. */
export const CONTROL_PHASE = { WAITING: 0, AT_DEVICE: 1, STATUS: 2, FINISHED: 3, ABANDONED: 4 } as const;
export type ControlPhase = (typeof CONTROL_PHASE)[keyof typeof CONTROL_PHASE];

/** Told when a URB completes (an object with a method: no closure per URB on the host's hot path). */
export interface UrbCompletion {
  urbCompleted(urb: LinkUrb): void;
}

/**
 * A host URB as the bus moves it: one libusb transfer as the host controller sees it (usbmon's view,
 * docs/reference/captures.md#usbmon-header). Packetization is arithmetic on `actual`; no per-packet objects exist.
 */
export interface LinkUrb {
  /** Tells the bus's completion queue the two kinds apart. */
  readonly end: 'host';
  /** usbmon URB tag, assigned by the bus at submission. */
  id: number;
  readonly transferType: UrbTransferKind;
  /** Endpoint address with the direction bit (0x81 IN, 0x01 OUT; control: 0x80 IN, 0x00 OUT). */
  readonly endpoint: number;
  readonly isIn: boolean;
  /** OUT: the data to send. IN: the receive buffer. */
  readonly buffer: Uint8Array;
  /** Requested length (control: wLength). */
  readonly length: number;
  /** LIBUSB_TRANSFER_ADD_ZERO_PACKET (URB_ZERO_PACKET). */
  readonly zeroPacket: boolean;
  /** Control only: the 8 SETUP bytes. */
  readonly setup: Uint8Array | undefined;
  readonly bmRequestType: number;
  readonly bRequest: number;
  readonly wValue: number;
  readonly wIndex: number;
  /** Bytes moved so far. */
  actual: number;
  /** The terminating zero-length packet was sent. */
  zlpDone: boolean;
  state: UrbState;
  outcome: UrbOutcome;
  /** Bus time (units) at which a committed URB completes. */
  at: number;
  /** Device address the URB was submitted to (usbmon devnum). */
  deviceAddress: number;
  phase: ControlPhase;
  /** Told when the URB completes. */
  completion: UrbCompletion | undefined;
  /** An OUT URB still owes its terminating ZLP (length 0, or URB_ZERO_PACKET on an exact multiple). */
  needsZlp(maxPacketSize: number): boolean;
}
