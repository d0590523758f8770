/** Golden bytes of the structs the driver model writes (docs/reference/structs.md#usbfn-notification). */
import { describe, expect, it } from 'vitest';
import { USBFN_NOTIFICATION_SIZE, busSpeedFromValue, busSpeedValue, writeNotification } from './driver-structs.js';

const bytes = (event: Parameters<typeof writeNotification>[1]): number[] => {
  const out = new Uint8Array(16).fill(0xee);
  writeNotification(out, event);
  return [...out];
};

describe('writeNotification (USBFN_NOTIFICATION, 12 bytes)', () => {
  it('writes Event @0 and the union @4, zeroing unused union bytes, and never past byte 12', () => {
    expect(USBFN_NOTIFICATION_SIZE).toBe(12);
    const tail = [0xee, 0xee, 0xee, 0xee];
    expect(bytes({ type: 'reset', speed: 'high' })).toEqual([2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, ...tail]);
    expect(bytes({ type: 'detach' })).toEqual([3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...tail]);
    expect(bytes({ type: 'configured', configurationValue: 0x0102 })).toEqual([7, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0, ...tail]);
    expect(bytes({ type: 'setInterface', interfaceNumber: 3, alternateSetting: 1 })).toEqual([11, 0, 0, 0, 3, 0, 1, 0, 0, 0, 0, 0, ...tail]);
    expect(bytes({ type: 'setupPacket', setup: Uint8Array.of(0x21, 9, 1, 2, 3, 4, 5, 6) })).toEqual([
      6, 0, 0, 0, 0x21, 9, 1, 2, 3, 4, 5, 6, ...tail,
    ]);
    expect(bytes({ type: 'unConfigured' })[0]).toBe(8);
    expect(bytes({ type: 'suspend' })[0]).toBe(4);
    expect(bytes({ type: 'resume' })[0]).toBe(5);
    expect(bytes({ type: 'attach' })[0]).toBe(1);
  });

  it('maps USBFN_BUS_SPEED both ways (Low and out-of-range have no UFX speed)', () => {
    expect(['full', 'high', 'super'].map((s) => busSpeedValue(s as 'full'))).toEqual([1, 2, 3]);
    expect([0, 1, 2, 3, 4].map(busSpeedFromValue)).toEqual([undefined, 'full', 'high', 'super', undefined]);
  });
});
