import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/index.js';
import {
  USBFN_CLASS_INFORMATION_PACKET_EX_OFFSETS,
  USBFN_CLASS_INFORMATION_PACKET_EX_SIZE,
  USBFN_CLASS_INFORMATION_PACKET_OFFSETS,
  USBFN_CLASS_INFORMATION_PACKET_SIZE,
  USBFN_CLASS_INTERFACE_EX_OFFSETS,
  USBFN_CLASS_INTERFACE_EX_SIZE,
  USBFN_CLASS_INTERFACE_OFFSETS,
  USBFN_CLASS_INTERFACE_SIZE,
  USBFN_PIPE_INFORMATION_OFFSETS,
  USBFN_PIPE_INFORMATION_SIZE,
  decodeUsbfnClassInformationPacket,
  decodeUsbfnClassInformationPacketEx,
  decodeUsbfnClassInterface,
  decodeUsbfnClassInterfaceEx,
  decodeUsbfnPipeInformation,
  encodeUsbfnClassInformationPacket,
  encodeUsbfnClassInformationPacketEx,
  encodeUsbfnClassInterface,
  encodeUsbfnClassInterfaceEx,
  encodeUsbfnPipeInformation,
  type UsbfnClassInformationPacket,
  type UsbfnPipeInformation,
} from './class-info.js';
import { AbiDecodeError } from './decode-error.js';

const pipe = (addr: number, mps: number, pipeId: number): UsbfnPipeInformation => ({
  epDesc: { bLength: 7, bDescriptorType: 5, bEndpointAddress: addr, bmAttributes: 2, wMaxPacketSize: mps, bInterval: 0 },
  pipeId,
});
// prettier-ignore
const pipeBytes = (addr: number, mps: number, pipeId: number): number[] => [
  7, 5, addr, 2, mps & 0xff, mps >> 8, 0, // @0 EpDesc (7 B packed)
  0,                                       // @7 padding
  pipeId & 0xff, (pipeId >> 8) & 0xff, (pipeId >> 16) & 0xff, pipeId >>> 24, // @8 PipeId u32 LE
];
const utf16 = (s: string): number[] => [...s].flatMap((c) => [c.charCodeAt(0) & 0xff, c.charCodeAt(0) >> 8]);
const GUID = '{6E29B7D8-0A39-4A4F-9B1B-3C8C3A5E1B20}';

describe('USBFN_PIPE_INFORMATION (docs/reference/structs.md#usbfn-pipe-information)', () => {
  it('is 12 bytes: EpDesc @0, padding @7, PipeId @8', () => {
    expect(USBFN_PIPE_INFORMATION_SIZE).toBe(12);
    expect(USBFN_PIPE_INFORMATION_OFFSETS).toEqual({ EpDesc: 0, PipeId: 8 });
    const bytes = Uint8Array.from(pipeBytes(0x81, 512, 0x04030201));
    expect(encodeUsbfnPipeInformation(pipe(0x81, 512, 0x04030201))).toEqual(bytes);
    expect(decodeUsbfnPipeInformation(bytes)).toEqual(pipe(0x81, 512, 0x04030201));
    expect(() => decodeUsbfnPipeInformation(bytes.subarray(1))).toThrow(AbiDecodeError);
  });
});

