/**
 * GET_DESCRIPTOR from the host, the way an enumerating host reads them (USB 2.0 §9.4.3): the device
 * descriptor, the configuration set in two steps (9-byte header, then wTotalLength), strings by LANGID.
 * Shared by the enumeration scenarios; it fails loudly on a stall instead of handing back empty bytes.
 */
import { getDescriptorSetup, LANGID_EN_US, parseConfigurationDescriptor, parseDeviceDescriptor, parseLangIds, parseStringDescriptor, type ConfigurationDescriptor, type DeviceDescriptor, type UsbDeviceHandle } from '../../host-side/index.js';
import { UsageError, USB_DT } from '../../harness/index.js';

/**
 * Raw GET_DESCRIPTOR of up to `length` bytes.
 * @throws UsageError UNEXPECTED_STALL when EP0 stalls (use `handle.controlIn` directly to assert a stall).
 */
export async function getDescriptor(handle: UsbDeviceHandle, type: number, index: number, length: number, langId = 0): Promise<Uint8Array> {
  const r = await handle.controlIn(getDescriptorSetup(type, index, langId), length);
  if (r.status !== 'ok') {
    throw new UsageError(
      'UNEXPECTED_STALL',
      `GET_DESCRIPTOR(type 0x${type.toString(16).padStart(2, '0')}, index ${index}) ended with status ${r.status}: the device does not report this descriptor`,
      { type, index },
    );
  }
  return r.data.slice();
}

export async function readDeviceDescriptor(handle: UsbDeviceHandle): Promise<DeviceDescriptor> {
  return parseDeviceDescriptor(await getDescriptor(handle, USB_DT.DEVICE, 0, 18));
}

/** Reads the 9-byte header, then the whole set (wTotalLength), as Windows and Linux hosts do. */
export async function readConfigurationDescriptor(handle: UsbDeviceHandle): Promise<ConfigurationDescriptor> {
  const head = await getDescriptor(handle, USB_DT.CONFIGURATION, 0, 9);
  const wTotalLength = (head[2] ?? 0) | ((head[3] ?? 0) << 8);
  return parseConfigurationDescriptor(await getDescriptor(handle, USB_DT.CONFIGURATION, 0, wTotalLength));
}

export async function readLangIds(handle: UsbDeviceHandle): Promise<number[]> {
  return parseLangIds(await getDescriptor(handle, USB_DT.STRING, 0, 255));
}

export async function readString(handle: UsbDeviceHandle, index: number, langId = LANGID_EN_US): Promise<string> {
  return parseStringDescriptor(await getDescriptor(handle, USB_DT.STRING, index, 255, langId));
}
