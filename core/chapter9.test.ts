import { describe, expect, it } from 'vitest';
import {
  BULK_MAX_PACKET_SIZE,
  bmRequestType,
  endpointIndex,
  endpointNumber,
  hex,
  isInEndpoint,
  transferTypeOf,
  USB_DT,
  USB_FEATURE,
  USB_REQUEST,
} from './chapter9.js';

describe('chapter-9 vocabulary (USB 2.0 Tables 9-4, 9-5, 9-6)', () => {
  it('has the standard request codes of Table 9-4', () => {
    expect(Object.values(USB_REQUEST)).toEqual([0, 1, 3, 5, 6, 7, 8, 9, 0x0a, 0x0b, 0x0c]);
  });

  it('has the feature selectors of Table 9-6 and the descriptor types of Table 9-5', () => {
    expect(USB_FEATURE).toEqual({ ENDPOINT_HALT: 0, DEVICE_REMOTE_WAKEUP: 1, TEST_MODE: 2 });
    expect([USB_DT.DEVICE, USB_DT.CONFIGURATION, USB_DT.STRING, USB_DT.INTERFACE, USB_DT.ENDPOINT]).toEqual([1, 2, 3, 4, 5]);
    expect([USB_DT.BOS, USB_DT.DEVICE_CAPABILITY, USB_DT.SS_ENDPOINT_COMPANION]).toEqual([0x0f, 0x10, 0x30]);
  });

  it.each([
    ['in', 'standard', 'device', 0x80],
    ['out', 'standard', 'interface', 0x01],
    ['out', 'standard', 'endpoint', 0x02],
    ['in', 'class', 'interface', 0xa1],
    ['out', 'class', 'interface', 0x21],
    ['in', 'vendor', 'device', 0xc0],
    ['out', 'class', 'other', 0x23],
  ] as const)('bmRequestType(%s, %s, %s) is 0x%s', (dir, type, recipient, byte) => {
    expect(bmRequestType(dir, type, recipient)).toBe(byte);
  });

  it('splits endpoint addresses', () => {
    expect(isInEndpoint(0x81)).toBe(true);
    expect(isInEndpoint(0x01)).toBe(false);
    expect(endpointNumber(0x8f)).toBe(15);
    expect([endpointIndex(0x00), endpointIndex(0x01), endpointIndex(0x80), endpointIndex(0x81), endpointIndex(0x8f)]).toEqual([0, 1, 16, 17, 31]);
    expect(transferTypeOf(0x02)).toBe('bulk');
    expect(transferTypeOf(0x43)).toBe('interrupt');
  });

  it('gives the bulk wMaxPacketSize per speed and hex for messages', () => {
    expect(BULK_MAX_PACKET_SIZE).toEqual({ full: 64, high: 512, super: 1024 });
    expect(hex(0x81)).toBe('0x81');
    expect(hex(0x1209, 4)).toBe('0x1209');
  });
});
