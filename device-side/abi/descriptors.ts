/**
 * USB_ENDPOINT_DESCRIPTOR (7 bytes) and USB_INTERFACE_DESCRIPTOR (9 bytes) from usbspec.h (1-byte packed),
 * and a walker over a concatenation of descriptors (registry `InterfaceDescriptor` blobs, descriptor sets).
 *
 * @see docs/reference/structs.md#usb-endpoint-descriptor, docs/reference/registry.md#interface-descriptor-format
 * @see USB 2.0 §9.6.5 (interface), §9.6.6 (endpoint)
 */
import { USB_DT } from '../../core/index.js';
import { AbiDecodeError, requireBytes, requireInt, requireTarget } from './decode-error.js';

export const USB_ENDPOINT_DESCRIPTOR_SIZE = 7;
export const USB_INTERFACE_DESCRIPTOR_SIZE = 9;

/** bEndpointAddress bit 7: IN (device→host). */
export const USB_ENDPOINT_DIRECTION_MASK = 0x80;
/** bEndpointAddress bits 0–3: endpoint number. */
export const USB_ENDPOINT_ADDRESS_MASK = 0x0f;
/** bmAttributes bits 0–1: transfer type. */
export const USB_ENDPOINT_TYPE_MASK = 0x03;
export const USB_ENDPOINT_TYPE_CONTROL = 0;
export const USB_ENDPOINT_TYPE_ISOCHRONOUS = 1;
export const USB_ENDPOINT_TYPE_BULK = 2;
export const USB_ENDPOINT_TYPE_INTERRUPT = 3;

/** USB_ENDPOINT_DESCRIPTOR, fields verbatim (USB 2.0 Table 9-13). */
export interface EndpointDescriptor {
  readonly bLength: number;
  readonly bDescriptorType: number;
  readonly bEndpointAddress: number;
  readonly bmAttributes: number;
  readonly wMaxPacketSize: number;
  readonly bInterval: number;
}

/** USB_INTERFACE_DESCRIPTOR, fields verbatim (USB 2.0 Table 9-12). */
export interface InterfaceDescriptor {
  readonly bLength: number;
  readonly bDescriptorType: number;
  readonly bInterfaceNumber: number;
  readonly bAlternateSetting: number;
  readonly bNumEndpoints: number;
  readonly bInterfaceClass: number;
  readonly bInterfaceSubClass: number;
  readonly bInterfaceProtocol: number;
  readonly iInterface: number;
}

/** Encoder input: bLength/bDescriptorType default to the standard values. */
export type EndpointDescriptorInit = Omit<EndpointDescriptor, 'bLength' | 'bDescriptorType'> &
  Partial<Pick<EndpointDescriptor, 'bLength' | 'bDescriptorType'>>;
/** Encoder input: bLength/bDescriptorType default to the standard values. */
export type InterfaceDescriptorInit = Omit<InterfaceDescriptor, 'bLength' | 'bDescriptorType'> &
  Partial<Pick<InterfaceDescriptor, 'bLength' | 'bDescriptorType'>>;

const EP = 'USB_ENDPOINT_DESCRIPTOR';
const IF = 'USB_INTERFACE_DESCRIPTOR';

/**
 * Writes a 7-byte endpoint descriptor at `offset` of `target` (new buffer if absent).
 * @throws UsageError ABI_ENCODE for out-of-range fields or a too-small target.
 */
export function encodeEndpointDescriptor(d: EndpointDescriptorInit, target?: Uint8Array, offset = 0): Uint8Array {
  const bLength = d.bLength ?? USB_ENDPOINT_DESCRIPTOR_SIZE;
  const bDescriptorType = d.bDescriptorType ?? USB_DT.ENDPOINT;
  requireInt(EP, 'bLength', bLength, 0, 0xff);
  requireInt(EP, 'bDescriptorType', bDescriptorType, 0, 0xff);
  requireInt(EP, 'bEndpointAddress', d.bEndpointAddress, 0, 0xff);
  requireInt(EP, 'bmAttributes', d.bmAttributes, 0, 0xff);
  requireInt(EP, 'wMaxPacketSize', d.wMaxPacketSize, 0, 0xffff);
  requireInt(EP, 'bInterval', d.bInterval, 0, 0xff);
  const out = target ?? new Uint8Array(USB_ENDPOINT_DESCRIPTOR_SIZE);
  requireTarget(EP, out, USB_ENDPOINT_DESCRIPTOR_SIZE, offset);
  out[offset] = bLength; //                        @0 bLength
  out[offset + 1] = bDescriptorType; //            @1 bDescriptorType
  out[offset + 2] = d.bEndpointAddress; //         @2 bEndpointAddress
  out[offset + 3] = d.bmAttributes; //             @3 bmAttributes
  out[offset + 4] = d.wMaxPacketSize & 0xff; //    @4 wMaxPacketSize (unaligned LE)
  out[offset + 5] = d.wMaxPacketSize >> 8;
  out[offset + 6] = d.bInterval; //                @6 bInterval
  return out;
}

