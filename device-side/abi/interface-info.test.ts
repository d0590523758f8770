import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/index.js';
import { AbiDecodeError } from './decode-error.js';
import {
  USBFN_INTERFACE_INFO_HEADER_BYTES,
  USBFN_INTERFACE_INFO_OFFSETS,
  USBFN_INTERFACE_INFO_SIZE,
  decodeUsbfnInterfaceInfo,
  encodeUsbfnInterfaceInfo,
  readUsbfnInterfaceInfoSize,
  writeUsbfnInterfaceInfoSize,
} from './interface-info.js';

const set = Uint8Array.of(9, 4, 0, 0, 1, 0xff, 0, 0, 0, 7, 5, 0x81, 2, 0, 2, 0); // interface + one endpoint (16 B)

describe('USBFN_INTERFACE_INFO (docs/reference/structs.md#usbfn-interface-info)', () => {
  it('has sizeof 12, a 10-byte header and the header offsets', () => {
    expect(USBFN_INTERFACE_INFO_SIZE).toBe(12);
    expect(USBFN_INTERFACE_INFO_HEADER_BYTES).toBe(10);
    expect(USBFN_INTERFACE_INFO_OFFSETS).toEqual({ InterfaceNumber: 0, Speed: 4, Size: 8, InterfaceDescriptorSet: 10 });
  });

  it('encodes a request header (12 bytes) golden vector', () => {
    // prettier-ignore
    expect(encodeUsbfnInterfaceInfo({ interfaceNumber: 0x21, speed: 2, size: 0x0100 })).toEqual(Uint8Array.of(
      0x21, 0, 0, 0, // @0 InterfaceNumber + padding
      2, 0, 0, 0,    // @4 Speed (USBFN_BUS_SPEED High)
      0x00, 0x01,    // @8 Size
      0, 0,          // sizeof tail
    ));
  });

  it('encodes and decodes a header + descriptor set both ways (Size includes the header: ASSUMPTION)', () => {
    const golden = new Uint8Array([0x21, 0, 0, 0, 1, 0, 0, 0, 26, 0, ...set]);
    expect(encodeUsbfnInterfaceInfo({ interfaceNumber: 0x21, speed: 1, descriptorSet: set })).toEqual(golden);
    expect(decodeUsbfnInterfaceInfo(golden)).toEqual({ interfaceNumber: 0x21, speed: 1, size: 26, descriptorSet: set });
  });

  it('decodes tolerantly when Size counts only the descriptors', () => {
    const bytes = new Uint8Array([0, 0, 0, 0, 2, 0, 0, 0, 16, 0, ...set]);
    expect(decodeUsbfnInterfaceInfo(bytes).descriptorSet).toEqual(set);
  });

  it('ignores zero padding after the set in a larger buffer', () => {
    const bytes = new Uint8Array(64);
    bytes.set([0, 0, 0, 0, 2, 0, 0, 0, 26, 0, ...set]);
    expect(decodeUsbfnInterfaceInfo(bytes).descriptorSet).toEqual(set);
  });

  it('clamps an inconsistent Size to the buffer instead of reading past it', () => {
    const bytes = new Uint8Array([0, 0, 0, 0, 2, 0, 0, 0, 0xff, 0, 1, 2, 3]);
    expect(decodeUsbfnInterfaceInfo(bytes).descriptorSet).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('reads and writes Size in place', () => {
    const buf = new Uint8Array(12);
    writeUsbfnInterfaceInfoSize(buf, 0x1234);
    expect([buf[8], buf[9]]).toEqual([0x34, 0x12]);
    expect(readUsbfnInterfaceInfoSize(buf)).toBe(0x1234);
  });

  it('rejects short buffers and bad fields', () => {
    expect(() => decodeUsbfnInterfaceInfo(new Uint8Array(9))).toThrow(AbiDecodeError);
    expect(() => readUsbfnInterfaceInfoSize(new Uint8Array(9))).toThrow(AbiDecodeError);
    expect(() => encodeUsbfnInterfaceInfo({ interfaceNumber: 256, speed: 0 })).toThrow(UsageError);
    expect(() => encodeUsbfnInterfaceInfo({ interfaceNumber: 0, speed: 0, size: 0x10000 })).toThrow(/Size/);
  });
});
