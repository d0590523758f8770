/**
 * Golden vectors of the USB/IP codec, both directions: byte offsets and sizes as the kernel's protocol
 * document gives them (Documentation/usb/usbip_protocol.rst), and its captured HID example decoded field by
 * field. Independent of the session, so a wrong codec shared by server and client cannot hide.
 */
import { describe, expect, it } from 'vitest';
import { ByteQueue } from './byte-queue.js';
import {
  decodeDeviceRecord,
  decodeImportBusid,
  decodeOpCommon,
  encodeOpRepDevlist,
  encodeOpRepImport,
  encodeOpReqDevlist,
  encodeOpReqImport,
  type UsbIpExportedDevice,
} from './usbip-op-codec.js';
import { USBIP_BYTES, USBIP_ST } from './usbip-protocol.js';
import { decodeUrbHeader, encodeCmdSubmit, encodeCmdUnlink, encodeRetSubmit, encodeRetUnlink } from './usbip-urb-codec.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!.map((b) => Number.parseInt(b, 16)));
const u32 = (b: Uint8Array, o: number): number => new DataView(b.buffer, b.byteOffset).getUint32(o);
const u16 = (b: Uint8Array, o: number): number => new DataView(b.buffer, b.byteOffset).getUint16(o);

const device: UsbIpExportedDevice = {
  path: '/sys/devices/pci0000:00/0000:00:1d.1/usb3/3-2',
  busid: '3-2',
  busnum: 3,
  devnum: 4,
  speed: 3,
  idVendor: 0x1209,
  idProduct: 0x0001,
  bcdDevice: 0x0100,
  bDeviceClass: 0,
  bDeviceSubClass: 0,
  bDeviceProtocol: 0,
  bConfigurationValue: 1,
  bNumConfigurations: 1,
  bNumInterfaces: 2,
  interfaces: [
    { bInterfaceClass: 0xff, bInterfaceSubClass: 0x00, bInterfaceProtocol: 0x00 },
    { bInterfaceClass: 0x03, bInterfaceSubClass: 0x01, bInterfaceProtocol: 0x02 },
  ],
};

describe('USB/IP operation codec', () => {
  it('encodes OP_REQ_DEVLIST and OP_REQ_IMPORT big-endian, version 0x0111', () => {
    expect(encodeOpReqDevlist()).toEqual(hex('0111 8005 00000000'));
    const req = encodeOpReqImport('3-2');
    expect(req.length).toBe(8 + 32);
    expect(req.subarray(0, 8)).toEqual(hex('0111 8003 00000000'));
    expect(req.subarray(8, 12)).toEqual(Uint8Array.from([0x33, 0x2d, 0x32, 0]));
    expect(req.subarray(12).every((b) => b === 0)).toBe(true);
    expect(decodeImportBusid(req, 8)).toBe('3-2');
  });

  it('lays out OP_REP_DEVLIST at the documented offsets', () => {
    const r = encodeOpRepDevlist([device]);
    expect(r.length).toBe(0x0c + 0x138 + 2 * 4);
    expect(decodeOpCommon(r)).toEqual({ version: 0x0111, code: 0x0005, status: 0 });
    expect(u32(r, 0x08)).toBe(1);
    expect(Buffer.from(r.subarray(0x0c, 0x0c + device.path.length)).toString('latin1')).toBe(device.path);
    expect(r[0x0c + device.path.length]).toBe(0);
    expect(Buffer.from(r.subarray(0x10c, 0x10f)).toString('latin1')).toBe('3-2');
    expect([u32(r, 0x12c), u32(r, 0x130), u32(r, 0x134)]).toEqual([3, 4, 3]);
    expect([u16(r, 0x138), u16(r, 0x13a), u16(r, 0x13c)]).toEqual([0x1209, 0x0001, 0x0100]);
    expect([...r.subarray(0x13e, 0x144)]).toEqual([0, 0, 0, 1, 1, 2]);
    expect([...r.subarray(0x144, 0x14c)]).toEqual([0xff, 0, 0, 0, 0x03, 0x01, 0x02, 0]);
    const { interfaces: _ignored, ...record } = device;
    expect(decodeDeviceRecord(r, 0x0c)).toEqual(record);
  });

  it('lays out OP_REP_IMPORT at the documented offsets, and ends after the status when refused', () => {
    const r = encodeOpRepImport(USBIP_ST.ST_OK, device);
    expect(r.length).toBe(8 + USBIP_BYTES.DEVICE);
    expect(decodeOpCommon(r)).toEqual({ version: 0x0111, code: 0x0003, status: 0 });
    expect(Buffer.from(r.subarray(0x108, 0x10b)).toString('latin1')).toBe('3-2');
    expect([u32(r, 0x128), u32(r, 0x12c), u32(r, 0x130)]).toEqual([3, 4, 3]);
    expect([u16(r, 0x134), u16(r, 0x136), u16(r, 0x138)]).toEqual([0x1209, 0x0001, 0x0100]);
    expect(r[0x13f]).toBe(2);
    const { interfaces: _ignored, ...record } = device;
    expect(decodeDeviceRecord(r, 8)).toEqual(record);
    expect(encodeOpRepImport(USBIP_ST.ST_NODEV)).toEqual(hex('0111 0003 00000004'));
  });

  it('rejects string fields without a NUL, with non-printable bytes, or too long', () => {
    expect(() => decodeImportBusid(new Uint8Array(32).fill(0x41))).toThrow(/USBIP_PROTOCOL.*busid is not NUL-terminated/);
    expect(() => decodeImportBusid(Uint8Array.from([0x31, 0x07, 0, ...new Uint8Array(29)]))).toThrow(/non-printable byte 0x07/);
    expect(() => encodeOpReqImport('x'.repeat(32))).toThrow(/at most 31 bytes/);
    expect(() => encodeOpRepDevlist([{ ...device, bNumInterfaces: 3 }])).toThrow(/2 interface records for bNumInterfaces 3/);
  });
});

