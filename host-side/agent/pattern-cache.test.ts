import { describe, expect, it } from 'vitest';
import { fillPattern, findPatternMismatch } from '../../core/index.js';
import { PatternCache } from './pattern-cache.js';

const pattern = (seed: number, offset: number, length: number): Uint8Array => {
  const b = new Uint8Array(length);
  fillPattern(b, seed, offset);
  return b;
};

describe('PatternCache', () => {
  it('returns the same bytes as fillPattern for any window, growing the cached prefix as needed', () => {
    const cache = new PatternCache();
    expect(cache.view(3, 0, 100)).toEqual(pattern(3, 0, 100));
    expect(cache.view(3, 5000, 300)).toEqual(pattern(3, 5000, 300));
    expect(cache.view(3, 0, 200_000)).toEqual(pattern(3, 0, 200_000));
    expect(cache.view(9, 17, 33)).toEqual(pattern(9, 17, 33));
    expect(cache.view(3, 7, 0)).toHaveLength(0);
  });

  it('serves more seeds than it keeps and windows beyond the cached length', () => {
    const cache = new PatternCache();
    for (let seed = 0; seed < 40; seed++) expect(cache.view(seed, seed, 64)).toEqual(pattern(seed, seed, 64));
    expect(cache.view(1, 16 * 1024 * 1024 - 10, 20)).toEqual(pattern(1, 16 * 1024 * 1024 - 10, 20));
  });

  it('finds the first mismatch exactly like findPatternMismatch', () => {
    const cache = new PatternCache();
    const data = pattern(5, 100, 4096);
    expect(cache.mismatch(data, 5, 100)).toBe(-1);
    expect(cache.mismatch(new Uint8Array(0), 5, 0)).toBe(-1);
    data[1234] = data[1234]! ^ 0x01;
    data[2000] = data[2000]! ^ 0x80;
    expect(cache.mismatch(data, 5, 100)).toBe(1234);
    expect(cache.mismatch(data, 5, 100)).toBe(findPatternMismatch(data, 5, 100));
    expect(cache.mismatch(data.subarray(1235), 5, 1335)).toBe(2000 - 1235);
    expect(cache.mismatch(pattern(5, 0, 10), 6, 0)).toBe(findPatternMismatch(pattern(5, 0, 10), 6, 0));
  });

  it('rejects negative or fractional windows', () => {
    expect(() => new PatternCache().view(1, -1, 4)).toThrow(RangeError);
    expect(() => new PatternCache().view(1, 0, 1.5)).toThrow(RangeError);
  });
});
