/**
 * The standard device descriptor (USB 2.0 §9.6.1, Table 9-8): 18 bytes.
 */
import { checkHeader, u16, u8 } from './descriptor-reader.js';
import { UsageError, USB_DT } from '../../core/index.js';

export interface DeviceDescriptor {
  readonly bLength: number;
  readonly bDescriptorType: number;
  readonly bcdUSB: number;
  readonly bDeviceClass: number;
  readonly bDeviceSubClass: number;
  readonly bDeviceProtocol: number;
  readonly bMaxPacketSize0: number;
  readonly idVendor: number;
  readonly idProduct: number;
  readonly bcdDevice: number;
  readonly iManufacturer: number;
  readonly iProduct: number;
  readonly iSerialNumber: number;
  readonly bNumConfigurations: number;
}

export const DEVICE_DESCRIPTOR_BYTES = 18;

/**
 * Parses a device descriptor.
 * @throws UsageError DECODE when shorter than 18 bytes, of another type, or bLength is inconsistent.
 * @see USB 2.0 §9.6.1
 */
export function parseDeviceDescriptor(bytes: Uint8Array): DeviceDescriptor {
  const bLength = checkHeader(bytes, 0, 'device', USB_DT.DEVICE, DEVICE_DESCRIPTOR_BYTES);
  return {
    bLength,
    bDescriptorType: u8(bytes, 1),
    bcdUSB: u16(bytes, 2),
    bDeviceClass: u8(bytes, 4),
    bDeviceSubClass: u8(bytes, 5),
    bDeviceProtocol: u8(bytes, 6),
    bMaxPacketSize0: u8(bytes, 7),
    idVendor: u16(bytes, 8),
    idProduct: u16(bytes, 10),
    bcdDevice: u16(bytes, 12),
    iManufacturer: u8(bytes, 14),
    iProduct: u8(bytes, 15),
    iSerialNumber: u8(bytes, 16),
    bNumConfigurations: u8(bytes, 17),
  };
}

/**
 * Encodes a device descriptor (bLength and bDescriptorType are always 18 and 1).
 * @throws UsageError INVALID_ARGUMENT when a field does not fit its width.
 */
export function encodeDeviceDescriptor(d: Omit<DeviceDescriptor, 'bLength' | 'bDescriptorType'>): Uint8Array {
  const out = new Uint8Array(DEVICE_DESCRIPTOR_BYTES);
  const put8 = (o: number, name: string, v: number): void => {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new UsageError('INVALID_ARGUMENT', `device descriptor ${name} ${v} does not fit 8 bits`);
    out[o] = v;
  };
  const put16 = (o: number, name: string, v: number): void => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new UsageError('INVALID_ARGUMENT', `device descriptor ${name} ${v} does not fit 16 bits`);
    out[o] = v & 0xff;
    out[o + 1] = v >>> 8;
  };
  out[0] = DEVICE_DESCRIPTOR_BYTES; //                     bLength
  out[1] = USB_DT.DEVICE; //                               bDescriptorType
  put16(2, 'bcdUSB', d.bcdUSB);
  put8(4, 'bDeviceClass', d.bDeviceClass);
  put8(5, 'bDeviceSubClass', d.bDeviceSubClass);
  put8(6, 'bDeviceProtocol', d.bDeviceProtocol);
  put8(7, 'bMaxPacketSize0', d.bMaxPacketSize0);
  put16(8, 'idVendor', d.idVendor);
  put16(10, 'idProduct', d.idProduct);
  put16(12, 'bcdDevice', d.bcdDevice);
  put8(14, 'iManufacturer', d.iManufacturer);
  put8(15, 'iProduct', d.iProduct);
  put8(16, 'iSerialNumber', d.iSerialNumber);
  put8(17, 'bNumConfigurations', d.bNumConfigurations);
  return out;
}
