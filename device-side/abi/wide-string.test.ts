import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/index.js';
import { AbiDecodeError } from './decode-error.js';
import { decodeMultiSz, decodeWideString, encodeMultiSz, encodeWideString, multiSzChars } from './wide-string.js';

describe('wide strings', () => {
  it('encodes UTF-16LE with and without NUL, fixed-size with padding', () => {
    expect(encodeWideString('Ab', { nulTerminate: false })).toEqual(Uint8Array.of(0x41, 0, 0x62, 0));
    expect(encodeWideString('Ab', { nulTerminate: true })).toEqual(Uint8Array.of(0x41, 0, 0x62, 0, 0, 0));
    expect(encodeWideString('A', { nulTerminate: true, fixedChars: 3 })).toEqual(Uint8Array.of(0x41, 0, 0, 0, 0, 0));
    expect(encodeWideString('€', { nulTerminate: false })).toEqual(Uint8Array.of(0xac, 0x20));
    expect(encodeWideString('😀', { nulTerminate: false })).toEqual(Uint8Array.of(0x3d, 0xd8, 0x00, 0xde)); // surrogate pair
  });

  it('refuses strings that do not fit or contain NUL', () => {
    expect(() => encodeWideString('abc', { nulTerminate: true, fixedChars: 3 })).toThrow(UsageError);
    expect(() => encodeWideString('abc', { nulTerminate: false, fixedChars: 2 })).toThrow(/3 WCHARs/);
    expect(() => encodeWideString('a\0b', { nulTerminate: true })).toThrow(/NUL/);
  });

  it('decodes up to NUL, maxChars, or the end', () => {
    expect(decodeWideString(Uint8Array.of(0x41, 0, 0x62, 0, 0, 0, 0x63, 0))).toBe('Ab');
    expect(decodeWideString(Uint8Array.of(0x41, 0, 0x62, 0), { maxChars: 1 })).toBe('A');
    expect(decodeWideString(Uint8Array.of(0x41, 0, 0x62))).toBe('A'); // odd trailing byte is no WCHAR
    expect(decodeWideString(Uint8Array.of(0xff, 0x41, 0, 0x62, 0), { offset: 1 })).toBe('Ab');
    expect(decodeWideString(Uint8Array.of(0x3d, 0xd8, 0x00, 0xde))).toBe('😀');
  });
});

describe('REG_MULTI_SZ', () => {
  it('encodes each entry NUL-terminated plus a final NUL', () => {
    expect(encodeMultiSz(['a', 'bc'])).toEqual(Uint8Array.of(0x61, 0, 0, 0, 0x62, 0, 0x63, 0, 0, 0, 0, 0));
    expect(multiSzChars(['a', 'bc'])).toBe(6);
  });

  it('encodes an empty list as a single NUL (docs/reference/structs.md#multi-sz, inferred)', () => {
    expect(encodeMultiSz([])).toEqual(Uint8Array.of(0, 0));
    expect(multiSzChars([])).toBe(1);
    expect(decodeMultiSz(Uint8Array.of(0, 0))).toEqual([]);
  });

  it('decodes and ignores bytes after the terminator', () => {
    const bytes = new Uint8Array(40);
    bytes.set(encodeMultiSz(['\\\\?\\USBFN#A', 'x']));
    expect(decodeMultiSz(bytes)).toEqual(['\\\\?\\USBFN#A', 'x']);
    expect(decodeMultiSz(encodeMultiSz(['a', 'bc']))).toEqual(['a', 'bc']);
  });

  it('rejects empty entries, unterminated entries and a missing final NUL', () => {
    expect(() => encodeMultiSz(['a', ''])).toThrow(UsageError);
    expect(() => decodeMultiSz(Uint8Array.of(0x61, 0))).toThrow(AbiDecodeError);
    expect(() => decodeMultiSz(Uint8Array.of(0x61, 0, 0, 0))).toThrow(/final NUL/);
    expect(() => decodeMultiSz(new Uint8Array(0))).toThrow(AbiDecodeError);
  });
});

describe('wide-string decoding arguments', () => {
  it.each([-1, Number.NaN, 0.5])('rejects offset %s instead of reading before or between the WCHARs', (offset) => {
    expect(() => decodeWideString(Uint8Array.of(0x41, 0, 0x42, 0), { offset })).toThrow(AbiDecodeError);
  });

  it.each([-1, Number.NaN, 1.5])('rejects maxChars %s', (maxChars) => {
    expect(() => decodeWideString(Uint8Array.of(0x41, 0, 0x42, 0), { maxChars })).toThrow(AbiDecodeError);
  });
});

