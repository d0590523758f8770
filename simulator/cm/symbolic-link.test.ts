import { describe, expect, it } from 'vitest';
import { MAX_DEVICE_ID_LEN } from '../../device-side/index.js';
import {
  canonicalGuid,
  instanceIdProblem,
  lookupKey,
  referenceStringProblem,
  symbolicLinkFor,
} from './symbolic-link.js';

const GUID = '{5e9adaef-f879-473f-b807-4e5ea77d1b1c}';

describe('symbolicLinkFor', () => {
  it('derives a Windows-shaped link from the instance ID and the lowercase class GUID', () => {
    expect(symbolicLinkFor('USBFN\\LOOPBACK\\5&1a2b3c&0&0', GUID)).toBe(
      '\\\\?\\USBFN#LOOPBACK#5&1a2b3c&0&0#{5e9adaef-f879-473f-b807-4e5ea77d1b1c}',
    );
  });

  it('appends the reference string as a last path component', () => {
    expect(symbolicLinkFor('USBFN\\LOOPBACK\\5&1a2b3c&0&0', GUID, 'data')).toBe(
      '\\\\?\\USBFN#LOOPBACK#5&1a2b3c&0&0#{5e9adaef-f879-473f-b807-4e5ea77d1b1c}\\data',
    );
  });
});

describe('canonicalGuid', () => {
  it('lowercases a braced GUID and rejects anything else', () => {
    expect(canonicalGuid('{5E9ADAEF-F879-473F-B807-4E5EA77D1B1C}')).toBe(GUID);
    expect(canonicalGuid('5e9adaef-f879-473f-b807-4e5ea77d1b1c')).toBeUndefined();
    expect(canonicalGuid('{5e9adaef-f879-473f-b807-4e5ea77d1b1}')).toBeUndefined();
    expect(canonicalGuid('{5e9adaef-f879-473f-b807-4e5ea77d1b1g}')).toBeUndefined();
  });
});

describe('instanceIdProblem', () => {
  it('accepts <enumerator>\\<device ID>\\<instance ID>', () => {
    expect(instanceIdProblem('USBFN\\LOOPBACK\\5&1a2b3c&0&0')).toBeUndefined();
  });

  it.each([
    ['', /empty/],
    ['USBFN\\LOOPBACK', /shape/],
    ['USBFN\\\\0', /shape/],
    ['A\\B\\C\\D', /shape/],
    ['USBFN\\LOOP BACK\\0', /U\+0020/],
    ['USBFN\\LOOP#BACK\\0', /U\+0023/],
    [`USBFN\\X\\${'0'.repeat(MAX_DEVICE_ID_LEN)}`, /MAX_DEVICE_ID_LEN/],
  ])('rejects %j', (id, why) => {
    expect(instanceIdProblem(id)).toMatch(why);
  });
});

describe('referenceStringProblem', () => {
  it('rejects empty strings and path separators', () => {
    expect(referenceStringProblem('data')).toBeUndefined();
    expect(referenceStringProblem('')).toMatch(/empty/);
    expect(referenceStringProblem('a\\b')).toMatch(/must not contain/);
    expect(referenceStringProblem('a/b')).toMatch(/must not contain/);
  });
});

describe('lookupKey', () => {
  it('makes links that differ only in case compare equal (ASSUMPTION(cm-case-insensitive))', () => {
    const a = symbolicLinkFor('USBFN\\LOOPBACK\\5&1a2b3c&0&0', GUID);
    expect(lookupKey(a)).toBe(lookupKey(a.toUpperCase()));
    expect(lookupKey(a)).not.toBe(lookupKey(a.replace('LOOPBACK', 'SOURCE')));
  });
});
