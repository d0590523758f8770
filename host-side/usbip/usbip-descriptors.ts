/**
 * Descriptor reads both ends of a USB/IP link need, over any {@link UsbDeviceHandle}'s control pipe: the
 * server reads them through the exported host to fill `OP_REP_DEVLIST` / `OP_REP_IMPORT` and to know each
 * endpoint's transfer type; the client reads them through the imported link, as usbcore does when vhci-hcd
 * attaches a device, to know the interfaces it may claim.
 */
import { bmRequestType, hex, USB_DT, USB_REQUEST, type UsbTransferType } from '../../core/index.js';
import {
  DEVICE_DESCRIPTOR_BYTES,
  LANGID_EN_US,
  parseConfigurationDescriptor,
  parseDeviceDescriptor,
  parseLangIds,
  parseStringDescriptor,
  type ConfigurationDescriptor,
  type DeviceDescriptor,
} from '../descriptors/index.js';
import { LIBUSB_ERROR, libusbError } from '../libusb-error.js';
import type { UsbControlSetup, UsbDeviceHandle, UsbTransferOptions } from '../usb-host.js';
import type { UsbIpInterfaceRecord } from './usbip-op-codec.js';

/** The device descriptor and every configuration descriptor set, by configuration index. */
export interface DescriptorSet {
  readonly deviceDescriptor: DeviceDescriptor;
  readonly configurations: readonly ConfigurationDescriptor[];
}

type ControlInHandle = Pick<UsbDeviceHandle, 'controlIn'>;

const getDescriptor = (type: number, index: number, langId = 0): UsbControlSetup => ({
  requestType: 'standard',
  recipient: 'device',
  request: USB_REQUEST.GET_DESCRIPTOR,
  value: (type << 8) | index,
  index: langId,
});

async function read(handle: ControlInHandle, setup: UsbControlSetup, length: number, what: string, options: UsbTransferOptions): Promise<Uint8Array> {
  const r = await handle.controlIn(setup, length, options);
  if (r.status !== 'ok') {
    throw libusbError('readDescriptors', r.status === 'stall' ? LIBUSB_ERROR.LIBUSB_ERROR_PIPE : LIBUSB_ERROR.LIBUSB_ERROR_OVERFLOW, {
      detail: `${what} ended with ${r.status}: the device does not answer a chapter-9 request`,
    });
  }
  return r.data.slice();
}

/**
 * Reads GET_DESCRIPTOR(DEVICE) and, for each of its bNumConfigurations, GET_DESCRIPTOR(CONFIGURATION)
 * (the 9-byte header, then wTotalLength bytes).
 * @throws LibusbError when a request stalls or fails; UsageError DECODE for a malformed descriptor.
 */
export async function readDescriptorSet(handle: ControlInHandle, options: UsbTransferOptions = {}): Promise<DescriptorSet> {
  const deviceDescriptor = parseDeviceDescriptor(await read(handle, getDescriptor(USB_DT.DEVICE, 0), DEVICE_DESCRIPTOR_BYTES, 'GET_DESCRIPTOR(DEVICE)', options));
  const configurations: ConfigurationDescriptor[] = [];
  for (let i = 0; i < deviceDescriptor.bNumConfigurations; i++) {
    const head = await read(handle, getDescriptor(USB_DT.CONFIGURATION, i), 9, `GET_DESCRIPTOR(CONFIGURATION ${i}, 9)`, options);
    const total = (head[2] ?? 0) | ((head[3] ?? 0) << 8);
    configurations.push(parseConfigurationDescriptor(await read(handle, getDescriptor(USB_DT.CONFIGURATION, i), total, `GET_DESCRIPTOR(CONFIGURATION ${i})`, options)));
  }
  return { deviceDescriptor, configurations };
}

/**
 * GET_CONFIGURATION (USB 2.0 §9.4.2): the bConfigurationValue in use, 0 when unconfigured.
 * @throws LibusbError when the request fails.
 */
export async function readActiveConfiguration(handle: ControlInHandle, options: UsbTransferOptions = {}): Promise<number> {
  const data = await read(
    handle,
    { requestType: 'standard', recipient: 'device', request: USB_REQUEST.GET_CONFIGURATION, value: 0, index: 0 },
    1,
    'GET_CONFIGURATION',
    options,
  );
  return data[0] ?? 0;
}

