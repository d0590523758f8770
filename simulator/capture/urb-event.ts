/**
 * What the simulated link reports to a capture sink: one record per URB submission and completion,
 * with usbmon (`struct usbmon_packet`) semantics (docs/reference/captures.md#usbmon-header). The bus produces
 * these; `simulator/capture` turns them into a pcap (LINKTYPE_USB_LINUX_MMAPPED = 220).
 */

/** usbmon xfer_type */
export type UrbTransferType = 'isochronous' | 'interrupt' | 'control' | 'bulk';

export interface UrbEvent {
  /** URB tag, equal in the submit and completion records of one URB. */
  readonly urbId: number;
  /** 'S' submit, 'C' complete, 'E' submission error. */
  readonly kind: 'S' | 'C' | 'E';
  readonly transferType: UrbTransferType;
  /** Endpoint number | 0x80 for IN (direction from the URB: a control IN is 0x80). */
  readonly endpoint: number;
  readonly deviceAddress: number;
  readonly busNumber: number;
  /** Virtual time of the event in microseconds. */
  readonly timeUs: number;
  /** -115 (-EINPROGRESS) on submit; 0 OK, -32 EPIPE stall, -121 EREMOTEIO short, -104 ECONNRESET unlinked, -108 ESHUTDOWN, -19 ENODEV, -75 EOVERFLOW, -110 ETIMEDOUT... on completion. */
  readonly status: number;
  /** Requested length on 'S', actual length on 'C'. */
  readonly length: number;
  /** The 8-byte SETUP packet on a control 'S'. */
  readonly setup?: Uint8Array | undefined;
  /** OUT data on 'S', IN data on 'C' (a view; the sink copies what it keeps). */
  readonly data?: Uint8Array | undefined;
  /** urb->transfer_flags (0x200 URB_DIR_IN, 0x40 URB_ZERO_PACKET, 0x1 URB_SHORT_NOT_OK). */
  readonly transferFlags: number;
  /** Interrupt/iso only. */
  readonly interval?: number | undefined;
}

/** Receives URB events from the simulated link. */
export interface UrbSink {
  record(event: UrbEvent): void;
}
