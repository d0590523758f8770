import { describe, expect, it } from 'vitest';
import { completePcap, LINKTYPE_USB_LINUX_MMAPPED, pcapRecords, readPcapHeader, trimPcapToWindow } from './pcap-file.js';
import { scenarioUrbs, usbmonPcap } from './testing/index.js';

/** 2026-12-06 12:00:00 UTC, in µs. */
const T0_US = Date.UTC(2026, 11, 6, 12) * 1000;

describe('pcap files from usbmon', () => {
  it('reads the header and the record timestamps of a usbmon capture', () => {
    const bytes = usbmonPcap(scenarioUrbs(T0_US, 0));
    expect(readPcapHeader(bytes)).toEqual({ littleEndian: true, nanosecond: false, snaplen: 0x40000, linkType: LINKTYPE_USB_LINUX_MMAPPED });
    const { records, truncatedAt } = pcapRecords(bytes);
    expect(truncatedAt).toBeUndefined();
    expect(records.map((r) => r.timeUs - T0_US)).toEqual([0, 120, 500, 610, 1_000, 1_090, 1_100, 1_200]);
    // 16-byte record header + 64-byte usbmon header + data (the device descriptor: 18 bytes).
    expect(records[1]!.byteLength).toBe(16 + 64 + 18);
  });

  it('trims a capture of two scenarios to the second one, byte for byte', () => {
    const first = scenarioUrbs(T0_US, 0);
    const second = scenarioUrbs(T0_US + 2_000_000, 100);
    const both = usbmonPcap([...first, ...second]);
    const window = { startUs: T0_US + 1_500_000, endUs: T0_US + 2_500_000 };
    expect(trimPcapToWindow(both, window)).toEqual(usbmonPcap(second));
    // Edges are inclusive; an empty window keeps the header only.
    expect(pcapRecords(trimPcapToWindow(both, { startUs: T0_US + 120, endUs: T0_US + 500 })).records).toHaveLength(2);
    expect(trimPcapToWindow(both, { startUs: 0, endUs: 1 })).toEqual(both.slice(0, 24));
    expect(() => trimPcapToWindow(both, { startUs: 2, endUs: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('finds and drops a record cut by a killed writer', () => {
    const bytes = usbmonPcap(scenarioUrbs(T0_US, 0));
    const cut = bytes.slice(0, bytes.length - 100);
    const { records, truncatedAt } = pcapRecords(cut);
    expect(records).toHaveLength(7);
    expect(truncatedAt).toBe(records.at(-1)!.offset + records.at(-1)!.byteLength);
    expect(completePcap(cut)).toEqual(bytes.slice(0, truncatedAt));
    expect(completePcap(bytes)).toBe(bytes);
    // A record header cut in the middle.
    expect(pcapRecords(bytes.slice(0, 24 + 10)).truncatedAt).toBe(24);
  });

  it('reads big-endian and nanosecond files', () => {
    const be = new Uint8Array(24 + 16 + 4);
    const v = new DataView(be.buffer);
    v.setUint32(0, 0xa1b23c4d, false); // nanosecond magic, big-endian
    v.setUint16(4, 2, false);
    v.setUint16(6, 4, false);
    v.setUint32(16, 65535, false);
    v.setUint32(20, 249, false);
    v.setUint32(24, 1_700_000_000, false);
    v.setUint32(28, 123_456_789, false);
    v.setUint32(32, 4, false);
    v.setUint32(36, 4, false);
    expect(readPcapHeader(be)).toEqual({ littleEndian: false, nanosecond: true, snaplen: 65535, linkType: 249 });
    expect(pcapRecords(be).records).toEqual([{ offset: 24, byteLength: 20, timeUs: 1_700_000_000_123_456 }]);
  });

  it('says what a file is when it is not classic pcap', () => {
    const pcapng = Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, ...new Array<number>(16).fill(0));
    expect(() => readPcapHeader(pcapng)).toThrow(expect.objectContaining({ code: 'DECODE', message: expect.stringContaining('it is pcapng') }));
    expect(() => readPcapHeader(new Uint8Array(10))).toThrow(/shorter than the 24-byte header/);
    expect(() => readPcapHeader(new Uint8Array(24).fill(0x41))).toThrow(/magic 0x41414141/);
  });
});
