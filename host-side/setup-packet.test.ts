import { describe, expect, it } from 'vitest';
import { UsageError, type UsbRecipient, type UsbRequestType } from '../core/index.js';
import {
  bmRequestTypeOf,
  buildSetup,
  classInterface,
  clearEndpointHaltSetup,
  decodeSetup,
  describeSetup,
  encodeSetup,
  getDescriptorSetup,
  vendorDevice,
} from './setup-packet.js';

describe('setup packet builder', () => {
  it('computes bmRequestType for every type × recipient × direction (USB 2.0 Table 9-2)', () => {
    const types: [UsbRequestType, number][] = [['standard', 0x00], ['class', 0x20], ['vendor', 0x40]];
    const recips: [UsbRecipient, number][] = [['device', 0], ['interface', 1], ['endpoint', 2], ['other', 3]];
    for (const [t, tb] of types) {
      for (const [r, rb] of recips) {
        expect(bmRequestTypeOf('out', t, r)).toBe(tb | rb);
        expect(bmRequestTypeOf('in', t, r)).toBe(0x80 | tb | rb);
      }
    }
  });

  it('encodes GET_DESCRIPTOR(device) as the 8 golden bytes', () => {
    const p = buildSetup(getDescriptorSetup(1), 'in', 18);
    expect(Array.from(encodeSetup(p))).toEqual([0x80, 0x06, 0x00, 0x01, 0x00, 0x00, 0x12, 0x00]);
  });

  it('encodes a class OUT to interface 2 with 16-bit fields little-endian', () => {
    const p = buildSetup(classInterface(2, 0x07, 0x1234, 0x81), 'out', 0x0201);
    expect(p).toEqual({ bmRequestType: 0x21, bRequest: 0x07, wValue: 0x1234, wIndex: 0x8102, wLength: 0x0201 });
    expect(Array.from(encodeSetup(p))).toEqual([0x21, 0x07, 0x34, 0x12, 0x02, 0x81, 0x01, 0x02]);
  });

  it('encodes into a target buffer at an offset', () => {
    const buf = new Uint8Array(12).fill(0xee);
    encodeSetup(buildSetup(vendorDevice(0x42, 1, 2), 'in', 4), buf, 2);
    expect(Array.from(buf)).toEqual([0xee, 0xee, 0xc0, 0x42, 1, 0, 2, 0, 4, 0, 0xee, 0xee]);
  });

  it('builds CLEAR_FEATURE(ENDPOINT_HALT) to an endpoint', () => {
    expect(Array.from(encodeSetup(buildSetup(clearEndpointHaltSetup(0x81), 'out', 0)))).toEqual([0x02, 0x01, 0, 0, 0x81, 0, 0, 0]);
  });

  it('round-trips through decode and describe', () => {
    const bytes = Uint8Array.from([0xa1, 0x0a, 0x05, 0x00, 0x03, 0x00, 0x30, 0x00]);
    const p = decodeSetup(bytes);
    expect(Array.from(encodeSetup(p))).toEqual(Array.from(bytes));
    expect(describeSetup(p)).toEqual({
      direction: 'in',
      requestType: 'class',
      recipient: 'interface',
      request: 0x0a,
      value: 5,
      index: 3,
      length: 0x30,
    });
  });

  it('rejects out-of-range fields with INVALID_ARGUMENT naming the field', () => {
    const ok = classInterface(0, 1);
    expect(() => buildSetup({ ...ok, value: 0x10000 }, 'in', 0)).toThrow(/wValue 65536/);
    expect(() => buildSetup({ ...ok, index: -1 }, 'in', 0)).toThrow(/wIndex -1/);
    expect(() => buildSetup(ok, 'in', 70000)).toThrow(/wLength 70000/);
    expect(() => buildSetup({ ...ok, request: 256 }, 'in', 0)).toThrow(/bRequest 256/);
    expect(() => buildSetup({ ...ok, value: 1.5 }, 'in', 0)).toThrow(UsageError);
    expect(() => classInterface(300, 1)).toThrow(/interface number/);
    expect(() => bmRequestTypeOf('in', 'bogus' as UsbRequestType, 'device')).toThrow(/unknown requestType/);
  });

  it('rejects short or reserved packets when decoding', () => {
    expect(() => decodeSetup(new Uint8Array(7))).toThrow(/8 bytes/);
    expect(() => describeSetup(decodeSetup(Uint8Array.from([0x60, 0, 0, 0, 0, 0, 0, 0])))).toThrow(/reserved/);
    expect(() => describeSetup(decodeSetup(Uint8Array.from([0x04, 0, 0, 0, 0, 0, 0, 0])))).toThrow(/reserved/);
  });
});
