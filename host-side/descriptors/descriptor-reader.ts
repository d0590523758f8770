/**
 * Shared helpers of the descriptor parsers: constants from USB 2.0 Table 9-5 / USB 3.2 Table 9-6 and a
 * bounds-checked little-endian reader that fails with a DECODE error naming the descriptor and offset.
 */
import { UsageError } from '../../core/index.js';

/** A DECODE error for a malformed descriptor. */
export function descriptorError(what: string, problem: string, offset: number): UsageError {
  return new UsageError(
    'DECODE',
    `malformed ${what} descriptor: ${problem} (at byte ${offset}); check the device's descriptors (USB 2.0 §9.6) or the bytes read with GET_DESCRIPTOR`,
    { descriptor: what, offset },
  );
}

/**
 * Checks the common header of a descriptor at `offset`: enough bytes, bLength ≥ `minLength`, and
 * bDescriptorType = `type`. Returns bLength.
 */
export function checkHeader(bytes: Uint8Array, offset: number, what: string, type: number, minLength: number): number {
  if (bytes.length - offset < 2) throw descriptorError(what, `${bytes.length - offset} bytes left, need at least 2`, offset);
  const bLength = bytes[offset] ?? 0;
  const bDescriptorType = bytes[offset + 1] ?? 0;
  if (bDescriptorType !== type) {
    throw descriptorError(what, `bDescriptorType 0x${bDescriptorType.toString(16).padStart(2, '0')}, expected 0x${type.toString(16).padStart(2, '0')}`, offset + 1);
  }
  if (bLength < minLength) throw descriptorError(what, `bLength ${bLength} is below ${minLength}`, offset);
  if (offset + bLength > bytes.length) throw descriptorError(what, `bLength ${bLength} runs past the ${bytes.length - offset} bytes available`, offset);
  return bLength;
}

export function u8(bytes: Uint8Array, o: number): number {
  return bytes[o] ?? 0;
}

export function u16(bytes: Uint8Array, o: number): number {
  return (bytes[o] ?? 0) | ((bytes[o + 1] ?? 0) << 8);
}