describe('USB/IP URB codec', () => {
  // Documentation/usb/usbip_protocol.rst, "EXAMPLE": an interrupt IN and OUT of a HID device, from the wire.
  const cmdIntrIn = hex('00000001 00000d05 0001000f 00000001 00000001 00000200 00000040 ffffffff 00000000 00000004 00000000 00000000');
  const retIntrOut = hex('00000003 00000d06 00000000 00000000 00000000 00000000 00000040 ffffffff 00000000 00000000 00000000 00000000');

  it('decodes the protocol document\'s captured CMD_SUBMIT and re-encodes it byte for byte', () => {
    const h = decodeUrbHeader(cmdIntrIn);
    expect(h).toEqual({
      command: 1,
      seqnum: 0xd05,
      devid: 0x0001000f,
      direction: 1,
      ep: 1,
      transferFlags: 0x200,
      transferBufferLength: 0x40,
      startFrame: -1,
      numberOfPackets: 0,
      interval: 4,
      setup: new Uint8Array(8),
    });
    if (h.command !== 1) throw new Error('not a CMD_SUBMIT');
    expect(encodeCmdSubmit(h)).toEqual(cmdIntrIn);
  });

  it('decodes the document\'s captured RET_SUBMIT and re-encodes it byte for byte', () => {
    const h = decodeUrbHeader(retIntrOut);
    expect(h).toEqual({ command: 3, seqnum: 0xd06, devid: 0, direction: 0, ep: 0, status: 0, actualLength: 0x40, startFrame: -1, numberOfPackets: 0, errorCount: 0 });
    if (h.command !== 3) throw new Error('not a RET_SUBMIT');
    expect(encodeRetSubmit(h)).toEqual(retIntrOut);
  });

  it('encodes the unlink pair with the status as a signed 32-bit field', () => {
    expect(encodeCmdUnlink({ seqnum: 9, devid: 0x10002, direction: 0, ep: 0, unlinkSeqnum: 8 })).toEqual(hex(`00000002 00000009 00010002 00000000 00000000 00000008 ${'00'.repeat(24)}`));
    const ret = encodeRetUnlink({ seqnum: 9, devid: 0, direction: 0, ep: 0, status: -104 });
    expect(ret).toEqual(hex(`00000004 00000009 00000000 00000000 00000000 ffffff98 ${'00'.repeat(24)}`));
    expect(decodeUrbHeader(ret)).toMatchObject({ command: 4, status: -104 });
  });

  it('rejects an unknown command and a short header', () => {
    expect(() => decodeUrbHeader(hex(`00000005 ${'00'.repeat(44)}`))).toThrow(/USBIP_PROTOCOL.*unknown usbip_header command 0x00000005/);
    expect(() => decodeUrbHeader(new Uint8Array(47))).toThrow(/has 48 bytes, got 47/);
  });
});

describe('ByteQueue', () => {
  it('takes fields across chunk borders, peeks without consuming, and never hands out a Buffer', () => {
    const q = new ByteQueue();
    q.push(Buffer.from([1, 2, 3]));
    q.push(Uint8Array.of(4, 5));
    q.push(new Uint8Array(0));
    q.push(Uint8Array.of(6, 7, 8, 9));
    expect(q.length).toBe(9);
    expect(q.peek(4)).toEqual(Uint8Array.of(1, 2, 3, 4));
    const a = q.take(2);
    expect(Buffer.isBuffer(a)).toBe(false);
    expect(a).toEqual(Uint8Array.of(1, 2));
    expect(q.take(4)).toEqual(Uint8Array.of(3, 4, 5, 6));
    const target = new Uint8Array(4);
    q.takeInto(target, 1, 2);
    expect(target).toEqual(Uint8Array.of(0, 7, 8, 0));
    q.skip(1);
    expect(q.length).toBe(0);
    expect(() => q.take(1)).toThrow(/cannot take 1 bytes, 0 wait/);
  });

  it('keeps its chunk list short over many pushes and takes', () => {
    const q = new ByteQueue();
    for (let i = 0; i < 10_000; i++) {
      q.push(Uint8Array.of(i & 0xff, (i >> 8) & 0xff, 0));
      if (i % 2 === 1) expect(q.take(6)[0]).toBe((i - 1) & 0xff);
    }
    expect(q.length).toBe(0);
  });
});
