/**
 * The USB chapter-9 vocabulary, declared once for every layer: the SETUP packet's fields, the standard
 * request codes and feature selectors, bmRequestType's bit fields, descriptor types, bus speeds and the
 * endpoint-address helpers.
 *
 * Only names and constants live here. The codecs that turn them into bytes stay separate on purpose (the
 * device's ABI codec, the host's builder and the simulator's descriptor writer are checked against each
 * other, so one wrong codec shared by all three could not hide a bug).
 *
 * @see USB 2.0 §9.3 (Table 9-2 Format of Setup Data), §9.4 (Tables 9-4, 9-5, 9-6), USB 3.2 Table 9-6
 */

/** The eight bytes of a SETUP stage, fields verbatim from USB 2.0 Table 9-2. */
export interface SetupPacket {
  readonly bmRequestType: number;
  readonly bRequest: number;
  readonly wValue: number;
  readonly wIndex: number;
  readonly wLength: number;
}

/** Standard bRequest codes (USB 2.0 Table 9-4). */
export const USB_REQUEST = {
  GET_STATUS: 0x00,
  CLEAR_FEATURE: 0x01,
  SET_FEATURE: 0x03,
  SET_ADDRESS: 0x05,
  GET_DESCRIPTOR: 0x06,
  SET_DESCRIPTOR: 0x07,
  GET_CONFIGURATION: 0x08,
  SET_CONFIGURATION: 0x09,
  GET_INTERFACE: 0x0a,
  SET_INTERFACE: 0x0b,
  SYNCH_FRAME: 0x0c,
} as const;

/** Standard feature selectors (USB 2.0 Table 9-6). */
export const USB_FEATURE = { ENDPOINT_HALT: 0x00, DEVICE_REMOTE_WAKEUP: 0x01, TEST_MODE: 0x02 } as const;

/** bmRequestType bit 7 (USB 2.0 §9.3.1). */
export const USB_DIR = { OUT: 0x00, IN: 0x80 } as const;
/** Direction of a data stage or an endpoint, host-centric as in the spec: `in` = device → host. */
export type UsbDirection = 'in' | 'out';

/** WebUSB vocabulary for bmRequestType bits 5–6 (the value 3 is reserved). */
export type UsbRequestType = 'standard' | 'class' | 'vendor';
/** WebUSB vocabulary for bmRequestType bits 0–4 (values 4–31 are reserved). */
export type UsbRecipient = 'device' | 'interface' | 'endpoint' | 'other';

/** bmRequestType bits 6..5 by type. */
export const USB_REQUEST_TYPE: Readonly<Record<UsbRequestType, number>> = { standard: 0x00, class: 0x20, vendor: 0x40 };
/** bmRequestType bits 4..0 by recipient. */
export const USB_RECIPIENT: Readonly<Record<UsbRecipient, number>> = { device: 0x00, interface: 0x01, endpoint: 0x02, other: 0x03 };

/** bDescriptorType values (USB 2.0 Table 9-5, USB 3.2 Table 9-6). */
export const USB_DT = {
  DEVICE: 0x01,
  CONFIGURATION: 0x02,
  STRING: 0x03,
  INTERFACE: 0x04,
  ENDPOINT: 0x05,
  DEVICE_QUALIFIER: 0x06,
  OTHER_SPEED_CONFIGURATION: 0x07,
  INTERFACE_POWER: 0x08,
  INTERFACE_ASSOCIATION: 0x0b,
  BOS: 0x0f,
  DEVICE_CAPABILITY: 0x10,
  SS_ENDPOINT_COMPANION: 0x30,
} as const;

/** bmAttributes bits 1..0 of an endpoint descriptor (USB 2.0 Table 9-13). */
export const USB_ENDPOINT_TYPE = { CONTROL: 0, ISOCHRONOUS: 1, BULK: 2, INTERRUPT: 3 } as const;
export type UsbTransferType = 'control' | 'isochronous' | 'bulk' | 'interrupt';
const TRANSFER_TYPES: readonly UsbTransferType[] = ['control', 'isochronous', 'bulk', 'interrupt'];
/** The transfer type named by an endpoint descriptor's bmAttributes. */
export function transferTypeOf(bmAttributes: number): UsbTransferType {
  return TRANSFER_TYPES[bmAttributes & 0x03]!;
}

/** A bus speed by its spec name (low 1.5, full 12, high 480, super 5000 Mb/s). */
export type UsbSpeed = 'low' | 'full' | 'high' | 'super';
/** The speeds a USB function controller can run at here (function controllers do not do low speed). */
export type UsbDeviceSpeed = Exclude<UsbSpeed, 'low'>;

/** wMaxPacketSize of a bulk endpoint at each speed (USB 2.0 §5.8.3, USB 3.2 §8.6). */
export const BULK_MAX_PACKET_SIZE: Readonly<Record<UsbDeviceSpeed, number>> = { full: 64, high: 512, super: 1024 };

/** True for an IN endpoint address (bit 7 set). */
export function isInEndpoint(address: number): boolean {
  return (address & USB_DIR.IN) !== 0;
}

/** The endpoint number (bits 3..0) of an endpoint address. */
export function endpointNumber(address: number): number {
  return address & 0x0f;
}

/** A dense index for per-endpoint tables: 0..15 for OUT endpoints, 16..31 for IN endpoints. */
export function endpointIndex(address: number): number {
  return (address & 0x0f) | (isInEndpoint(address) ? 16 : 0);
}

/** `0x81`-style hex for messages (STYLE: hex in messages); `digits` pads the value. */
export function hex(value: number, digits = 2): string {
  return `0x${value.toString(16).padStart(digits, '0')}`;
}

/** The bmRequestType byte of a direction, type and recipient (USB 2.0 Table 9-2). */
export function bmRequestType(direction: UsbDirection, type: UsbRequestType, recipient: UsbRecipient): number {
  return (direction === 'in' ? USB_DIR.IN : USB_DIR.OUT) | USB_REQUEST_TYPE[type] | USB_RECIPIENT[recipient];
}