/** Manufacturer, product and serial number strings (US English when offered); a string that fails to read is left out. */
export async function readDeviceStrings(
  handle: ControlInHandle,
  dd: DeviceDescriptor,
  options: UsbTransferOptions = {},
): Promise<{ manufacturer?: string | undefined; product?: string | undefined; serialNumber?: string | undefined }> {
  if ((dd.iManufacturer | dd.iProduct | dd.iSerialNumber) === 0) return {};
  const one = async (index: number, langId: number): Promise<string | undefined> => {
    if (index === 0) return undefined;
    const r = await handle.controlIn(getDescriptor(USB_DT.STRING, index, langId), 255, options);
    return r.status === 'ok' ? parseStringDescriptor(r.data) : undefined;
  };
  try {
    const langs = await handle.controlIn(getDescriptor(USB_DT.STRING, 0), 255, options);
    const ids = langs.status === 'ok' ? parseLangIds(langs.data) : [];
    const lang = ids.includes(LANGID_EN_US) ? LANGID_EN_US : (ids[0] ?? LANGID_EN_US);
    return { manufacturer: await one(dd.iManufacturer, lang), product: await one(dd.iProduct, lang), serialNumber: await one(dd.iSerialNumber, lang) };
  } catch {
    // Strings are informational ("only when readable", UsbHost.listDevices): a device without them still exports.
    return {};
  }
}

/** The configuration whose bConfigurationValue is `value`, or undefined (0 = unconfigured). */
export function configurationByValue(set: DescriptorSet, value: number): ConfigurationDescriptor | undefined {
  return value === 0 ? undefined : set.configurations.find((c) => c.bConfigurationValue === value);
}

/**
 * The `usbip_usb_interface` records of a configuration: one per interface (alternate setting 0), in
 * descriptor order, as Linux lists a device's interfaces.
 */
export function interfaceRecords(configuration: ConfigurationDescriptor | undefined): UsbIpInterfaceRecord[] {
  if (configuration === undefined) return [];
  return configuration.interfaces
    .filter((i) => i.bAlternateSetting === 0)
    .map((i) => ({ bInterfaceClass: i.bInterfaceClass, bInterfaceSubClass: i.bInterfaceSubClass, bInterfaceProtocol: i.bInterfaceProtocol }));
}

/**
 * Endpoint address → transfer type for the interfaces in `interfaceNumbers` (all when undefined) at their
 * current alternate settings (`alternates`, default 0). EP0 is not listed.
 */
export function endpointTypes(
  configuration: ConfigurationDescriptor | undefined,
  alternates: ReadonlyMap<number, number>,
  interfaceNumbers?: ReadonlySet<number>,
): Map<number, UsbTransferType> {
  const out = new Map<number, UsbTransferType>();
  if (configuration === undefined) return out;
  for (const i of configuration.interfaces) {
    if (interfaceNumbers !== undefined && !interfaceNumbers.has(i.bInterfaceNumber)) continue;
    if (i.bAlternateSetting !== (alternates.get(i.bInterfaceNumber) ?? 0)) continue;
    for (const e of i.endpoints) out.set(e.bEndpointAddress, e.transferType);
  }
  return out;
}

/** Isochronous endpoint addresses of a configuration, any alternate setting (refused over this link). */
export function isochronousEndpoints(configuration: ConfigurationDescriptor | undefined): number[] {
  const out = new Set<number>();
  for (const i of configuration?.interfaces ?? []) for (const e of i.endpoints) if (e.transferType === 'isochronous') out.add(e.bEndpointAddress);
  return [...out].sort((a, b) => a - b);
}

/** `0x81 (bulk IN)` for messages. */
export function describeEndpoint(address: number, type: UsbTransferType | undefined): string {
  return `${hex(address)}${type === undefined ? '' : ` (${type} ${(address & 0x80) !== 0 ? 'IN' : 'OUT'})`}`;
}

/** bmRequestType of the standard requests the server handles itself (stub_rx.c's special requests). */
export const SPECIAL_REQUEST_TYPES = {
  clearHalt: bmRequestType('out', 'standard', 'endpoint'),
  setInterface: bmRequestType('out', 'standard', 'interface'),
  setConfiguration: bmRequestType('out', 'standard', 'device'),
  /** USB_RT_PORT: a hub class request to a port (SET_FEATURE(PORT_RESET)). */
  portFeature: bmRequestType('out', 'class', 'other'),
} as const;

/** Hub class feature selector PORT_RESET (USB 2.0 Table 11-17). */
export const USB_PORT_FEAT_RESET = 4;
