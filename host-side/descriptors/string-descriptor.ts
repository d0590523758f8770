/**
 * String descriptors (USB 2.0 §9.6.7): index 0 holds the LANGID list, other indexes a UTF-16LE string.
 */
import { USB_DT } from '../../core/index.js';
import { checkHeader, descriptorError, u16 } from './descriptor-reader.js';

/** LANGID for US English, the one almost every device lists first. */
export const LANGID_EN_US = 0x0409;

/**
 * Parses string descriptor 0: the LANGIDs the device supports.
 * @throws UsageError DECODE on a bad header or an odd payload length.
 */
export function parseLangIds(bytes: Uint8Array): number[] {
  const bLength = checkHeader(bytes, 0, 'string (LANGID list)', USB_DT.STRING, 2);
  if (bLength % 2 !== 0) throw descriptorError('string (LANGID list)', `bLength ${bLength} is odd: LANGIDs are 16-bit`, 0);
  const ids: number[] = [];
  for (let o = 2; o < bLength; o += 2) ids.push(u16(bytes, o));
  return ids;
}

/**
 * Parses a string descriptor (UTF-16LE after the 2-byte header). A trailing odd byte is an error.
 * @throws UsageError DECODE on a bad header or an odd payload length.
 */
export function parseStringDescriptor(bytes: Uint8Array): string {
  const bLength = checkHeader(bytes, 0, 'string', USB_DT.STRING, 2);
  if (bLength % 2 !== 0) throw descriptorError('string', `bLength ${bLength} is odd: UTF-16LE code units are 2 bytes`, 0);
  return Buffer.from(bytes.buffer, bytes.byteOffset + 2, bLength - 2).toString('utf16le');
}

/**
 * Encodes a string descriptor (at most 126 UTF-16 code units, since bLength is one byte).
 * @throws RangeError when the string is too long.
 */
export function encodeStringDescriptor(text: string): Uint8Array {
  const units = Buffer.from(text, 'utf16le');
  if (units.length + 2 > 0xff) throw new RangeError(`string "${text.slice(0, 20)}…" is ${units.length / 2} UTF-16 units; a string descriptor holds at most 126`);
  const out = new Uint8Array(units.length + 2);
  out[0] = out.length; //            bLength
  out[1] = USB_DT.STRING; //         bDescriptorType
  out.set(units, 2); //              bString (UTF-16LE)
  return out;
}

/** Encodes string descriptor 0 for the given LANGIDs. */
export function encodeLangIds(langIds: readonly number[]): Uint8Array {
  const out = new Uint8Array(2 + 2 * langIds.length);
  out[0] = out.length;
  out[1] = USB_DT.STRING;
  langIds.forEach((id, i) => {
    out[2 + 2 * i] = id & 0xff;
    out[3 + 2 * i] = (id >>> 8) & 0xff;
  });
  return out;
}
