/**
 * USBFN_INTERFACE_INFO (usbfnbase.h): input and output of IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET.
 * sizeof = 12 (align 4) but only the 10-byte header is fixed: InterfaceNumber u8 @0, padding @1–3,
 * Speed u32 @4 (USBFN_BUS_SPEED), Size u16 @8, InterfaceDescriptorSet[] @10 (variable).
 *
 * @note **Size ambiguity** (docs/reference/structs.md#usbfn-interface-info): on STATUS_BUFFER_TOO_SMALL the driver writes the required
 * length into Size, but the docs do not say whether it counts the 10-byte header.
 * ASSUMPTION (docs/reference/documented-vs-inferred.md#abi-descriptor-set-size): Size = total bytes needed, **including** the 10-byte header. The decoder
 * is tolerant of the other reading (see {@link decodeUsbfnInterfaceInfo}), and `UsbFnClient` grows its
 * buffer by the header if the driver reports the same Size twice.
 */
import { AbiDecodeError, requireBytes, requireInt } from './decode-error.js';
import { splitDescriptors } from './descriptors.js';

/** sizeof(USBFN_INTERFACE_INFO): the header plus the 1-byte array and 1 byte of tail padding. */
export const USBFN_INTERFACE_INFO_SIZE = 12;
/** Bytes before InterfaceDescriptorSet (offsetof). */
export const USBFN_INTERFACE_INFO_HEADER_BYTES = 10;
export const USBFN_INTERFACE_INFO_OFFSETS = { InterfaceNumber: 0, Speed: 4, Size: 8, InterfaceDescriptorSet: 10 } as const;

/** A USBFN_INTERFACE_INFO. `size` is the raw Size field. */
export interface UsbfnInterfaceInfo {
  readonly interfaceNumber: number;
  /** USBFN_BUS_SPEED value. */
  readonly speed: number;
  readonly size: number;
  readonly descriptorSet?: Uint8Array | undefined;
}

/** A decoded USBFN_INTERFACE_INFO: the descriptor set is always present (possibly empty). */
export interface DecodedUsbfnInterfaceInfo extends UsbfnInterfaceInfo {
  /** A view into the input buffer (not a copy). */
  readonly descriptorSet: Uint8Array;
}

const S = 'USBFN_INTERFACE_INFO';

/**
 * Encodes a USBFN_INTERFACE_INFO of `max(12, 10 + descriptorSet.length)` bytes. `size` defaults to
 * `10 + descriptorSet.length` (header included, the ASSUMPTION above).
 * @throws UsageError ABI_ENCODE for out-of-range fields.
 */
export function encodeUsbfnInterfaceInfo(info: {
  readonly interfaceNumber: number;
  readonly speed: number;
  readonly size?: number | undefined;
  readonly descriptorSet?: Uint8Array | undefined;
}): Uint8Array {
  const set = info.descriptorSet;
  const size = info.size ?? USBFN_INTERFACE_INFO_HEADER_BYTES + (set?.length ?? 0);
  requireInt(S, 'InterfaceNumber', info.interfaceNumber, 0, 0xff);
  requireInt(S, 'Speed', info.speed, 0, 0xffffffff);
  requireInt(S, 'Size', size, 0, 0xffff);
  const out = new Uint8Array(Math.max(USBFN_INTERFACE_INFO_SIZE, USBFN_INTERFACE_INFO_HEADER_BYTES + (set?.length ?? 0)));
  const dv = new DataView(out.buffer);
  out[0] = info.interfaceNumber; //      @0 InterfaceNumber (1–3 padding)
  dv.setUint32(4, info.speed, true); //   @4 Speed
  dv.setUint16(8, size, true); //         @8 Size
  if (set) out.set(set, USBFN_INTERFACE_INFO_HEADER_BYTES); // @10 InterfaceDescriptorSet
  return out;
}

/** Writes only the Size field of an existing buffer (the driver's BUFFER_TOO_SMALL answer). */
export function writeUsbfnInterfaceInfoSize(target: Uint8Array, size: number): void {
  requireInt(S, 'Size', size, 0, 0xffff);
  requireBytes(S, target, USBFN_INTERFACE_INFO_HEADER_BYTES);
  target[8] = size & 0xff;
  target[9] = size >> 8;
}

/** Reads the Size field. @throws AbiDecodeError when shorter than the 10-byte header. */
export function readUsbfnInterfaceInfoSize(bytes: Uint8Array): number {
  requireBytes(S, bytes, USBFN_INTERFACE_INFO_HEADER_BYTES);
  return bytes[8]! | (bytes[9]! << 8);
}

function walksCleanly(set: Uint8Array): boolean {
  if (set.length === 0) return false;
  try {
    splitDescriptors(set);
    return true;
  } catch (e) {
    if (e instanceof AbiDecodeError) return false;
    throw e;
  }
}

/**
 * Decodes a USBFN_INTERFACE_INFO (header + descriptor set) as the driver returned it.
 *
 * Tolerant of the Size ambiguity: the descriptor set ends at `Size` (header included) or at `10 + Size`
 * (header not counted), whichever fits the buffer and walks cleanly by bLength — the longer one if both
 * do (a longer clean walk over real descriptors is no coincidence; zero padding never walks). If neither
 * walks cleanly, the header-included reading clamped to the buffer is returned.
 *
 * @throws AbiDecodeError when shorter than the 10-byte header.
 */
export function decodeUsbfnInterfaceInfo(bytes: Uint8Array): DecodedUsbfnInterfaceInfo {
  requireBytes(S, bytes, USBFN_INTERFACE_INFO_HEADER_BYTES);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, USBFN_INTERFACE_INFO_HEADER_BYTES);
  const size = dv.getUint16(8, true);
  const H = USBFN_INTERFACE_INFO_HEADER_BYTES;
  const excl = H + size; // Size counts only the descriptors
  const incl = size; //     Size counts the header (ASSUMPTION)
  let end: number;
  if (excl <= bytes.length && walksCleanly(bytes.subarray(H, excl))) end = excl;
  else if (incl >= H && incl <= bytes.length && walksCleanly(bytes.subarray(H, incl))) end = incl;
  else end = Math.min(Math.max(incl, H), bytes.length);
  return {
    interfaceNumber: bytes[0]!,
    speed: dv.getUint32(4, true),
    size,
    descriptorSet: bytes.subarray(H, end),
  };
}