describe('USBFN_CLASS_INTERFACE (docs/reference/structs.md#usbfn-class-interface)', () => {
  const ci = { interfaceNumber: 0x42, pipes: [pipe(0x81, 512, 1), pipe(0x02, 512, 2)] };
  const golden = new Uint8Array(196);
  golden.set([0x42, 2, 0, 0], 0); // InterfaceNumber @0, PipeCount @1, padding @2-3
  golden.set(pipeBytes(0x81, 512, 1), 4); // PipeArr[0] @4
  golden.set(pipeBytes(0x02, 512, 2), 16); // PipeArr[1] @16 (stride 12)

  it('is 196 bytes; fields land at the header offsets', () => {
    expect(USBFN_CLASS_INTERFACE_SIZE).toBe(196);
    expect(USBFN_CLASS_INTERFACE_OFFSETS).toEqual({ InterfaceNumber: 0, PipeCount: 1, PipeArr: 4 });
    expect(4 + 16 * 12).toBe(196);
    expect(encodeUsbfnClassInterface(ci)).toEqual(golden);
    expect(decodeUsbfnClassInterface(golden)).toEqual(ci);
  });

  it('accepts 16 pipes (the last at offset 184) and rejects 17', () => {
    const pipes = Array.from({ length: 16 }, (_, i) => pipe(0x81, 64, i));
    const bytes = encodeUsbfnClassInterface({ interfaceNumber: 0, pipes });
    expect(bytes[1]).toBe(16);
    expect(bytes[184 + 8]).toBe(15); // PipeArr[15].PipeId
    expect(decodeUsbfnClassInterface(bytes).pipes).toHaveLength(16);
    expect(() => encodeUsbfnClassInterface({ interfaceNumber: 0, pipes: [...pipes, pipe(1, 64, 16)] })).toThrow(UsageError);
    const bad = bytes.slice();
    bad[1] = 17;
    expect(() => decodeUsbfnClassInterface(bad)).toThrow(/PipeCount: 17 exceeds MAX_NUM_USBFN_PIPES/);
  });
});

describe('USBFN_CLASS_INTERFACE_EX (docs/reference/structs.md#usbfn-class-interface-ex)', () => {
  it('is 196 bytes: Base @0, Count @1, PipeCount @2, padding @3, PipeArr @4', () => {
    expect(USBFN_CLASS_INTERFACE_EX_SIZE).toBe(196);
    expect(USBFN_CLASS_INTERFACE_EX_OFFSETS).toEqual({ BaseInterfaceNumber: 0, InterfaceCount: 1, PipeCount: 2, PipeArr: 4 });
    const c = { baseInterfaceNumber: 3, interfaceCount: 2, pipes: [pipe(0x83, 1024, 7)] };
    const golden = new Uint8Array(196);
    golden.set([3, 2, 1, 0], 0);
    golden.set(pipeBytes(0x83, 1024, 7), 4);
    expect(encodeUsbfnClassInterfaceEx(c)).toEqual(golden);
    expect(decodeUsbfnClassInterfaceEx(golden)).toEqual(c);
    const bad = golden.slice();
    bad[2] = 200;
    expect(() => decodeUsbfnClassInterfaceEx(bad)).toThrow(AbiDecodeError);
  });
});

