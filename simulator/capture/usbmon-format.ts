/**
 * Constants of the classic pcap container and of the usbmon binary header (`struct usbmon_packet`),
 * shared by the writer and the reader (docs/reference/captures.md#usbmon-header, Linux
 * `Documentation/usb/usbmon.rst`, `drivers/usb/mon/mon_bin.c`).
 */
import type { UrbTransferType } from './urb-event.js';

/** Classic pcap magic (microsecond timestamps); written in the writer's byte order (we write LE). */
export const PCAP_MAGIC = 0xa1b2c3d4;
/** Classic pcap magic with nanosecond timestamps (read only). */
export const PCAP_MAGIC_NS = 0xa1b23c4d;
/** pcap global header size. */
export const PCAP_GLOBAL_HEADER_BYTES = 24;
/** pcap per-record header size (ts_sec, ts_usec, incl_len, orig_len). */
export const PCAP_RECORD_HEADER_BYTES = 16;
/** LINKTYPE_USB_LINUX_MMAPPED: usbmon binary with the 64-byte header. */
export const LINKTYPE_USB_LINUX_MMAPPED = 220;
/** LINKTYPE_USB_LINUX: the same layout truncated to 48 bytes (read only). */
export const LINKTYPE_USB_LINUX = 189;
/** `struct usbmon_packet` size for LINKTYPE 220. */
export const USBMON_HEADER_BYTES = 64;
/** Default snaplen (libpcap's usbmon default, 256 KiB). */
export const DEFAULT_SNAPLEN = 0x40000;

/** usbmon `xfer_type` (mon_bin.c `xfer_to_pipe`). */
export const USBMON_XFER_TYPE: Readonly<Record<UrbTransferType, number>> = {
  isochronous: 0,
  interrupt: 1,
  control: 2,
  bulk: 3,
};
/** Inverse of {@link USBMON_XFER_TYPE}, indexed by the byte value. */
export const USBMON_XFER_TYPE_NAME: readonly UrbTransferType[] = ['isochronous', 'interrupt', 'control', 'bulk'];

/** flag_setup / flag_data byte values (ASCII tags; 0 = valid / present). */
export const USBMON_FLAG = {
  PRESENT: 0,
  /** '-': not a control submit (flag_setup). */
  NOT_SETUP: 0x2d,
  /** 'Z': no setup / no buffer. */
  NONE: 0x5a,
  /** '<': IN submit, data comes with the completion (flag_data). */
  IN_SUBMIT: 0x3c,
  /** '>': OUT completion, data was in the submit (flag_data). */
  OUT_COMPLETE: 0x3e,
  /** 'E': error event (flag_data). */
  ERROR: 0x45,
} as const;

/** Event type bytes. */
export const USBMON_EVENT = { S: 0x53, C: 0x43, E: 0x45 } as const;

/** Status values usbmon records (negative errno, Linux `errno-base.h` / `errno.h`). */
export const USBMON_STATUS = {
  OK: 0,
  /** -ENOENT: URB killed (usb_kill_urb). */
  ENOENT: -2,
  /** -ENODEV: device gone. */
  ENODEV: -19,
  /** -EPIPE: endpoint stalled. */
  EPIPE: -32,
  /** -EPROTO: bitstuff/protocol error. */
  EPROTO: -71,
  /** -EOVERFLOW: babble. */
  EOVERFLOW: -75,
  /** -ECONNRESET: unlinked (cancelled by usb_unlink_urb). */
  ECONNRESET: -104,
  /** -ESHUTDOWN: host controller or device shut down. */
  ESHUTDOWN: -108,
  /** -ETIMEDOUT */
  ETIMEDOUT: -110,
  /** -EINPROGRESS: every submit record. */
  EINPROGRESS: -115,
  /** -EREMOTEIO: short packet with URB_SHORT_NOT_OK. */
  EREMOTEIO: -121,
} as const;

/** urb->transfer_flags bits usbmon copies into xfer_flags (include/linux/usb.h). */
export const URB_FLAG = {
  URB_SHORT_NOT_OK: 0x0001,
  URB_ZERO_PACKET: 0x0040,
  URB_DIR_IN: 0x0200,
} as const;
