import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/index.js';
import { AbiDecodeError } from './decode-error.js';
import {
  USB_DEFAULT_PIPE_SETUP_PACKET_SIZE,
  decodeSetupPacket,
  encodeSetupPacket,
  makeBmRequestType,
  parseBmRequestType,
} from './setup-packet.js';

describe('USB_DEFAULT_PIPE_SETUP_PACKET (docs/reference/structs.md#usb-default-pipe-setup-packet)', () => {
  const packet = { bmRequestType: 0xa1, bRequest: 0x01, wValue: 0x0302, wIndex: 0x0504, wLength: 0x0706 };
  // prettier-ignore
  const bytes = Uint8Array.of(
    0xa1,       // @0 bmRequestType
    0x01,       // @1 bRequest
    0x02, 0x03, // @2 wValue LE
    0x04, 0x05, // @4 wIndex LE
    0x06, 0x07, // @6 wLength LE
  );

  it('is 8 bytes and encodes/decodes the golden vector both ways', () => {
    expect(USB_DEFAULT_PIPE_SETUP_PACKET_SIZE).toBe(8);
    expect(encodeSetupPacket(packet)).toEqual(bytes);
    expect(decodeSetupPacket(bytes)).toEqual(packet);
  });

  it('encodes into a target at an offset and decodes from an offset', () => {
    const target = new Uint8Array(12).fill(0xee);
    encodeSetupPacket(packet, target, 4);
    expect(target.subarray(0, 4)).toEqual(Uint8Array.of(0xee, 0xee, 0xee, 0xee));
    expect(target.subarray(4)).toEqual(bytes);
    expect(decodeSetupPacket(target, 4)).toEqual(packet);
  });

  it('rejects short buffers and out-of-range fields', () => {
    expect(() => decodeSetupPacket(bytes.subarray(0, 7))).toThrow(AbiDecodeError);
    expect(() => decodeSetupPacket(bytes, 1)).toThrow(/expected 8 bytes, got 7/);
    expect(() => encodeSetupPacket({ ...packet, wLength: 0x10000 })).toThrow(UsageError);
    expect(() => encodeSetupPacket({ ...packet, bRequest: -1 })).toThrow(/bRequest/);
    expect(() => encodeSetupPacket(packet, new Uint8Array(8), 1)).toThrow(/target/);
  });
});

describe('bmRequestType bit fields (usbspec.h bit fields as compiled: Dir=1→0x80, Type=1→0x20, Recipient=1→0x01)', () => {
  it.each([
    [0x80, { direction: 'in', type: 'standard', recipient: 'device' }],
    [0x20, { direction: 'out', type: 'class', recipient: 'device' }],
    [0x01, { direction: 'out', type: 'standard', recipient: 'interface' }],
    [0xa1, { direction: 'in', type: 'class', recipient: 'interface' }],
    [0x21, { direction: 'out', type: 'class', recipient: 'interface' }],
    [0xc0, { direction: 'in', type: 'vendor', recipient: 'device' }],
    [0x02, { direction: 'out', type: 'standard', recipient: 'endpoint' }],
    [0x23, { direction: 'out', type: 'class', recipient: 'other' }],
  ] as const)('0x%s round-trips', (b, fields) => {
    expect(parseBmRequestType(b)).toEqual(fields);
    expect(makeBmRequestType(fields)).toBe(b);
  });

  it('reports reserved type and recipient values and refuses to encode them', () => {
    expect(parseBmRequestType(0x60)).toMatchObject({ type: 'reserved' });
    expect(parseBmRequestType(0x04)).toMatchObject({ recipient: 'reserved' });
    expect(parseBmRequestType(0x1f)).toMatchObject({ recipient: 'reserved' });
    expect(() => makeBmRequestType({ direction: 'in', type: 'reserved', recipient: 'device' })).toThrow(UsageError);
    expect(() => makeBmRequestType({ direction: 'in', type: 'class', recipient: 'reserved' })).toThrow(UsageError);
  });
});
