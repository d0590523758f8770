/**
 * GUIDs: the braced string form (registry InterfaceGUID, USBFN_CLASS_INFORMATION_PACKET.InterfaceGuid)
 * and the 16-byte wire form (CM_NOTIFY_FILTER.ClassGuid, CM_NOTIFY_EVENT_DATA).
 *
 * Wire layout: Data1 u32 LE @0, Data2 u16 LE @4, Data3 u16 LE @6, Data4[8] bytes @8 (docs/reference/structs.md#guid).
 */
import { AbiDecodeError, abiEncodeError, requireBytes, requireTarget } from './decode-error.js';

export const GUID_SIZE = 16;

/** A braced GUID string, canonical form upper-case: `{6E29B7D8-0A39-4A4F-9B1B-3C8C3A5E1B20}`. */
export type BracedGuid = string;

const GUID_RE = /^\{([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}$/i;

/** The all-zero GUID (GUID_NULL). */
export const GUID_NULL: BracedGuid = '{00000000-0000-0000-0000-000000000000}';

/**
 * Parses a braced GUID string (case-insensitive) into its 16 wire bytes.
 * @throws AbiDecodeError for anything but `{8-4-4-4-12}` hex.
 */
export function parseGuid(text: string): Uint8Array {
  const m = GUID_RE.exec(text);
  if (!m) {
    throw new AbiDecodeError({
      struct: 'GUID',
      field: '(string)',
      detail: `'${text}' is not a braced GUID; expected {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}`,
    });
  }
  const out = new Uint8Array(GUID_SIZE);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, parseInt(m[1]!, 16), true); // Data1
  dv.setUint16(4, parseInt(m[2]!, 16), true); // Data2
  dv.setUint16(6, parseInt(m[3]!, 16), true); // Data3
  const d4 = m[4]! + m[5]!; // Data4[8], byte order as written
  for (let i = 0; i < 8; i++) out[8 + i] = parseInt(d4.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** True if `text` is a braced GUID string. */
export function isGuid(text: string): boolean {
  return GUID_RE.test(text);
}

/**
 * Formats 16 wire bytes (at `offset`) as a canonical upper-case braced GUID.
 * @throws AbiDecodeError when fewer than 16 bytes are available.
 */
export function formatGuid(bytes: Uint8Array, offset = 0): BracedGuid {
  requireBytes('GUID', bytes, GUID_SIZE, offset);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + offset, GUID_SIZE);
  const hex = (v: number, n: number): string => v.toString(16).toUpperCase().padStart(n, '0');
  let d4 = '';
  for (let i = 8; i < 16; i++) {
    d4 += hex(dv.getUint8(i), 2);
    if (i === 9) d4 += '-';
  }
  return `{${hex(dv.getUint32(0, true), 8)}-${hex(dv.getUint16(4, true), 4)}-${hex(dv.getUint16(6, true), 4)}-${d4}}`;
}

/** Canonical upper-case form of a braced GUID string. @throws AbiDecodeError */
export function normalizeGuid(text: string): BracedGuid {
  return formatGuid(parseGuid(text));
}

/**
 * Writes a braced GUID string's 16 wire bytes into `target` at `offset` (new buffer if absent).
 * @throws AbiDecodeError for a malformed string; UsageError ABI_ENCODE for a too-small target.
 */
export function encodeGuid(text: string, target?: Uint8Array, offset = 0): Uint8Array {
  const bytes = parseGuid(text);
  if (target === undefined) {
    if (offset !== 0) throw abiEncodeError('GUID', '(target)', 'offset given without a target buffer');
    return bytes;
  }
  requireTarget('GUID', target, GUID_SIZE, offset);
  target.set(bytes, offset);
  return target;
}

/** Reads a GUID's 16 wire bytes at `offset` as a canonical braced string. @throws AbiDecodeError */
export function decodeGuid(bytes: Uint8Array, offset = 0): BracedGuid {
  return formatGuid(bytes, offset);
}
