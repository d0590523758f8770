/**
 * UTF-16LE strings as Win32 lays them out: fixed WCHAR arrays in structs (InterfaceName[40],
 * UsbString[255], InstanceId[200]), NUL-terminated runs past a struct's sizeof (CM_NOTIFY_EVENT_DATA),
 * and REG_MULTI_SZ lists (CM_Get_Device_Interface_ListW, registry InterfaceList).
 *
 * JavaScript strings are already UTF-16, so `s.length` is the WCHAR count and surrogate pairs pass through.
 */
import { AbiDecodeError, abiEncodeError, requireOffset, requireTarget } from './decode-error.js';

/** Options of {@link encodeWideString}. */
export interface EncodeWideStringOptions {
  /** Size of a fixed WCHAR array: the output is exactly `fixedChars * 2` bytes, zero-padded. */
  readonly fixedChars?: number | undefined;
  /** Append a NUL (counted against `fixedChars`). */
  readonly nulTerminate: boolean;
  /** For error messages: the struct and field being encoded. */
  readonly struct?: string | undefined;
  readonly field?: string | undefined;
}

/**
 * Encodes `s` as UTF-16LE.
 * @throws UsageError ABI_ENCODE when `s` (plus the NUL) does not fit `fixedChars`, or `s` contains a NUL
 * (it would truncate the string for the reader).
 */
export function encodeWideString(s: string, opts: EncodeWideStringOptions): Uint8Array {
  const chars = s.length + (opts.nulTerminate ? 1 : 0);
  const total = opts.fixedChars ?? chars;
  const out = new Uint8Array(total * 2);
  writeWideString(out, 0, s, total, opts);
  return out;
}

/**
 * Writes `s` as UTF-16LE into `target` at `offset`, in a field of `fieldChars` WCHARs, zero-filling the rest.
 * @throws UsageError ABI_ENCODE as {@link encodeWideString}.
 */
export function writeWideString(
  target: Uint8Array,
  offset: number,
  s: string,
  fieldChars: number,
  opts: Omit<EncodeWideStringOptions, 'fixedChars'>,
): void {
  const struct = opts.struct ?? 'WCHAR string';
  const field = opts.field ?? '(string)';
  const need = s.length + (opts.nulTerminate ? 1 : 0);
  if (need > fieldChars) {
    throw abiEncodeError(
      struct,
      field,
      `'${s.length > 40 ? s.slice(0, 40) + '…' : s}' is ${s.length} WCHARs${opts.nulTerminate ? ' + NUL' : ''}; the field holds ${fieldChars}`,
    );
  }
  if (s.includes('\0')) throw abiEncodeError(struct, field, 'string contains a NUL character');
  requireTarget(struct, target, fieldChars * 2, offset);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    target[offset + 2 * i] = c & 0xff;
    target[offset + 2 * i + 1] = c >> 8;
  }
  target.fill(0, offset + 2 * s.length, offset + 2 * fieldChars);
}

/** Options of {@link decodeWideString}. */
export interface DecodeWideStringOptions {
  /** Read at most this many WCHARs (the size of a fixed array). Default: the whole buffer. */
  readonly maxChars?: number | undefined;
  /** Start offset in bytes. Default 0. */
  readonly offset?: number | undefined;
}

/**
 * Decodes UTF-16LE up to the first NUL (or `maxChars`, or the end of the buffer; a trailing odd byte
 * is not part of any WCHAR and is ignored).
 * @throws AbiDecodeError when `offset` or `maxChars` is not a non-negative integer.
 */
export function decodeWideString(bytes: Uint8Array, opts: DecodeWideStringOptions = {}): string {
  return readWideString(bytes, opts.offset ?? 0, opts.maxChars).text;
}

/** Decodes like {@link decodeWideString} and also says whether a NUL ended the string. */
export function readWideString(
  bytes: Uint8Array,
  offset: number,
  maxChars?: number,
): { readonly text: string; readonly terminated: boolean; readonly chars: number } {
  requireOffset('WCHAR string', offset);
  if (maxChars !== undefined && (!Number.isSafeInteger(maxChars) || maxChars < 0)) {
    throw new AbiDecodeError({
      struct: 'WCHAR string',
      field: '(maxChars)',
      detail: `maxChars ${String(maxChars)} is not a count; pass a non-negative integer`,
    });
  }
  const avail = Math.max(0, Math.floor((bytes.length - offset) / 2));
  const limit = maxChars === undefined ? avail : Math.min(avail, maxChars);
  let text = '';
  for (let i = 0; i < limit; i++) {
    const c = bytes[offset + 2 * i]! | (bytes[offset + 2 * i + 1]! << 8);
    if (c === 0) return { text, terminated: true, chars: i };
    text += String.fromCharCode(c);
  }
  return { text, terminated: false, chars: limit };
}

/**
 * WCHARs a REG_MULTI_SZ of `list` needs: each entry + NUL, then the final NUL. An empty list is a single NUL.
 * ASSUMPTION (docs/reference/documented-vs-inferred.md#cm-empty-list): CM_Get_Device_Interface_List_SizeW reports 1 for an empty list.
 */
export function multiSzChars(list: readonly string[]): number {
  let n = 1;
  for (const s of list) n += s.length + 1;
  return n;
}

/**
 * Encodes a REG_MULTI_SZ: `a\0b\0\0`; empty list = `\0` (docs/reference/structs.md#multi-sz; inferred).
 * @throws UsageError ABI_ENCODE for an empty entry (it would end the list) or an entry containing NUL.
 */
export function encodeMultiSz(list: readonly string[]): Uint8Array {
  const out = new Uint8Array(multiSzChars(list) * 2);
  let off = 0;
  list.forEach((s, i) => {
    if (s.length === 0) throw abiEncodeError('REG_MULTI_SZ', `[${i}]`, 'empty entry would terminate the list');
    writeWideString(out, off, s, s.length + 1, { nulTerminate: true, struct: 'REG_MULTI_SZ', field: `[${i}]` });
    off += (s.length + 1) * 2;
  });
  return out; // the final NUL is the zero-initialised last WCHAR
}

/**
 * Decodes a REG_MULTI_SZ: entries up to the first empty entry (the final NUL). Trailing bytes after the
 * terminator (a buffer larger than the list) are ignored.
 * @throws AbiDecodeError when an entry is not NUL-terminated inside the buffer.
 */
export function decodeMultiSz(bytes: Uint8Array): string[] {
  const list: string[] = [];
  let off = 0;
  while (off + 1 < bytes.length) {
    const r = readWideString(bytes, off);
    if (!r.terminated) {
      throw new AbiDecodeError({
        struct: 'REG_MULTI_SZ',
        field: `[${list.length}]`,
        actualBytes: bytes.length,
        detail: `entry at byte ${off} is not NUL-terminated inside the buffer`,
      });
    }
    if (r.chars === 0) return list;
    list.push(r.text);
    off += (r.chars + 1) * 2;
  }
  if (list.length === 0 && bytes.length < 2) {
    throw new AbiDecodeError({
      struct: 'REG_MULTI_SZ',
      field: '(buffer)',
      expectedBytes: 2,
      actualBytes: bytes.length,
      detail: 'a REG_MULTI_SZ holds at least its final NUL',
    });
  }
  throw new AbiDecodeError({
    struct: 'REG_MULTI_SZ',
    field: '(terminator)',
    actualBytes: bytes.length,
    detail: `missing the final NUL after ${list.length} entries`,
  });
}
