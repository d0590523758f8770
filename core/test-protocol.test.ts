/** Unit tests of the test protocol's wire codecs and pattern (golden bytes, both directions). */
import { describe, expect, it } from 'vitest';
import {
  decodeTestCounters,
  encodeTestCounters,
  fillPattern,
  findPatternMismatch,
  patternByte,
  TEST_COUNTERS_BYTES,
  type TestCounters,
} from './test-protocol.js';

const COUNTERS: TestCounters = {
  controlRequests: 0x01020304,
  stalledRequests: 2,
  bulkOutTransfers: 3,
  bulkInTransfers: 4,
  bulkOutBytes: 0x0102030405060708n,
  bulkInBytes: 6n,
  patternErrors: 7,
  cancelledTransfers: 8,
  failedTransfers: 9,
  lastWin32Error: 995,
};

describe('test counters block', () => {
  it('encodes 4 × u32, 2 × u64, 4 × u32 little-endian (48 bytes)', () => {
    const b = encodeTestCounters(COUNTERS);
    expect(b.length).toBe(TEST_COUNTERS_BYTES);
    expect([...b.subarray(0, 4)]).toEqual([0x04, 0x03, 0x02, 0x01]); // controlRequests
    expect([...b.subarray(16, 24)]).toEqual([8, 7, 6, 5, 4, 3, 2, 1]); // bulkOutBytes
    expect([...b.subarray(44, 48)]).toEqual([0xe3, 0x03, 0, 0]); // lastWin32Error 995
  });

  it('decodes what it encodes, also from an offset view', () => {
    const framed = new Uint8Array(60);
    framed.set(encodeTestCounters(COUNTERS), 5);
    expect(decodeTestCounters(framed.subarray(5, 53))).toEqual(COUNTERS);
  });

  it('rejects a short block with a message saying what to ask for', () => {
    expect(() => decodeTestCounters(new Uint8Array(47))).toThrow(/47 bytes, expected 48.*wLength ≥ 48/);
  });
});

describe('pattern', () => {
  it('depends only on (seed, index): any slice can be generated and checked alone', () => {
    const whole = new Uint8Array(1000);
    fillPattern(whole, 7, 0);
    const slice = new Uint8Array(100);
    fillPattern(slice, 7, 450);
    expect(slice).toEqual(whole.subarray(450, 550));
    expect(findPatternMismatch(slice, 7, 450)).toBe(-1);
    expect(patternByte(7, 451)).toBe(whole[451]);
  });

  it('differs between seeds and is not constant', () => {
    const a = new Uint8Array(256);
    const b = new Uint8Array(256);
    fillPattern(a, 1, 0);
    fillPattern(b, 2, 0);
    expect(a).not.toEqual(b);
    expect(new Set(a).size).toBeGreaterThan(100);
  });

  it('finds the first mismatching byte', () => {
    const d = new Uint8Array(64);
    fillPattern(d, 3, 10);
    d[17] = d[17]! ^ 0xff;
    expect(findPatternMismatch(d, 3, 10)).toBe(17);
    expect(findPatternMismatch(d, 3, 11)).toBe(0);
  });
});
