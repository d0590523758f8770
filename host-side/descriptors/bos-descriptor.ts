/**
 * The Binary device Object Store (USB 3.2 §9.6.2): a 5-byte header then device capability descriptors
 * (§9.6.2.1). USB 2.0 LPM devices (bcdUSB 0x0201) and Microsoft OS 2.0 descriptors (platform capability)
 * use it.
 */
import { USB_DT } from '../../core/index.js';
import { checkHeader, descriptorError, u16, u8 } from './descriptor-reader.js';

/** bDevCapabilityType values (USB 3.2 Table 9-14). */
export const USB_DEVICE_CAPABILITY = {
  WIRELESS_USB: 0x01,
  USB_2_0_EXTENSION: 0x02,
  SUPERSPEED_USB: 0x03,
  CONTAINER_ID: 0x04,
  PLATFORM: 0x05,
} as const;

export interface DeviceCapabilityDescriptor {
  readonly bDevCapabilityType: number;
  /** The bytes after bDevCapabilityType. */
  readonly data: Uint8Array;
  /** PLATFORM only: PlatformCapabilityUUID in the canonical text form. */
  readonly platformUuid?: string | undefined;
}

export interface BosDescriptor {
  readonly wTotalLength: number;
  readonly bNumDeviceCaps: number;
  readonly capabilities: DeviceCapabilityDescriptor[];
}

/** A GUID stored little-endian in its first three fields (the Microsoft layout used by platform capabilities). */
function guidAt(b: Uint8Array, o: number): string {
  const h = (i: number): string => u8(b, o + i).toString(16).padStart(2, '0');
  return (
    h(3) + h(2) + h(1) + h(0) + '-' + h(5) + h(4) + '-' + h(7) + h(6) + '-' + h(8) + h(9) + '-' +
    h(10) + h(11) + h(12) + h(13) + h(14) + h(15)
  ).toUpperCase();
}

/**
 * Parses a full BOS descriptor (wTotalLength bytes).
 * @throws UsageError DECODE when truncated, when a capability has another type or bad length, or when
 * the capability count differs from bNumDeviceCaps.
 * @see USB 3.2 §9.6.2
 */
export function parseBosDescriptor(bytes: Uint8Array): BosDescriptor {
  checkHeader(bytes, 0, 'BOS', USB_DT.BOS, 5);
  const wTotalLength = u16(bytes, 2);
  const bNumDeviceCaps = u8(bytes, 4);
  if (wTotalLength > bytes.length) {
    throw descriptorError('BOS', `wTotalLength ${wTotalLength} but only ${bytes.length} bytes given: read it again with wLength = wTotalLength`, 2);
  }
  const capabilities: DeviceCapabilityDescriptor[] = [];
  let o = u8(bytes, 0);
  while (o < wTotalLength) {
    const len = checkHeader(bytes.subarray(0, wTotalLength), o, 'device capability', USB_DT.DEVICE_CAPABILITY, 3);
    const type = u8(bytes, o + 2);
    const data = bytes.subarray(o + 3, o + len);
    let platformUuid: string | undefined;
    if (type === USB_DEVICE_CAPABILITY.PLATFORM) {
      if (len < 20) throw descriptorError('platform capability', `bLength ${len} is below 20`, o);
      platformUuid = guidAt(bytes, o + 4);
    }
    capabilities.push({ bDevCapabilityType: type, data, platformUuid });
    o += len;
  }
  if (capabilities.length !== bNumDeviceCaps) {
    throw descriptorError('BOS', `bNumDeviceCaps ${bNumDeviceCaps} but ${capabilities.length} capabilities present`, 4);
  }
  return { wTotalLength, bNumDeviceCaps, capabilities };
}
