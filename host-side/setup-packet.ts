/**
 * The SETUP packet builder: WebUSB vocabulary (`{ requestType, recipient, request, value, index }` plus the
 * direction and length from the call) → bmRequestType/bRequest/wValue/wIndex/wLength and the 8 raw bytes
 * (USB 2.0 §9.3, Table 9-2). Both backends and the simulator's capture use it, so the bytes on the wire
 * are built in one place.
 */
import {
  USB_DIR,
  USB_FEATURE,
  USB_RECIPIENT,
  USB_REQUEST,
  USB_REQUEST_TYPE,
  UsageError,
  type SetupPacket,
  type UsbDirection,
  type UsbRecipient,
  type UsbRequestType,
} from '../core/index.js';
import type { UsbControlSetup } from './usb-host.js';

function check16(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) {
    throw new UsageError('INVALID_ARGUMENT', `${name} ${v} is not a 16-bit value (0..0xffff): pass an integer in range`, {
      field: name,
      value: v,
    });
  }
}

function check8(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) {
    throw new UsageError('INVALID_ARGUMENT', `${name} ${v} is not an 8-bit value (0..0xff): pass an integer in range`, {
      field: name,
      value: v,
    });
  }
}

/**
 * bmRequestType for a direction, type and recipient.
 * @throws UsageError INVALID_ARGUMENT for an unknown request type or recipient.
 */
export function bmRequestTypeOf(direction: UsbDirection, requestType: UsbRequestType, recipient: UsbRecipient): number {
  const t = USB_REQUEST_TYPE[requestType];
  const r = USB_RECIPIENT[recipient];
  if (t === undefined || r === undefined) {
    throw new UsageError(
      'INVALID_ARGUMENT',
      `unknown requestType '${String(requestType)}' or recipient '${String(recipient)}': use standard|class|vendor and device|interface|endpoint|other`,
    );
  }
  return (direction === 'in' ? USB_DIR.IN : USB_DIR.OUT) | t | r;
}

/**
 * Builds the SETUP fields of a control transfer; the direction and wLength come from the call
 * (controlIn(setup, length) / controlOut(setup, data)).
 * @throws UsageError INVALID_ARGUMENT when bRequest is not 8-bit or wValue/wIndex/wLength not 16-bit.
 * @see USB 2.0 §9.3
 */
export function buildSetup(setup: UsbControlSetup, direction: UsbDirection, length: number): SetupPacket {
  check8('bRequest', setup.request);
  check16('wValue', setup.value);
  check16('wIndex', setup.index);
  check16('wLength', length);
  return {
    bmRequestType: bmRequestTypeOf(direction, setup.requestType, setup.recipient),
    bRequest: setup.request,
    wValue: setup.value,
    wIndex: setup.index,
    wLength: length,
  };
}

/** The 8 bytes on the wire, little-endian (USB 2.0 §9.3). Writes into `target` at `offset` when given. */
export function encodeSetup(p: SetupPacket, target: Uint8Array = new Uint8Array(8), offset = 0): Uint8Array {
  target[offset] = p.bmRequestType; //                  bmRequestType
  target[offset + 1] = p.bRequest; //                   bRequest
  target[offset + 2] = p.wValue & 0xff; //              wValue (LE)
  target[offset + 3] = p.wValue >>> 8;
  target[offset + 4] = p.wIndex & 0xff; //              wIndex (LE)
  target[offset + 5] = p.wIndex >>> 8;
  target[offset + 6] = p.wLength & 0xff; //             wLength (LE)
  target[offset + 7] = p.wLength >>> 8;
  return target;
}

/**
 * Decodes 8 SETUP bytes.
 * @throws UsageError DECODE when fewer than 8 bytes are given.
 */
export function decodeSetup(bytes: Uint8Array): SetupPacket {
  if (bytes.length < 8) {
    throw new UsageError('DECODE', `a SETUP packet is 8 bytes, got ${bytes.length} (USB 2.0 §9.3)`, { length: bytes.length });
  }
  const b = (i: number): number => bytes[i] ?? 0;
  return {
    bmRequestType: b(0),
    bRequest: b(1),
    wValue: b(2) | (b(3) << 8),
    wIndex: b(4) | (b(5) << 8),
    wLength: b(6) | (b(7) << 8),
  };
}

/** The WebUSB view of a decoded packet (direction from bit 7). */
export function describeSetup(p: SetupPacket): UsbControlSetup & { readonly direction: UsbDirection; readonly length: number } {
  const types: readonly UsbRequestType[] = ['standard', 'class', 'vendor'];
  const recipients: readonly UsbRecipient[] = ['device', 'interface', 'endpoint', 'other'];
  const t = types[(p.bmRequestType >> 5) & 0x3];
  const r = recipients[p.bmRequestType & 0x1f];
  if (t === undefined || r === undefined) {
    throw new UsageError(
      'DECODE',
      `bmRequestType 0x${p.bmRequestType.toString(16).padStart(2, '0')} uses a reserved type or recipient (USB 2.0 Table 9-2)`,
    );
  }
  return {
    direction: (p.bmRequestType & USB_DIR.IN) !== 0 ? 'in' : 'out',
    requestType: t,
    recipient: r,
    request: p.bRequest,
    value: p.wValue,
    index: p.wIndex,
    length: p.wLength,
  };
}

/** Setup for a standard request to the device (GET_DESCRIPTOR, SET_CONFIGURATION, ...). */
export function standardDevice(request: number, value = 0, index = 0): UsbControlSetup {
  return { requestType: 'standard', recipient: 'device', request, value, index };
}

/** GET_DESCRIPTOR(type, index) with wIndex = LANGID for strings (USB 2.0 §9.4.3). */
export function getDescriptorSetup(descriptorType: number, descriptorIndex = 0, languageId = 0): UsbControlSetup {
  check8('descriptor type', descriptorType);
  check8('descriptor index', descriptorIndex);
  return standardDevice(USB_REQUEST.GET_DESCRIPTOR, (descriptorType << 8) | descriptorIndex, languageId);
}

/** A class request to interface `interfaceNumber` (wIndex low byte; high byte from `indexHigh`). */
export function classInterface(interfaceNumber: number, request: number, value = 0, indexHigh = 0): UsbControlSetup {
  check8('interface number', interfaceNumber);
  check8('wIndex high byte', indexHigh);
  return { requestType: 'class', recipient: 'interface', request, value, index: (indexHigh << 8) | interfaceNumber };
}

/** A vendor request to the device. */
export function vendorDevice(request: number, value = 0, index = 0): UsbControlSetup {
  return { requestType: 'vendor', recipient: 'device', request, value, index };
}

/** CLEAR_FEATURE(ENDPOINT_HALT) to `endpoint` (USB 2.0 §9.4.1). */
export function clearEndpointHaltSetup(endpoint: number): UsbControlSetup {
  check8('endpoint', endpoint);
  return { requestType: 'standard', recipient: 'endpoint', request: USB_REQUEST.CLEAR_FEATURE, value: USB_FEATURE.ENDPOINT_HALT, index: endpoint };
}
