/**
 * Codec of the USB/IP operation phase: `op_common`, the `usbip_usb_device` / `usbip_usb_interface` records
 * and the `OP_REQ_DEVLIST`, `OP_REP_DEVLIST`, `OP_REQ_IMPORT`, `OP_REP_IMPORT` messages. Big-endian.
 *
 * Layouts (offsets in bytes, Documentation/usb/usbip_protocol.rst):
 * - op_common: version u16 @0, code u16 @2, status u32 @4 (8 bytes);
 * - usbip_usb_device: path char[256] @0, busid char[32] @256, busnum u32 @288, devnum u32 @292, speed u32
 *   @296, idVendor u16 @300, idProduct u16 @302, bcdDevice u16 @304, bDeviceClass @306, bDeviceSubClass
 *   @307, bDeviceProtocol @308, bConfigurationValue @309, bNumConfigurations @310, bNumInterfaces @311
 *   (312 bytes);
 * - usbip_usb_interface: bInterfaceClass @0, bInterfaceSubClass @1, bInterfaceProtocol @2, padding @3.
 *
 * @see https://docs.kernel.org/usb/usbip_protocol.html
 */
import { UsageError } from '../../core/index.js';
import { USBIP_BYTES, USBIP_OP, USBIP_ST, USBIP_VERSION } from './usbip-protocol.js';

/** `op_common`. */
export interface UsbIpOpCommon {
  readonly version: number;
  readonly code: number;
  readonly status: number;
}

/** `usbip_usb_interface`. */
export interface UsbIpInterfaceRecord {
  readonly bInterfaceClass: number;
  readonly bInterfaceSubClass: number;
  readonly bInterfaceProtocol: number;
}

/** `usbip_usb_device`. */
export interface UsbIpDeviceRecord {
  /** Where the device sits on the exporting host (Linux: its sysfs path). At most 255 bytes. */
  readonly path: string;
  /** The id a client imports it by (Linux: `<bus>-<port path>`, e.g. `1-2`). At most 31 ASCII bytes. */
  readonly busid: string;
  readonly busnum: number;
  readonly devnum: number;
  /** `enum usb_device_speed` ({@link USB_SPEED}). */
  readonly speed: number;
  readonly idVendor: number;
  readonly idProduct: number;
  readonly bcdDevice: number;
  readonly bDeviceClass: number;
  readonly bDeviceSubClass: number;
  readonly bDeviceProtocol: number;
  readonly bConfigurationValue: number;
  readonly bNumConfigurations: number;
  readonly bNumInterfaces: number;
}

/** One entry of `OP_REP_DEVLIST`: the device and one record per interface of its active configuration. */
export interface UsbIpExportedDevice extends UsbIpDeviceRecord {
  readonly interfaces: readonly UsbIpInterfaceRecord[];
}

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

function protocolError(message: string): UsageError {
  return new UsageError('USBIP_PROTOCOL', message);
}

function checkRange(value: number, max: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new UsageError('INVALID_ARGUMENT', `USB/IP ${field} ${value} does not fit its field (0..${max})`);
  }
}

/** Writes a NUL-terminated, zero-padded string field. */
function writeString(target: Uint8Array, offset: number, size: number, text: string, field: string): void {
  const bytes = Buffer.from(text, 'latin1');
  if (bytes.length >= size || !/^[\x20-\x7e]*$/.test(text)) {
    throw new UsageError('INVALID_ARGUMENT', `USB/IP ${field} '${text}' must be printable ASCII of at most ${size - 1} bytes`);
  }
  target.fill(0, offset, offset + size);
  target.set(bytes, offset);
}

/**
 * Reads a NUL-terminated string field.
 * @throws UsageError USBIP_PROTOCOL when the field has no terminating NUL or holds non-printable bytes.
 */
function readString(source: Uint8Array, offset: number, size: number, field: string): string {
  const end = source.indexOf(0, offset);
  if (end < 0 || end >= offset + size) throw protocolError(`${field} is not NUL-terminated within its ${size} bytes`);
  for (let i = offset; i < end; i++) {
    const c = source[i]!;
    if (c < 0x20 || c > 0x7e) throw protocolError(`${field} holds a non-printable byte 0x${c.toString(16).padStart(2, '0')} at offset ${i - offset}`);
  }
  return Buffer.from(source.buffer, source.byteOffset + offset, end - offset).toString('latin1');
}

/** Encodes `op_common` (version 0x0111) into 8 bytes. */
export function encodeOpCommon(code: number, status: number, target: Uint8Array = new Uint8Array(USBIP_BYTES.OP_COMMON), offset = 0): Uint8Array {
  const v = view(target);
  v.setUint16(offset, USBIP_VERSION);
  v.setUint16(offset + 2, code);
  v.setUint32(offset + 4, status);
  return target;
}

/** Decodes `op_common` from 8 bytes at `offset` (no check of its values: the caller judges them). */
export function decodeOpCommon(source: Uint8Array, offset = 0): UsbIpOpCommon {
  const v = view(source);
  return { version: v.getUint16(offset), code: v.getUint16(offset + 2), status: v.getUint32(offset + 4) };
}

