import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/index.js';
import { AbiDecodeError } from './decode-error.js';
import { GUID_NULL, GUID_SIZE, decodeGuid, encodeGuid, formatGuid, isGuid, normalizeGuid, parseGuid } from './guid.js';

const TEXT = '{01234567-89AB-CDEF-0123-456789ABCDEF}';
// prettier-ignore
const BYTES = Uint8Array.of(
  0x67, 0x45, 0x23, 0x01, // Data1 u32 LE
  0xab, 0x89,             // Data2 u16 LE
  0xef, 0xcd,             // Data3 u16 LE
  0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, // Data4[8] as written
);

describe('GUID (docs/reference/structs.md#guid wire layout)', () => {
  it('parses and formats the golden vector both ways', () => {
    expect(GUID_SIZE).toBe(16);
    expect(parseGuid(TEXT)).toEqual(BYTES);
    expect(formatGuid(BYTES)).toBe(TEXT);
    expect(encodeGuid(TEXT)).toEqual(BYTES);
    expect(decodeGuid(BYTES)).toBe(TEXT);
  });

  it('parses case-insensitively and formats upper-case', () => {
    expect(parseGuid(TEXT.toLowerCase())).toEqual(BYTES);
    expect(normalizeGuid(TEXT.toLowerCase())).toBe(TEXT);
    expect(isGuid(TEXT)).toBe(true);
    expect(formatGuid(new Uint8Array(16))).toBe(GUID_NULL);
  });

  it('encodes into a target at an offset and decodes from one', () => {
    const t = new Uint8Array(20);
    encodeGuid(TEXT, t, 4);
    expect(t.subarray(4)).toEqual(BYTES);
    expect(decodeGuid(t, 4)).toBe(TEXT);
  });

  it('rejects malformed strings and short buffers', () => {
    for (const bad of ['01234567-89AB-CDEF-0123-456789ABCDEF', '{01234567-89AB-CDEF-0123-456789ABCDE}', '{0123456G-89AB-CDEF-0123-456789ABCDEF}', '']) {
      expect(() => parseGuid(bad)).toThrow(AbiDecodeError);
      expect(isGuid(bad)).toBe(false);
    }
    expect(() => formatGuid(BYTES.subarray(1))).toThrow(AbiDecodeError);
    expect(() => encodeGuid(TEXT, new Uint8Array(16), 1)).toThrow(UsageError);
  });
});