/**
 * Reads a 7-byte endpoint descriptor at `offset` (fields as they are; no bLength/type validation, so a
 * descriptor echoed by a driver can be compared byte for byte).
 * @throws AbiDecodeError when fewer than 7 bytes are available.
 */
export function decodeEndpointDescriptor(bytes: Uint8Array, offset = 0): EndpointDescriptor {
  requireBytes(EP, bytes, USB_ENDPOINT_DESCRIPTOR_SIZE, offset);
  return {
    bLength: bytes[offset]!,
    bDescriptorType: bytes[offset + 1]!,
    bEndpointAddress: bytes[offset + 2]!,
    bmAttributes: bytes[offset + 3]!,
    wMaxPacketSize: bytes[offset + 4]! | (bytes[offset + 5]! << 8),
    bInterval: bytes[offset + 6]!,
  };
}

/**
 * Writes a 9-byte interface descriptor at `offset` of `target` (new buffer if absent).
 * @throws UsageError ABI_ENCODE for out-of-range fields or a too-small target.
 */
export function encodeInterfaceDescriptor(d: InterfaceDescriptorInit, target?: Uint8Array, offset = 0): Uint8Array {
  const fields = [
    d.bLength ?? USB_INTERFACE_DESCRIPTOR_SIZE, //  @0 bLength
    d.bDescriptorType ?? USB_DT.INTERFACE, // @1 bDescriptorType
    d.bInterfaceNumber, //                          @2
    d.bAlternateSetting, //                         @3
    d.bNumEndpoints, //                             @4
    d.bInterfaceClass, //                           @5
    d.bInterfaceSubClass, //                        @6
    d.bInterfaceProtocol, //                        @7
    d.iInterface, //                                @8
  ] as const;
  const names = [
    'bLength',
    'bDescriptorType',
    'bInterfaceNumber',
    'bAlternateSetting',
    'bNumEndpoints',
    'bInterfaceClass',
    'bInterfaceSubClass',
    'bInterfaceProtocol',
    'iInterface',
  ] as const;
  fields.forEach((v, i) => requireInt(IF, names[i]!, v, 0, 0xff));
  const out = target ?? new Uint8Array(USB_INTERFACE_DESCRIPTOR_SIZE);
  requireTarget(IF, out, USB_INTERFACE_DESCRIPTOR_SIZE, offset);
  out.set(fields, offset);
  return out;
}

/**
 * Reads a 9-byte interface descriptor at `offset`.
 * @throws AbiDecodeError when fewer than 9 bytes are available.
 */
export function decodeInterfaceDescriptor(bytes: Uint8Array, offset = 0): InterfaceDescriptor {
  requireBytes(IF, bytes, USB_INTERFACE_DESCRIPTOR_SIZE, offset);
  return {
    bLength: bytes[offset]!,
    bDescriptorType: bytes[offset + 1]!,
    bInterfaceNumber: bytes[offset + 2]!,
    bAlternateSetting: bytes[offset + 3]!,
    bNumEndpoints: bytes[offset + 4]!,
    bInterfaceClass: bytes[offset + 5]!,
    bInterfaceSubClass: bytes[offset + 6]!,
    bInterfaceProtocol: bytes[offset + 7]!,
    iInterface: bytes[offset + 8]!,
  };
}

/** One descriptor found by {@link splitDescriptors}. */
export interface RawDescriptor {
  /** Byte offset of the descriptor in the walked buffer. */
  readonly offset: number;
  readonly bLength: number;
  readonly bDescriptorType: number;
  /** The descriptor's `bLength` bytes (a view into the input, not a copy). */
  readonly bytes: Uint8Array;
}

/**
 * Walks a concatenation of descriptors by bLength (USB 2.0 §9.5): registry InterfaceDescriptor blobs,
 * the descriptor set of GET_INTERFACE_DESCRIPTOR_SET, configuration descriptor bodies.
 * @throws AbiDecodeError for bLength < 2 (0 would loop forever) or a descriptor running past the end.
 */
export function splitDescriptors(bytes: Uint8Array): RawDescriptor[] {
  const out: RawDescriptor[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const bLength = bytes[offset]!;
    if (bLength < 2) {
      throw new AbiDecodeError({
        struct: 'USB descriptor',
        field: 'bLength',
        detail: `bLength ${bLength} at offset ${offset} (descriptor #${out.length}); every descriptor is at least 2 bytes — the blob is corrupt or not a descriptor list`,
      });
    }
    if (offset + bLength > bytes.length) {
      throw new AbiDecodeError({
        struct: 'USB descriptor',
        field: 'bLength',
        expectedBytes: bLength,
        actualBytes: bytes.length - offset,
        detail: `descriptor #${out.length} at offset ${offset} runs past the end of the ${bytes.length}-byte buffer`,
      });
    }
    out.push({ offset, bLength, bDescriptorType: bytes[offset + 1]!, bytes: bytes.subarray(offset, offset + bLength) });
    offset += bLength;
  }
  return out;
}
