import { describe, expect, it } from 'vitest';
import { USB_DT, UsageError } from '../../core/index.js';
import { AbiDecodeError } from './decode-error.js';
import {
  USB_ENDPOINT_DESCRIPTOR_SIZE,
  USB_ENDPOINT_TYPE_BULK,
  USB_ENDPOINT_TYPE_INTERRUPT,
  USB_INTERFACE_DESCRIPTOR_SIZE,
  decodeEndpointDescriptor,
  decodeInterfaceDescriptor,
  encodeEndpointDescriptor,
  encodeInterfaceDescriptor,
  splitDescriptors,
} from './descriptors.js';

const ep = { bLength: 7, bDescriptorType: 5, bEndpointAddress: 0x81, bmAttributes: 0x02, wMaxPacketSize: 0x0200, bInterval: 0 };
// prettier-ignore
const epBytes = Uint8Array.of(
  0x07,       // @0 bLength
  0x05,       // @1 bDescriptorType
  0x81,       // @2 bEndpointAddress
  0x02,       // @3 bmAttributes (bulk)
  0x00, 0x02, // @4 wMaxPacketSize 512 LE, unaligned
  0x00,       // @6 bInterval
);
const intf = {
  bLength: 9,
  bDescriptorType: 4,
  bInterfaceNumber: 1,
  bAlternateSetting: 2,
  bNumEndpoints: 3,
  bInterfaceClass: 0xff,
  bInterfaceSubClass: 0x5a,
  bInterfaceProtocol: 0xa5,
  iInterface: 7,
};
const intfBytes = Uint8Array.of(0x09, 0x04, 0x01, 0x02, 0x03, 0xff, 0x5a, 0xa5, 0x07);

describe('USB_ENDPOINT_DESCRIPTOR (docs/reference/structs.md#usb-endpoint-descriptor)', () => {
  it('is 7 bytes and round-trips the golden vector', () => {
    expect(USB_ENDPOINT_DESCRIPTOR_SIZE).toBe(7);
    expect(USB_DT.ENDPOINT).toBe(5);
    expect([USB_ENDPOINT_TYPE_BULK, USB_ENDPOINT_TYPE_INTERRUPT]).toEqual([2, 3]);
    expect(encodeEndpointDescriptor(ep)).toEqual(epBytes);
    expect(decodeEndpointDescriptor(epBytes)).toEqual(ep);
  });

  it('defaults bLength/bDescriptorType and writes at an offset (wMaxPacketSize unaligned)', () => {
    const t = new Uint8Array(10);
    encodeEndpointDescriptor({ bEndpointAddress: 0x02, bmAttributes: 3, wMaxPacketSize: 0x1234, bInterval: 9 }, t, 3);
    expect([...t]).toEqual([0, 0, 0, 7, 5, 0x02, 3, 0x34, 0x12, 9]);
    expect(decodeEndpointDescriptor(t, 3).wMaxPacketSize).toBe(0x1234);
  });

  it('rejects bad input', () => {
    expect(() => decodeEndpointDescriptor(epBytes.subarray(0, 6))).toThrow(AbiDecodeError);
    expect(() => encodeEndpointDescriptor({ ...ep, wMaxPacketSize: 70000 })).toThrow(UsageError);
    expect(() => encodeEndpointDescriptor({ ...ep, bEndpointAddress: 256 })).toThrow(/bEndpointAddress/);
  });
});

describe('USB_INTERFACE_DESCRIPTOR', () => {
  it('is 9 bytes and round-trips the golden vector', () => {
    expect(USB_INTERFACE_DESCRIPTOR_SIZE).toBe(9);
    expect(USB_DT.INTERFACE).toBe(4);
    expect(encodeInterfaceDescriptor(intf)).toEqual(intfBytes);
    expect(decodeInterfaceDescriptor(intfBytes)).toEqual(intf);
  });

  it('rejects bad input', () => {
    expect(() => decodeInterfaceDescriptor(intfBytes.subarray(1))).toThrow(AbiDecodeError);
    expect(() => encodeInterfaceDescriptor({ ...intf, iInterface: 300 })).toThrow(/iInterface/);
  });
});

describe('splitDescriptors', () => {
  const classSpecific = Uint8Array.of(0x05, 0x24, 0x00, 0x10, 0x01);
  const blob = new Uint8Array([...intfBytes, ...classSpecific, ...epBytes, ...epBytes]);

  it('walks a registry InterfaceDescriptor blob by bLength', () => {
    const parts = splitDescriptors(blob);
    expect(parts.map((p) => [p.offset, p.bLength, p.bDescriptorType])).toEqual([
      [0, 9, 4],
      [9, 5, 0x24],
      [14, 7, 5],
      [21, 7, 5],
    ]);
    expect(parts[2]!.bytes).toEqual(epBytes);
    expect(splitDescriptors(new Uint8Array(0))).toEqual([]);
  });

  it('errors on bLength 0 or 1 and on overrun', () => {
    expect(() => splitDescriptors(Uint8Array.of(9, 4, 0, 0, 0, 0, 0, 0, 0, 0))).toThrow(/bLength 0 at offset 9/);
    expect(() => splitDescriptors(Uint8Array.of(1, 4))).toThrow(AbiDecodeError);
    expect(() => splitDescriptors(blob.subarray(0, blob.length - 1))).toThrow(/runs past the end/);
  });
});
