import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/index.js';
import { AbiDecodeError } from './decode-error.js';
import { USBFN_USB_STRING_OFFSETS, USBFN_USB_STRING_SIZE, decodeUsbfnUsbString, encodeUsbfnUsbString } from './usb-string.js';

describe('USBFN_USB_STRING (docs/reference/structs.md#usbfn-usb-string)', () => {
  it('is 512 bytes: StringIndex @0, padding @1, UsbString @2', () => {
    expect(USBFN_USB_STRING_SIZE).toBe(512);
    expect(USBFN_USB_STRING_OFFSETS).toEqual({ StringIndex: 0, UsbString: 2 });
    expect(2 + 255 * 2).toBe(512);
  });

  it('encodes and decodes the golden vector', () => {
    const golden = new Uint8Array(512);
    golden.set([0x05, 0x00, 0x41, 0x00, 0xe9, 0x00, 0xac, 0x20], 0); // index 5, 'A', 'é', '€'
    expect(encodeUsbfnUsbString({ stringIndex: 5, usbString: 'Aé€' })).toEqual(golden);
    expect(decodeUsbfnUsbString(golden)).toEqual({ stringIndex: 5, usbString: 'Aé€' });
  });

  it('fills all 255 WCHARs without a NUL and rejects 256', () => {
    const max = 'z'.repeat(255);
    const bytes = encodeUsbfnUsbString({ stringIndex: 1, usbString: max });
    expect(bytes[510]).toBe(0x7a);
    expect(decodeUsbfnUsbString(bytes).usbString).toBe(max);
    expect(() => encodeUsbfnUsbString({ stringIndex: 1, usbString: max + 'z' })).toThrow(UsageError);
    expect(() => encodeUsbfnUsbString({ stringIndex: 256, usbString: '' })).toThrow(/StringIndex/);
  });

  it('rejects wrong sizes', () => {
    expect(() => decodeUsbfnUsbString(new Uint8Array(511))).toThrow(AbiDecodeError);
    expect(() => decodeUsbfnUsbString(new Uint8Array(513))).toThrow(AbiDecodeError);
  });
});
