/**
 * USB_DEFAULT_PIPE_SETUP_PACKET (usbspec.h, 8 bytes, 1-byte packed) and its bmRequestType bit fields.
 *
 * @see docs/reference/structs.md#usb-default-pipe-setup-packet (usbspec.h)
 * The field names and request codes are the shared chapter-9 vocabulary (core/chapter9.ts); this file is
 * only the ABI codec.
 *
 * @see USB 2.0 §9.3 (Table 9-2 Format of Setup Data), §9.4 (standard requests)
 */
import type { SetupPacket } from '../../core/index.js';
import { abiEncodeError, requireBytes, requireInt, requireTarget } from './decode-error.js';

/** sizeof(USB_DEFAULT_PIPE_SETUP_PACKET) */
export const USB_DEFAULT_PIPE_SETUP_PACKET_SIZE = 8;

export type RequestDirection = 'in' | 'out';
export type RequestType = 'standard' | 'class' | 'vendor' | 'reserved';
export type RequestRecipient = 'device' | 'interface' | 'endpoint' | 'other' | 'reserved';

/** bmRequestType split into its fields (USB 2.0 Table 9-2). */
export interface BmRequestTypeFields {
  /** Bit 7: `in` = device→host. */
  readonly direction: RequestDirection;
  /** Bits 5–6. */
  readonly type: RequestType;
  /** Bits 0–4 (values 4–31 are reserved). */
  readonly recipient: RequestRecipient;
}

const TYPES: readonly RequestType[] = ['standard', 'class', 'vendor', 'reserved'];
const RECIPIENTS: readonly RequestRecipient[] = ['device', 'interface', 'endpoint', 'other'];

/** Splits a bmRequestType byte. Recipient values 4–31 give `reserved`. */
export function parseBmRequestType(b: number): BmRequestTypeFields {
  return {
    direction: (b & 0x80) !== 0 ? 'in' : 'out',
    type: TYPES[(b >> 5) & 0x03] ?? 'reserved',
    recipient: RECIPIENTS[b & 0x1f] ?? 'reserved',
  };
}

/**
 * Builds a bmRequestType byte.
 * @throws UsageError ABI_ENCODE for `reserved` type or recipient (they have no single value).
 * @example makeBmRequestType({ direction: 'in', type: 'class', recipient: 'interface' }) // 0xA1
 */
export function makeBmRequestType(f: BmRequestTypeFields): number {
  const t = TYPES.indexOf(f.type);
  const r = RECIPIENTS.indexOf(f.recipient);
  if (f.type === 'reserved' || t < 0) throw abiEncodeError('bmRequestType', 'Type', `cannot encode type '${f.type}'`);
  if (r < 0) throw abiEncodeError('bmRequestType', 'Recipient', `cannot encode recipient '${f.recipient}'`);
  return (f.direction === 'in' ? 0x80 : 0) | (t << 5) | r;
}

/**
 * Writes the 8-byte setup packet (little-endian words) into `target` at `offset` (a new buffer if absent).
 * @throws UsageError ABI_ENCODE for out-of-range fields or a too-small target.
 */
export function encodeSetupPacket(p: SetupPacket, target?: Uint8Array, offset = 0): Uint8Array {
  const S = 'USB_DEFAULT_PIPE_SETUP_PACKET';
  requireInt(S, 'bmRequestType', p.bmRequestType, 0, 0xff);
  requireInt(S, 'bRequest', p.bRequest, 0, 0xff);
  requireInt(S, 'wValue', p.wValue, 0, 0xffff);
  requireInt(S, 'wIndex', p.wIndex, 0, 0xffff);
  requireInt(S, 'wLength', p.wLength, 0, 0xffff);
  const out = target ?? new Uint8Array(USB_DEFAULT_PIPE_SETUP_PACKET_SIZE);
  requireTarget(S, out, USB_DEFAULT_PIPE_SETUP_PACKET_SIZE, offset);
  out[offset] = p.bmRequestType; //          @0 bmRequestType
  out[offset + 1] = p.bRequest; //           @1 bRequest
  out[offset + 2] = p.wValue & 0xff; //      @2 wValue.LowByte
  out[offset + 3] = p.wValue >> 8; //        @3 wValue.HiByte
  out[offset + 4] = p.wIndex & 0xff; //      @4 wIndex.LowByte
  out[offset + 5] = p.wIndex >> 8; //        @5 wIndex.HiByte
  out[offset + 6] = p.wLength & 0xff; //     @6 wLength
  out[offset + 7] = p.wLength >> 8;
  return out;
}

/**
 * Reads an 8-byte setup packet at `offset`.
 * @throws AbiDecodeError when fewer than 8 bytes are available.
 */
export function decodeSetupPacket(bytes: Uint8Array, offset = 0): SetupPacket {
  requireBytes('USB_DEFAULT_PIPE_SETUP_PACKET', bytes, USB_DEFAULT_PIPE_SETUP_PACKET_SIZE, offset);
  return {
    bmRequestType: bytes[offset]!,
    bRequest: bytes[offset + 1]!,
    wValue: bytes[offset + 2]! | (bytes[offset + 3]! << 8),
    wIndex: bytes[offset + 4]! | (bytes[offset + 5]! << 8),
    wLength: bytes[offset + 6]! | (bytes[offset + 7]! << 8),
  };
}
