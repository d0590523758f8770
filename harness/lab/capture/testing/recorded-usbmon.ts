/**
 * usbmon captures for tests, written by the simulator's usbmon pcap writer (the same bytes the kernel's
 * mon_bin gives libpcap): an enumeration and a bulk loopback of the test function on bus 1, address 7, at a
 * chosen host time. Test support only: the capture module itself never imports the simulator.
 */
import { UsbmonPcapWriter, type UrbEvent } from '../../../../simulator/index.js';

const GET_DESCRIPTOR_DEVICE = Uint8Array.of(0x80, 0x06, 0x00, 0x01, 0x00, 0x00, 0x12, 0x00);
const SET_CONFIGURATION_1 = Uint8Array.of(0x00, 0x09, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00);
const DEVICE_DESCRIPTOR = Uint8Array.of(0x12, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x40, 0x09, 0x12, 0x01, 0x00, 0x00, 0x01, 0x01, 0x02, 0x03, 0x01);

/** The URB events of one scenario starting `atUs` (µs since the epoch), `urbBase` keeping URB ids distinct. */
export function scenarioUrbs(atUs: number, urbBase: number, bytes = 512): UrbEvent[] {
  const payload = new Uint8Array(bytes).map((_, i) => i & 0xff);
  const common = { busNumber: 1, deviceAddress: 7, transferFlags: 0 };
  return [
    { ...common, urbId: urbBase + 1, kind: 'S', transferType: 'control', endpoint: 0x80, timeUs: atUs, status: -115, length: 18, setup: GET_DESCRIPTOR_DEVICE, transferFlags: 0x200 },
    { ...common, urbId: urbBase + 1, kind: 'C', transferType: 'control', endpoint: 0x80, timeUs: atUs + 120, status: 0, length: 18, data: DEVICE_DESCRIPTOR, transferFlags: 0x200 },
    { ...common, urbId: urbBase + 2, kind: 'S', transferType: 'control', endpoint: 0x00, timeUs: atUs + 500, status: -115, length: 0, setup: SET_CONFIGURATION_1 },
    { ...common, urbId: urbBase + 2, kind: 'C', transferType: 'control', endpoint: 0x00, timeUs: atUs + 610, status: 0, length: 0 },
    { ...common, urbId: urbBase + 3, kind: 'S', transferType: 'bulk', endpoint: 0x01, timeUs: atUs + 1_000, status: -115, length: bytes, data: payload },
    { ...common, urbId: urbBase + 3, kind: 'C', transferType: 'bulk', endpoint: 0x01, timeUs: atUs + 1_090, status: 0, length: bytes },
    { ...common, urbId: urbBase + 4, kind: 'S', transferType: 'bulk', endpoint: 0x81, timeUs: atUs + 1_100, status: -115, length: bytes, transferFlags: 0x200 },
    { ...common, urbId: urbBase + 4, kind: 'C', transferType: 'bulk', endpoint: 0x81, timeUs: atUs + 1_200, status: 0, length: bytes, data: payload, transferFlags: 0x200 },
  ];
}

/** A usbmon pcap (LINKTYPE 220) of the given URB events. */
export function usbmonPcap(events: readonly UrbEvent[]): Uint8Array {
  const writer = new UsbmonPcapWriter();
  for (const e of events) writer.record(e);
  return writer.toBytes();
}
