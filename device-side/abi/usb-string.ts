/**
 * USBFN_USB_STRING (usbfnbase.h): the 512-byte input of IOCTL_GENERICUSBFN_REGISTER_USB_STRING.
 * StringIndex u8 @0, padding @1, UsbString[255] WCHAR @2 (align 2).
 *
 * @see docs/reference/structs.md#usbfn-usb-string
 */
import { abiEncodeError, requireExactBytes, requireInt, requireTarget } from './decode-error.js';
import { MAX_USB_STRING_LENGTH } from './usbfn-types.js';
import { readWideString, writeWideString } from './wide-string.js';

export const USBFN_USB_STRING_SIZE = 512;
export const USBFN_USB_STRING_OFFSETS = { StringIndex: 0, UsbString: 2 } as const;

/** A string descriptor to register: index and text (≤ 255 WCHARs). */
export interface UsbfnUsbString {
  readonly stringIndex: number;
  readonly usbString: string;
}

const S = 'USBFN_USB_STRING';

/**
 * Writes a 512-byte USBFN_USB_STRING. A 255-WCHAR string fills the array with no NUL (the header gives
 * no room for one); shorter strings are NUL-padded.
 * @throws UsageError ABI_ENCODE for a string longer than MAX_USB_STRING_LENGTH (255) or an index > 255.
 */
export function encodeUsbfnUsbString(s: UsbfnUsbString, target?: Uint8Array): Uint8Array {
  requireInt(S, 'StringIndex', s.stringIndex, 0, 0xff);
  if (s.usbString.length > MAX_USB_STRING_LENGTH) {
    throw abiEncodeError(S, 'UsbString', `${s.usbString.length} WCHARs exceed MAX_USB_STRING_LENGTH (${MAX_USB_STRING_LENGTH})`);
  }
  const out = target ?? new Uint8Array(USBFN_USB_STRING_SIZE);
  requireTarget(S, out, USBFN_USB_STRING_SIZE, 0);
  out[0] = s.stringIndex; // @0 StringIndex
  out[1] = 0; //            @1 padding
  writeWideString(out, 2, s.usbString, MAX_USB_STRING_LENGTH, { nulTerminate: false, struct: S, field: 'UsbString' });
  return out;
}

/** Decodes a USBFN_USB_STRING. @throws AbiDecodeError unless exactly 512 bytes. */
export function decodeUsbfnUsbString(bytes: Uint8Array): UsbfnUsbString {
  requireExactBytes(S, bytes, USBFN_USB_STRING_SIZE);
  return { stringIndex: bytes[0]!, usbString: readWideString(bytes, 2, MAX_USB_STRING_LENGTH).text };
}
