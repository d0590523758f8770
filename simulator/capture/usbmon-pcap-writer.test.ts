import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/index.js';
import type { UrbEvent } from './urb-event.js';
import { readUsbmonCapture, readUsbmonPcap } from './usbmon-pcap-reader.js';
import { UsbmonPcapWriter } from './usbmon-pcap-writer.js';

/** Hex with spaces/newlines/comments (`# ...` to end of line) → bytes. */
function hex(s: string): Uint8Array {
  const clean = s.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  return Uint8Array.from(clean.match(/../g) ?? [], (h) => parseInt(h, 16));
}
function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

const GLOBAL_HEADER = `
  d4c3b2a1   # magic 0xa1b2c3d4, LE
  0200 0400  # version 2.4
  00000000   # thiszone
  00000000   # sigfigs
  00000400   # snaplen 262144
  dc000000   # network 220
`;

const DEVICE_DESCRIPTOR = hex('12 01 0002 00 00 00 40 0912 0100 0001 01 02 03 01');

const base = { busNumber: 1, deviceAddress: 2, transferFlags: 0 } as const;

describe('UsbmonPcapWriter', () => {
  it('writes the pcap global header little-endian with LINKTYPE 220', () => {
    const w = new UsbmonPcapWriter();
    expect(toHex(w.toBytes())).toBe(toHex(hex(GLOBAL_HEADER)));
    expect(w.byteLength).toBe(24);
    expect(w.recordCount).toBe(0);
  });

  it('writes a control IN as S (setup, flag_data <) then C (data) — golden bytes', () => {
    const w = new UsbmonPcapWriter();
    w.record({
      ...base,
      urbId: 0x1000,
      kind: 'S',
      transferType: 'control',
      endpoint: 0x80,
      timeUs: 1_500_000,
      status: -115,
      length: 18,
      setup: hex('80 06 0001 0000 1200'),
      transferFlags: 0x200,
    });
    w.record({
      ...base,
      urbId: 0x1000,
      kind: 'C',
      transferType: 'control',
      endpoint: 0x80,
      timeUs: 1_500_125,
      status: 0,
      length: 18,
      data: DEVICE_DESCRIPTOR,
      transferFlags: 0x200,
    });
    const expected = hex(`${GLOBAL_HEADER}
      # --- record 1: pcap header
      01000000 20a10700 40000000 40000000          # ts 1.500000, incl 64, orig 64
      0010000000000000                             # id
      53 02 80 02 0100                             # 'S', control, ep 0x80, dev 2, bus 1
      00 3c                                        # flag_setup 0 (setup valid), flag_data '<'
      0100000000000000 20a10700                    # ts_sec 1, ts_usec 500000
      8dffffff                                     # status -115 (-EINPROGRESS)
      12000000 00000000                            # length 18, len_cap 0
      8006000100001200                             # setup
      00000000 00000000 00020000 00000000          # interval, start_frame, xfer_flags URB_DIR_IN, ndesc
      # --- record 2
      01000000 9da10700 52000000 52000000          # ts 1.500125, incl 82, orig 82
      0010000000000000
      43 02 80 02 0100
      2d 00                                        # flag_setup '-', flag_data 0 (data follows)
      0100000000000000 9da10700
      00000000                                     # status 0
      12000000 12000000                            # length 18, len_cap 18
      0000000000000000
      00000000 00000000 00020000 00000000
      12010002000000400912010000010102 0301         # the device descriptor
    `);
    expect(toHex(w.toBytes())).toBe(toHex(expected));
    expect(w.recordCount).toBe(2);
    expect(w.byteLength).toBe(expected.length);
  });

  it('writes a bulk OUT as S (data) then C (flag_data >, actual length) — golden bytes', () => {
    const w = new UsbmonPcapWriter();
    w.record({ ...base, urbId: 7, kind: 'S', transferType: 'bulk', endpoint: 0x01, timeUs: 10, status: -115, length: 4, data: hex('deadbeef'), transferFlags: 0x40 });
    w.record({ ...base, urbId: 7, kind: 'C', transferType: 'bulk', endpoint: 0x01, timeUs: 20, status: 0, length: 4 });
    const expected = hex(`${GLOBAL_HEADER}
      00000000 0a000000 44000000 44000000          # ts 0.000010, incl 68, orig 68
      0700000000000000 53 03 01 02 0100 2d 00      # 'S', bulk, ep 0x01, flag_setup '-', flag_data 0
      0000000000000000 0a000000 8dffffff
      04000000 04000000                            # length 4, len_cap 4
      0000000000000000 00000000 00000000
      40000000 00000000                            # xfer_flags URB_ZERO_PACKET
      deadbeef
      00000000 14000000 40000000 40000000
      0700000000000000 43 03 01 02 0100 2d 3e      # 'C', flag_data '>'
      0000000000000000 14000000 00000000
      04000000 00000000                            # length 4 (actual), len_cap 0
      0000000000000000 00000000 00000000 00000000 00000000
    `);
    expect(toHex(w.toBytes())).toBe(toHex(expected));
  });

  it('writes a bulk IN completion with data and a stall completion — golden bytes', () => {
    const w = new UsbmonPcapWriter();
    w.record({ ...base, urbId: 9, kind: 'C', transferType: 'bulk', endpoint: 0x81, timeUs: 0, status: 0, length: 3, data: hex('010203'), transferFlags: 0x200 });
    w.record({ ...base, urbId: 10, kind: 'C', transferType: 'bulk', endpoint: 0x81, timeUs: 0, status: -32, length: 0, data: new Uint8Array(0), transferFlags: 0x200 });
    const expected = hex(`${GLOBAL_HEADER}
      00000000 00000000 43000000 43000000
      0900000000000000 43 03 81 02 0100 2d 00
      0000000000000000 00000000 00000000
      03000000 03000000
      0000000000000000 00000000 00000000 00020000 00000000
      010203
      00000000 00000000 40000000 40000000
      0a00000000000000 43 03 81 02 0100 2d 00      # stall: data follows, 0 bytes (mon_bin: length 0, no tag)
      0000000000000000 00000000
      e0ffffff                                     # status -32 (-EPIPE)
      00000000 00000000
      0000000000000000 00000000 00000000 00020000 00000000
    `);
    expect(toHex(w.toBytes())).toBe(toHex(expected));
  });

  it('marks an E event with flag_data E and a control submit without setup with Z', () => {
    const w = new UsbmonPcapWriter();
    w.record({ ...base, urbId: 1, kind: 'E', transferType: 'bulk', endpoint: 0x02, timeUs: 0, status: -19, length: 0 });
    w.record({ ...base, urbId: 2, kind: 'S', transferType: 'control', endpoint: 0x00, timeUs: 0, status: -115, length: 0 });
    const { records } = readUsbmonCapture(w.toBytes());
    expect(records[0]).toMatchObject({ flagSetup: 0x2d, flagData: 0x45 });
    expect(records[1]).toMatchObject({ flagSetup: 0x5a, flagData: 0 });
  });

  it('writes the interval only for interrupt and isochronous', () => {
    const w = new UsbmonPcapWriter();
    w.record({ ...base, urbId: 1, kind: 'S', transferType: 'interrupt', endpoint: 0x83, timeUs: 0, status: -115, length: 8, interval: 4 });
    w.record({ ...base, urbId: 2, kind: 'S', transferType: 'bulk', endpoint: 0x83, timeUs: 0, status: -115, length: 8, interval: 4 });
    const events = readUsbmonPcap(w.toBytes());
    expect(events[0]?.interval).toBe(4);
    expect(events[1]?.interval).toBeUndefined();
    const raw = w.toBytes();
    expect(new DataView(raw.buffer).getInt32(24 + 80 + 16 + 48, true)).toBe(0);
  });

  it('caps captured data at snaplen while orig_len keeps the full length', () => {
    const w = new UsbmonPcapWriter({ snaplen: 64 + 100 });
    const data = Uint8Array.from({ length: 512 }, (_, i) => i & 0xff);
    w.record({ ...base, urbId: 3, kind: 'S', transferType: 'bulk', endpoint: 0x01, timeUs: 0, status: -115, length: 512, data });
    const cap = readUsbmonCapture(w.toBytes());
    expect(cap.snaplen).toBe(164);
    const r = cap.records[0];
    expect(r).toMatchObject({ lenCap: 100, inclLen: 164, origLen: 64 + 512 });
    expect(r?.event.length).toBe(512);
    expect(Array.from(r?.event.data ?? [])).toEqual(Array.from(data.subarray(0, 100)));
  });

  it('rejects a snaplen smaller than the usbmon header and a malformed setup', () => {
    expect(() => new UsbmonPcapWriter({ snaplen: 63 })).toThrow(UsageError);
    const w = new UsbmonPcapWriter();
    expect(() =>
      w.record({ ...base, urbId: 1, kind: 'S', transferType: 'control', endpoint: 0x80, timeUs: 0, status: -115, length: 0, setup: new Uint8Array(7) }),
    ).toThrow(/8 bytes/);
  });

  it('spans many chunks and round-trips every event through the reader', () => {
    const w = new UsbmonPcapWriter({ chunkBytes: 256 });
    const events: UrbEvent[] = [];
    for (let i = 0; i < 200; i++) {
      const len = (i * 37) % 700;
      const data = Uint8Array.from({ length: len }, (_, j) => (i + j) & 0xff);
      const ev: UrbEvent = { ...base, urbId: 2 ** 40 + i, kind: 'C', transferType: 'bulk', endpoint: 0x81, timeUs: 4_000_000_000_123 + i, status: 0, length: len, data, transferFlags: 0x200 };
      events.push(ev);
      w.record(ev);
    }
    const back = readUsbmonPcap(w.toBytes());
    expect(back).toHaveLength(200);
    for (let i = 0; i < 200; i++) {
      const a = back[i];
      const e = events[i];
      expect(a?.urbId).toBe(e?.urbId);
      expect(a?.timeUs).toBe(e?.timeUs);
      expect(toHex(a?.data ?? new Uint8Array())).toBe(toHex(e?.data ?? new Uint8Array()));
    }
  });

  it('writes the capture to a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'usbmon-'));
    try {
      const w = new UsbmonPcapWriter();
      w.record({ ...base, urbId: 1, kind: 'S', transferType: 'bulk', endpoint: 0x81, timeUs: 0, status: -115, length: 512 });
      await w.writeFile(join(dir, 'x.pcap'));
      expect(toHex(new Uint8Array(await readFile(join(dir, 'x.pcap'))))).toBe(toHex(w.toBytes()));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('readUsbmonPcap', () => {
  it('rejects a truncated file, another magic and another link type with DECODE', () => {
    expect(() => readUsbmonPcap(new Uint8Array(10))).toThrow(/shorter than a pcap header/);
    const notPcap = hex(GLOBAL_HEADER);
    notPcap[0] = 0x0a;
    expect(() => readUsbmonPcap(notPcap)).toThrow(/magic/);
    const eth = hex(GLOBAL_HEADER);
    eth[20] = 1;
    expect(() => readUsbmonPcap(eth)).toThrow(/link type 1/);
    const w = new UsbmonPcapWriter();
    w.record({ ...base, urbId: 1, kind: 'C', transferType: 'bulk', endpoint: 0x81, timeUs: 0, status: 0, length: 4, data: hex('01020304') });
    const cut = w.toBytes().subarray(0, 24 + 16 + 64 + 2);
    try {
      readUsbmonPcap(cut);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      expect((e as UsageError).code).toBe('DECODE');
    }
  });

  it('reads a big-endian capture', () => {
    // A BE global header + one 64-byte BE usbmon record: the magic tells the byte order.
    const be = hex(`
      a1b2c3d4 0002 0004 00000000 00000000 00040000 000000dc
      00000000 00000001 00000040 00000040
      0000000000000005 43 03 81 07 0003 2d 00 0000000000000000 00000001 ffffffe0 00000000 00000000
      0000000000000000 00000000 00000000 00000200 00000000
    `);
    const [ev] = readUsbmonPcap(be);
    expect(ev).toMatchObject({ urbId: 5, kind: 'C', endpoint: 0x81, deviceAddress: 7, busNumber: 3, status: -32, transferFlags: 0x200, timeUs: 1 });
  });
});