/** Writes a 312-byte `usbip_usb_device`. @throws UsageError INVALID_ARGUMENT for a field out of range. */
export function encodeDeviceRecord(d: UsbIpDeviceRecord, target: Uint8Array, offset: number): void {
  writeString(target, offset, USBIP_BYTES.PATH, d.path, 'path');
  writeString(target, offset + 256, USBIP_BYTES.BUSID, d.busid, 'busid');
  for (const [field, max] of [['busnum', 0xffffffff], ['devnum', 0xffffffff], ['speed', 0xffffffff], ['idVendor', 0xffff], ['idProduct', 0xffff], ['bcdDevice', 0xffff]] as const) {
    checkRange(d[field], max, field);
  }
  const bytes = ['bDeviceClass', 'bDeviceSubClass', 'bDeviceProtocol', 'bConfigurationValue', 'bNumConfigurations', 'bNumInterfaces'] as const;
  for (const field of bytes) checkRange(d[field], 0xff, field);
  const v = view(target);
  v.setUint32(offset + 288, d.busnum);
  v.setUint32(offset + 292, d.devnum);
  v.setUint32(offset + 296, d.speed);
  v.setUint16(offset + 300, d.idVendor);
  v.setUint16(offset + 302, d.idProduct);
  v.setUint16(offset + 304, d.bcdDevice);
  bytes.forEach((field, i) => (target[offset + 306 + i] = d[field]));
}

/** Reads a 312-byte `usbip_usb_device`. @throws UsageError USBIP_PROTOCOL for a malformed string field. */
export function decodeDeviceRecord(source: Uint8Array, offset = 0): UsbIpDeviceRecord {
  const v = view(source);
  return {
    path: readString(source, offset, USBIP_BYTES.PATH, 'path'),
    busid: readString(source, offset + 256, USBIP_BYTES.BUSID, 'busid'),
    busnum: v.getUint32(offset + 288),
    devnum: v.getUint32(offset + 292),
    speed: v.getUint32(offset + 296),
    idVendor: v.getUint16(offset + 300),
    idProduct: v.getUint16(offset + 302),
    bcdDevice: v.getUint16(offset + 304),
    bDeviceClass: source[offset + 306]!,
    bDeviceSubClass: source[offset + 307]!,
    bDeviceProtocol: source[offset + 308]!,
    bConfigurationValue: source[offset + 309]!,
    bNumConfigurations: source[offset + 310]!,
    bNumInterfaces: source[offset + 311]!,
  };
}

/** Reads a 4-byte `usbip_usb_interface` (the padding byte is ignored). */
export function decodeInterfaceRecord(source: Uint8Array, offset = 0): UsbIpInterfaceRecord {
  return { bInterfaceClass: source[offset]!, bInterfaceSubClass: source[offset + 1]!, bInterfaceProtocol: source[offset + 2]! };
}

/** `OP_REQ_DEVLIST`: op_common only. */
export function encodeOpReqDevlist(): Uint8Array {
  return encodeOpCommon(USBIP_OP.OP_REQ_DEVLIST, 0);
}

/**
 * `OP_REP_DEVLIST`: op_common (status 0), ndev u32, then per device its record and one interface record per
 * `bNumInterfaces`.
 * @throws UsageError INVALID_ARGUMENT when a device's `interfaces` disagrees with its `bNumInterfaces`.
 */
export function encodeOpRepDevlist(devices: readonly UsbIpExportedDevice[]): Uint8Array {
  let size = USBIP_BYTES.OP_COMMON + 4;
  for (const d of devices) {
    if (d.interfaces.length !== d.bNumInterfaces) {
      throw new UsageError('INVALID_ARGUMENT', `USB/IP device ${d.busid}: ${d.interfaces.length} interface records for bNumInterfaces ${d.bNumInterfaces}`);
    }
    size += USBIP_BYTES.DEVICE + USBIP_BYTES.INTERFACE * d.bNumInterfaces;
  }
  const out = new Uint8Array(size);
  encodeOpCommon(USBIP_OP.OP_REP_DEVLIST, USBIP_ST.ST_OK, out, 0);
  view(out).setUint32(8, devices.length);
  let at = USBIP_BYTES.OP_COMMON + 4;
  for (const d of devices) {
    encodeDeviceRecord(d, out, at);
    at += USBIP_BYTES.DEVICE;
    for (const i of d.interfaces) {
      out[at] = i.bInterfaceClass;
      out[at + 1] = i.bInterfaceSubClass;
      out[at + 2] = i.bInterfaceProtocol;
      at += USBIP_BYTES.INTERFACE; // padding stays 0
    }
  }
  return out;
}

/** `OP_REQ_IMPORT`: op_common and the 32-byte busid. */
export function encodeOpReqImport(busid: string): Uint8Array {
  const out = new Uint8Array(USBIP_BYTES.OP_COMMON + USBIP_BYTES.BUSID);
  encodeOpCommon(USBIP_OP.OP_REQ_IMPORT, 0, out, 0);
  writeString(out, USBIP_BYTES.OP_COMMON, USBIP_BYTES.BUSID, busid, 'busid');
  return out;
}

/** The busid of an `OP_REQ_IMPORT` body (32 bytes). @throws UsageError USBIP_PROTOCOL when malformed. */
export function decodeImportBusid(body: Uint8Array, offset = 0): string {
  return readString(body, offset, USBIP_BYTES.BUSID, 'busid');
}

/** `OP_REP_IMPORT`: op_common with `status`, then the device record when the status is ST_OK. */
export function encodeOpRepImport(status: number, device?: UsbIpDeviceRecord): Uint8Array {
  if (status !== USBIP_ST.ST_OK) return encodeOpCommon(USBIP_OP.OP_REP_IMPORT, status);
  if (device === undefined) throw new UsageError('INVALID_ARGUMENT', 'OP_REP_IMPORT with ST_OK needs the device record');
  const out = new Uint8Array(USBIP_BYTES.OP_COMMON + USBIP_BYTES.DEVICE);
  encodeOpCommon(USBIP_OP.OP_REP_IMPORT, USBIP_ST.ST_OK, out, 0);
  encodeDeviceRecord(device, out, USBIP_BYTES.OP_COMMON);
  return out;
}
