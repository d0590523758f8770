/**
 * USB/IP protocol constants, version 1.1.1 (`0x0111`): message codes, sizes and field values as the Linux
 * kernel documents them (Documentation/usb/usbip_protocol.rst) and as its stub driver, vhci-hcd and the
 * `usbip` userland use them. Every field on the wire is big-endian.
 *
 * Two phases on one TCP connection: an operation (`OP_REQ_DEVLIST` → `OP_REP_DEVLIST`, then the server
 * closes; or `OP_REQ_IMPORT` → `OP_REP_IMPORT`), then, after a successful import, URB traffic in fixed
 * 48-byte `usbip_header`s (`USBIP_CMD_SUBMIT` / `USBIP_RET_SUBMIT`, `USBIP_CMD_UNLINK` / `USBIP_RET_UNLINK`)
 * pipelined and matched by `seqnum`.
 *
 * @see https://docs.kernel.org/usb/usbip_protocol.html
 */

/** The protocol version in every operation header (v1.1.1). */
export const USBIP_VERSION = 0x0111;

/** IANA-registered USB/IP port. */
export const USBIP_PORT = 3240;

/** Operation codes (`op_common.code`): requests have bit 15 set. */
export const USBIP_OP = {
  OP_REQ_DEVLIST: 0x8005,
  OP_REP_DEVLIST: 0x0005,
  OP_REQ_IMPORT: 0x8003,
  OP_REP_IMPORT: 0x0003,
} as const;
export type UsbIpOpName = keyof typeof USBIP_OP;

/** `op_common.status` of a reply (the userland's `ST_*`). */
export const USBIP_ST = {
  ST_OK: 0x00,
  /** Device requested for import is not available. */
  ST_NA: 0x01,
  /** Device requested for import is in use. */
  ST_DEV_BUSY: 0x02,
  /** Device requested for import is in an error state. */
  ST_DEV_ERR: 0x03,
  ST_NODEV: 0x04,
  ST_ERROR: 0x05,
} as const;

/** `usbip_header_basic.command` of the URB phase. */
export const USBIP_COMMAND = {
  USBIP_CMD_SUBMIT: 0x0001,
  USBIP_CMD_UNLINK: 0x0002,
  USBIP_RET_SUBMIT: 0x0003,
  USBIP_RET_UNLINK: 0x0004,
} as const;
export type UsbIpCommandName = keyof typeof USBIP_COMMAND;

/** `usbip_header_basic.direction`. */
export const USBIP_DIR = { USBIP_DIR_OUT: 0, USBIP_DIR_IN: 1 } as const;

/** `urb->transfer_flags` bits that cross the wire (Linux include/linux/usb.h). */
export const URB_FLAG = {
  URB_SHORT_NOT_OK: 0x0001,
  URB_ISO_ASAP: 0x0002,
  URB_NO_TRANSFER_DMA_MAP: 0x0004,
  URB_ZERO_PACKET: 0x0040,
  URB_NO_INTERRUPT: 0x0080,
  URB_FREE_BUFFER: 0x0100,
  URB_DIR_IN: 0x0200,
} as const;

/** `enum usb_device_speed` (Linux include/uapi/linux/usb/ch9.h), the `speed` field of a device record. */
export const USB_SPEED = {
  USB_SPEED_UNKNOWN: 0,
  USB_SPEED_LOW: 1,
  USB_SPEED_FULL: 2,
  USB_SPEED_HIGH: 3,
  USB_SPEED_WIRELESS: 4,
  USB_SPEED_SUPER: 5,
  USB_SPEED_SUPER_PLUS: 6,
} as const;

/** Byte sizes of the protocol's structures. */
export const USBIP_BYTES = {
  /** `op_common`: version (2), code (2), status (4). */
  OP_COMMON: 8,
  /** `usbip_usb_device.path`. */
  PATH: 256,
  /** `usbip_usb_device.busid` (and `op_import_request.busid`). */
  BUSID: 32,
  /** `usbip_usb_device`: path, busid, busnum, devnum, speed, ids and the six class/count bytes. */
  DEVICE: 312,
  /** `usbip_usb_interface`: class, subclass, protocol, padding. */
  INTERFACE: 4,
  /** `usbip_header` of the URB phase: the 20-byte basic header and a 28-byte command part. */
  HEADER: 48,
  /** `usbip_iso_packet_descriptor`: offset, length, actual_length, status. */
  ISO_PACKET_DESCRIPTOR: 16,
} as const;

/** `number_of_packets` of a non-isochronous URB as the protocol document states it (`0xffffffff`); Linux sends 0. */
export const USBIP_NOT_ISO_PACKETS = 0xffffffff;

/**
 * Most isochronous packet descriptors a `USBIP_CMD_SUBMIT` may announce before the server treats it as
 * malformed (our bound: Linux's stub bounds it by the transfer length over wMaxPacketSize).
 */
export const USBIP_MAX_ISO_PACKETS = 1024;
