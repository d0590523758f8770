/**
 * The configuration descriptor set as GET_DESCRIPTOR(CONFIGURATION) returns it (USB 2.0 §9.6.3): the
 * 9-byte configuration header, then interface association (IAD, ECN), interface, endpoint and
 * SuperSpeed endpoint companion (USB 3.2 §9.6.7) descriptors, with class-specific descriptors kept as
 * raw `extra` bytes on whatever precedes them (as libusb does).
 */
import { USB_DT } from '../../core/index.js';
import { checkHeader, descriptorError, u16, u8 } from './descriptor-reader.js';

export interface SsEndpointCompanionDescriptor {
  readonly bMaxBurst: number;
  readonly bmAttributes: number;
  readonly wBytesPerInterval: number;
}

export interface EndpointDescriptor {
  readonly bEndpointAddress: number;
  readonly bmAttributes: number;
  /** bits 10..0 = size; bits 12..11 = additional transactions per microframe (USB 2.0 §9.6.6). */
  readonly wMaxPacketSize: number;
  readonly bInterval: number;
  /** Derived: `bEndpointAddress & 0x80 ? 'in' : 'out'`. */
  readonly direction: 'in' | 'out';
  /** Derived from bmAttributes bits 1..0. */
  readonly transferType: 'control' | 'isochronous' | 'bulk' | 'interrupt';
  readonly ssCompanion?: SsEndpointCompanionDescriptor | undefined;
  /** Class-specific descriptors that follow this endpoint. */
  readonly extra: Uint8Array;
}

export interface InterfaceDescriptor {
  readonly bInterfaceNumber: number;
  readonly bAlternateSetting: number;
  readonly bNumEndpoints: number;
  readonly bInterfaceClass: number;
  readonly bInterfaceSubClass: number;
  readonly bInterfaceProtocol: number;
  readonly iInterface: number;
  readonly endpoints: EndpointDescriptor[];
  /** Class-specific descriptors between this interface and its first endpoint. */
  readonly extra: Uint8Array;
}

export interface InterfaceAssociationDescriptor {
  readonly bFirstInterface: number;
  readonly bInterfaceCount: number;
  readonly bFunctionClass: number;
  readonly bFunctionSubClass: number;
  readonly bFunctionProtocol: number;
  readonly iFunction: number;
}

export interface ConfigurationDescriptor {
  readonly wTotalLength: number;
  readonly bNumInterfaces: number;
  readonly bConfigurationValue: number;
  readonly iConfiguration: number;
  readonly bmAttributes: number;
  /** In 2 mA units (8 mA for SuperSpeed). */
  readonly bMaxPower: number;
  /** Every interface descriptor in order (one per alternate setting). */
  readonly interfaces: InterfaceDescriptor[];
  readonly associations: InterfaceAssociationDescriptor[];
  /** Class-specific descriptors between the header and the first interface. */
  readonly extra: Uint8Array;
}

const TRANSFER_TYPES = ['control', 'isochronous', 'bulk', 'interrupt'] as const;

