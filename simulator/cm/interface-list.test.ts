import { describe, expect, it } from 'vitest';
import { multiSzChars, writeMultiSz } from './interface-list.js';

describe('interface list (REG_MULTI_SZ, UTF-16LE)', () => {
  it('sizes an empty list as a single NUL and writes it as one (ASSUMPTION(cm-empty-list))', () => {
    expect(multiSzChars([])).toBe(1);
    expect([...writeMultiSz([], 1)]).toEqual([0, 0]);
  });

  it('counts every string, its NUL and the final NUL in WCHARs', () => {
    expect(multiSzChars(['ab', 'c'])).toBe(2 + 1 + 1 + 1 + 1);
  });

  it('writes golden bytes and zero-fills the rest of a larger buffer', () => {
    expect([...writeMultiSz(['ab', 'c'], 8)]).toEqual([
      0x61, 0, 0x62, 0, 0, 0, // "ab\0"
      0x63, 0, 0, 0, // "c\0"
      0, 0, // final NUL
      0, 0, 0, 0, // unused tail
    ]);
  });

  it('keeps characters outside Latin-1 as their UTF-16 code units', () => {
    expect([...writeMultiSz(['\u20ac'], 3)]).toEqual([0xac, 0x20, 0, 0, 0, 0]);
  });
});