describe('USBFN_CLASS_INFORMATION_PACKET (docs/reference/structs.md#usbfn-class-information-packet)', () => {
  const packet: UsbfnClassInformationPacket = {
    fullSpeed: { interfaceNumber: 1, pipes: [pipe(0x81, 64, 1)] },
    highSpeed: { interfaceNumber: 2, pipes: [pipe(0x81, 512, 1), pipe(0x01, 512, 2)] },
    superSpeed: { interfaceNumber: 3, pipes: [pipe(0x81, 1024, 1)] },
    interfaceName: 'Loopback',
    interfaceGuid: GUID,
  };
  const golden = new Uint8Array(748);
  golden.set([1, 1, 0, 0, ...pipeBytes(0x81, 64, 1)], 0); //                      FullSpeedClassInterface @0
  golden.set([2, 2, 0, 0, ...pipeBytes(0x81, 512, 1), ...pipeBytes(0x01, 512, 2)], 196); // HighSpeed @196
  golden.set(utf16('Loopback'), 392); //                                          InterfaceName @392
  golden.set(utf16(GUID), 472); //                                                InterfaceGuid @472
  golden[550] = 1; //                                                             HasInterfaceGuid @550
  golden.set([3, 1, 0, 0, ...pipeBytes(0x81, 1024, 1)], 552); //                  SuperSpeed @552

  it('is 748 bytes with the header offsets', () => {
    expect(USBFN_CLASS_INFORMATION_PACKET_SIZE).toBe(748);
    expect(USBFN_CLASS_INFORMATION_PACKET_OFFSETS).toEqual({
      FullSpeedClassInterface: 0,
      HighSpeedClassInterface: 196,
      InterfaceName: 392,
      InterfaceGuid: 472,
      HasInterfaceGuid: 550,
      SuperSpeedClassInterface: 552,
    });
  });

  it('encodes and decodes the golden vector', () => {
    expect(encodeUsbfnClassInformationPacket(packet)).toEqual(golden);
    expect(decodeUsbfnClassInformationPacket(golden)).toEqual(packet);
  });

  it('HasInterfaceGuid FALSE gives interfaceGuid undefined (any non-zero BOOLEAN is TRUE)', () => {
    const noGuid = encodeUsbfnClassInformationPacket({ ...packet, interfaceGuid: undefined });
    expect(noGuid[550]).toBe(0);
    expect(noGuid.subarray(472, 550).every((x) => x === 0)).toBe(true);
    expect(decodeUsbfnClassInformationPacket(noGuid).interfaceGuid).toBeUndefined();
    const t = golden.slice();
    t[550] = 0xff;
    expect(decodeUsbfnClassInformationPacket(t).interfaceGuid).toBe(GUID);
  });

  it('rejects wrong sizes and over-long names', () => {
    expect(() => decodeUsbfnClassInformationPacket(golden.subarray(0, 747))).toThrow(AbiDecodeError);
    expect(() => decodeUsbfnClassInformationPacket(new Uint8Array(749))).toThrow(/too long/);
    expect(() => encodeUsbfnClassInformationPacket({ ...packet, interfaceName: 'x'.repeat(40) })).toThrow(/InterfaceName/);
    const longest = encodeUsbfnClassInformationPacket({ ...packet, interfaceName: 'x'.repeat(39) });
    expect([longest[392 + 76], longest[392 + 78]]).toEqual([0x78, 0]); // last char, then the NUL in slot 39
    expect(() => encodeUsbfnClassInformationPacket({ ...packet, interfaceGuid: GUID + 'x' })).toThrow(UsageError);
  });
});

describe('USBFN_CLASS_INFORMATION_PACKET_EX (docs/reference/structs.md#usbfn-class-information-packet-ex)', () => {
  it('is 748 bytes with a different field order; golden vector both ways', () => {
    expect(USBFN_CLASS_INFORMATION_PACKET_EX_SIZE).toBe(748);
    expect(USBFN_CLASS_INFORMATION_PACKET_EX_OFFSETS).toEqual({
      FullSpeedClassInterfaceEx: 0,
      HighSpeedClassInterfaceEx: 196,
      SuperSpeedClassInterfaceEx: 392,
      InterfaceName: 588,
      InterfaceGuid: 668,
      HasInterfaceGuid: 746,
    });
    const p = {
      fullSpeed: { baseInterfaceNumber: 1, interfaceCount: 1, pipes: [pipe(0x81, 64, 1)] },
      highSpeed: { baseInterfaceNumber: 2, interfaceCount: 1, pipes: [] },
      superSpeed: { baseInterfaceNumber: 3, interfaceCount: 2, pipes: [pipe(0x02, 1024, 9)] },
      interfaceName: 'Ex',
      interfaceGuid: GUID,
    };
    const golden = new Uint8Array(748);
    golden.set([1, 1, 1, 0, ...pipeBytes(0x81, 64, 1)], 0);
    golden.set([2, 1, 0, 0], 196);
    golden.set([3, 2, 1, 0, ...pipeBytes(0x02, 1024, 9)], 392);
    golden.set(utf16('Ex'), 588);
    golden.set(utf16(GUID), 668);
    golden[746] = 1;
    expect(encodeUsbfnClassInformationPacketEx(p)).toEqual(golden);
    expect(decodeUsbfnClassInformationPacketEx(golden)).toEqual(p);
    expect(() => decodeUsbfnClassInformationPacketEx(golden.subarray(0, 700))).toThrow(AbiDecodeError);
  });
});