interface MutableInterface extends Omit<InterfaceDescriptor, 'extra' | 'endpoints'> {
  extra: Uint8Array;
  endpoints: MutableEndpoint[];
}
interface MutableEndpoint extends Omit<EndpointDescriptor, 'extra' | 'ssCompanion'> {
  extra: Uint8Array;
  ssCompanion?: SsEndpointCompanionDescriptor | undefined;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Parses a full configuration descriptor set (wTotalLength bytes).
 * @throws UsageError DECODE when the set is truncated (read wTotalLength bytes, not 9), a descriptor has
 * bLength 0 or runs past the end, an endpoint appears before any interface, or an interface's endpoint
 * count differs from bNumEndpoints.
 * @see USB 2.0 §9.6.3–§9.6.6, USB 3.2 §9.6.7
 */
export function parseConfigurationDescriptor(bytes: Uint8Array): ConfigurationDescriptor {
  checkHeader(bytes, 0, 'configuration', USB_DT.CONFIGURATION, 9);
  const wTotalLength = u16(bytes, 2);
  if (wTotalLength < 9) throw descriptorError('configuration', `wTotalLength ${wTotalLength} is below 9`, 2);
  if (wTotalLength > bytes.length) {
    throw descriptorError(
      'configuration',
      `wTotalLength ${wTotalLength} but only ${bytes.length} bytes given: read the descriptor again with wLength = wTotalLength`,
      2,
    );
  }
  const interfaces: MutableInterface[] = [];
  const associations: InterfaceAssociationDescriptor[] = [];
  let extra: Uint8Array = new Uint8Array(0);
  let iface: MutableInterface | undefined;
  let ep: MutableEndpoint | undefined;

  let o = u8(bytes, 0);
  while (o < wTotalLength) {
    if (wTotalLength - o < 2) throw descriptorError('configuration', `${wTotalLength - o} stray bytes at the end`, o);
    const bLength = u8(bytes, o);
    const type = u8(bytes, o + 1);
    if (bLength < 2) throw descriptorError('configuration', `a descriptor has bLength ${bLength}`, o);
    if (o + bLength > wTotalLength) throw descriptorError('configuration', `descriptor type 0x${type.toString(16)} of bLength ${bLength} runs past wTotalLength ${wTotalLength}`, o);
    const d = bytes.subarray(o, o + bLength);
    switch (type) {
      case USB_DT.INTERFACE: {
        checkHeader(d, 0, 'interface', USB_DT.INTERFACE, 9);
        iface = {
          bInterfaceNumber: u8(d, 2),
          bAlternateSetting: u8(d, 3),
          bNumEndpoints: u8(d, 4),
          bInterfaceClass: u8(d, 5),
          bInterfaceSubClass: u8(d, 6),
          bInterfaceProtocol: u8(d, 7),
          iInterface: u8(d, 8),
          endpoints: [],
          extra: new Uint8Array(0),
        };
        interfaces.push(iface);
        ep = undefined;
        break;
      }
      case USB_DT.ENDPOINT: {
        checkHeader(d, 0, 'endpoint', USB_DT.ENDPOINT, 7);
        if (iface === undefined) throw descriptorError('configuration', 'an endpoint descriptor precedes every interface descriptor', o);
        const addr = u8(d, 2);
        const attrs = u8(d, 3);
        ep = {
          bEndpointAddress: addr,
          bmAttributes: attrs,
          wMaxPacketSize: u16(d, 4),
          bInterval: u8(d, 6),
          direction: (addr & 0x80) !== 0 ? 'in' : 'out',
          transferType: TRANSFER_TYPES[attrs & 0x3] ?? 'control',
          ssCompanion: undefined,
          extra: new Uint8Array(0),
        };
        iface.endpoints.push(ep);
        break;
      }
      case USB_DT.SS_ENDPOINT_COMPANION: {
        checkHeader(d, 0, 'SuperSpeed endpoint companion', USB_DT.SS_ENDPOINT_COMPANION, 6);
        if (ep === undefined) throw descriptorError('configuration', 'a SuperSpeed endpoint companion does not follow an endpoint', o);
        ep.ssCompanion = { bMaxBurst: u8(d, 2), bmAttributes: u8(d, 3), wBytesPerInterval: u16(d, 4) };
        break;
      }
      case USB_DT.INTERFACE_ASSOCIATION: {
        checkHeader(d, 0, 'interface association', USB_DT.INTERFACE_ASSOCIATION, 8);
        associations.push({
          bFirstInterface: u8(d, 2),
          bInterfaceCount: u8(d, 3),
          bFunctionClass: u8(d, 4),
          bFunctionSubClass: u8(d, 5),
          bFunctionProtocol: u8(d, 6),
          iFunction: u8(d, 7),
        });
        break;
      }
      default: {
        // Class-specific: attach to the endpoint, else the interface, else the configuration (libusb's `extra`).
        if (ep !== undefined) ep.extra = concat(ep.extra, d);
        else if (iface !== undefined) iface.extra = concat(iface.extra, d);
        else extra = concat(extra, d);
      }
    }
    o += bLength;
  }
  for (const i of interfaces) {
    if (i.endpoints.length !== i.bNumEndpoints) {
      throw descriptorError(
        'configuration',
        `interface ${i.bInterfaceNumber} alt ${i.bAlternateSetting} declares bNumEndpoints ${i.bNumEndpoints} but has ${i.endpoints.length} endpoint descriptors`,
        0,
      );
    }
  }
  return {
    wTotalLength,
    bNumInterfaces: u8(bytes, 4),
    bConfigurationValue: u8(bytes, 5),
    iConfiguration: u8(bytes, 6),
    bmAttributes: u8(bytes, 7),
    bMaxPower: u8(bytes, 8),
    interfaces,
    associations,
    extra,
  };
}
