import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/index.js';
import { AbiDecodeError } from './decode-error.js';
import {
  USBFN_NOTIFICATION_SIZE,
  USBFN_NOTIFICATION_UNION_OFFSET,
  decodeUsbfnNotification,
  encodeUsbfnNotification,
  type UsbfnNotification,
} from './notification.js';

const b = (...v: number[]): Uint8Array => Uint8Array.from(v);

// Golden vectors (docs/reference/structs.md#usbfn-notification): Event u32 @0, union @4.
const GOLDEN: readonly (readonly [string, UsbfnNotification, Uint8Array])[] = [
  ['attach', { type: 'attach' }, b(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)],
  ['reset high', { type: 'reset', busSpeed: 2 }, b(2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0)],
  ['detach full', { type: 'detach', busSpeed: 1 }, b(3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0)],
  ['suspend', { type: 'suspend' }, b(4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)],
  ['resume', { type: 'resume' }, b(5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)],
  [
    'setupPacket',
    { type: 'setupPacket', setupPacket: { bmRequestType: 0xa1, bRequest: 0x01, wValue: 0x0200, wIndex: 0x0003, wLength: 0x0040 } },
    // prettier-ignore
    b(6, 0, 0, 0,  0xa1, 0x01, 0x00, 0x02, 0x03, 0x00, 0x40, 0x00),
  ],
  ['configured 1', { type: 'configured', configurationValue: 1 }, b(7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0)],
  ['configured 0x1234', { type: 'configured', configurationValue: 0x1234 }, b(7, 0, 0, 0, 0x34, 0x12, 0, 0, 0, 0, 0, 0)],
  ['unConfigured', { type: 'unConfigured' }, b(8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)],
  ['portType', { type: 'portType', portType: 3 }, b(9, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0)],
  ['busTearDown', { type: 'busTearDown' }, b(10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)],
  [
    'setInterface',
    { type: 'setInterface', interfaceNumber: 0x0102, alternateInterfaceNumber: 0x0304 },
    b(11, 0, 0, 0, 0x02, 0x01, 0x04, 0x03, 0, 0, 0, 0),
  ],
  ['unknown 0x1234', { type: 'unknown', event: 0x1234, raw: b(1, 2, 3, 4, 5, 6, 7, 8) }, b(0x34, 0x12, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8)],
  ['UsbfnEventMinimum', { type: 'unknown', event: 0, raw: new Uint8Array(8) }, new Uint8Array(12)],
  ['UsbfnEventMaximum', { type: 'unknown', event: 12, raw: new Uint8Array(8) }, b(12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)],
];

describe('USBFN_NOTIFICATION (docs/reference/structs.md#usbfn-notification)', () => {
  it('is 12 bytes with the union at offset 4', () => {
    expect(USBFN_NOTIFICATION_SIZE).toBe(12);
    expect(USBFN_NOTIFICATION_UNION_OFFSET).toBe(4);
  });

  it.each(GOLDEN)('%s: encode and decode the golden vector', (_name, n, bytes) => {
    expect(encodeUsbfnNotification(n)).toEqual(bytes);
    expect(decodeUsbfnNotification(bytes)).toEqual(n);
  });

  it('keeps out-of-range bus speeds raw instead of failing', () => {
    expect(decodeUsbfnNotification(b(2, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0))).toEqual({ type: 'reset', busSpeed: 9 });
  });

  it('decodes from a view with a byte offset', () => {
    const backing = new Uint8Array(15);
    backing.set(GOLDEN[1]![2], 3);
    expect(decodeUsbfnNotification(backing.subarray(3))).toEqual({ type: 'reset', busSpeed: 2 });
  });

  it('clears stale bytes when encoding into a reused buffer', () => {
    const t = new Uint8Array(12).fill(0xff);
    expect(encodeUsbfnNotification({ type: 'attach' }, t)).toEqual(GOLDEN[0]![2]);
  });

  it('rejects wrong sizes and bad fields', () => {
    expect(() => decodeUsbfnNotification(new Uint8Array(11))).toThrow(AbiDecodeError);
    expect(() => decodeUsbfnNotification(new Uint8Array(13))).toThrow(/too long/);
    expect(() => decodeUsbfnNotification(new Uint8Array(0))).toThrow(/USBFN_NOTIFICATION/);
    expect(() => encodeUsbfnNotification({ type: 'configured', configurationValue: 0x10000 })).toThrow(UsageError);
    expect(() => encodeUsbfnNotification({ type: 'unknown', event: 20, raw: new Uint8Array(7) })).toThrow(UsageError);
    expect(() => encodeUsbfnNotification({ type: 'attach' }, new Uint8Array(11))).toThrow(UsageError);
  });
});
