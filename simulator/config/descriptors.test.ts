import { describe, expect, it } from 'vitest';
import {
  bosDescriptor,
  configurationDescriptor,
  deviceDescriptor,
  interfaceDescriptorSet,
  maxPacketSizeAt,
  resolveConfiguration,
  stringDescriptor,
} from './descriptors.js';
import { loopbackFunctionConfig, loopbackInterfaceDescriptor } from './test-function-config.js';

describe('descriptor builders', () => {
  it('builds the device descriptor byte for byte (golden, high speed)', () => {
    expect(Array.from(deviceDescriptor(loopbackFunctionConfig(), 'high'))).toEqual([
      18, 0x01, 0x00, 0x02, 0, 0, 0, 64, 0x09, 0x12, 0x01, 0x00, 0x00, 0x01, 1, 2, 3, 1,
    ]);
  });

  it('uses bcdUSB 0x0300 and bMaxPacketSize0 9 at SuperSpeed, and no serial index when iSerialNumber is 0', () => {
    const d = deviceDescriptor(loopbackFunctionConfig({ iSerialNumber: 0 }), 'super');
    expect([d[2], d[3], d[7], d[16]]).toEqual([0x00, 0x03, 9, 0]);
  });

  it('builds the configuration descriptor with per-speed wMaxPacketSize (golden, full speed)', () => {
    expect(Array.from(configurationDescriptor(loopbackFunctionConfig(), 'full'))).toEqual([
      9, 0x02, 32, 0, 1, 1, 0, 0xc0, 0xfa, // configuration
      9, 0x04, 0, 0, 2, 0xff, 0, 0, 4, //       interface 0, iInterface 4
      7, 0x05, 0x01, 0x02, 64, 0, 0, //         bulk OUT 0x01, 64
      7, 0x05, 0x81, 0x02, 64, 0, 0, //         bulk IN 0x81, 64
    ]);
  });

  it('adds SuperSpeed endpoint companions and a BOS descriptor at SuperSpeed', () => {
    const set = interfaceDescriptorSet(loopbackFunctionConfig(), 0, 'super');
    expect(Array.from(set.subarray(9, 9 + 13))).toEqual([7, 0x05, 0x01, 0x02, 0x00, 0x04, 0, 6, 0x30, 0, 0, 0, 0]);
    const bos = bosDescriptor();
    expect([bos[0], bos[1], bos[2], bos[4]]).toEqual([5, 0x0f, 22, 2]);
  });

  it('overwrites bInterfaceNumber with the registry InterfaceNumber', () => {
    const config = loopbackFunctionConfig();
    const key = config.Interfaces['UsbfnHilLoopback']!;
    const numbered = loopbackFunctionConfig({ Interfaces: { UsbfnHilLoopback: { ...key, InterfaceNumber: 0x42 } } });
    expect(resolveConfiguration(numbered).interfaces[0]!.interfaceNumber).toBe(0x42);
    expect(interfaceDescriptorSet(numbered, 0x42, 'high')[2]).toBe(0x42);
  });

  it('applies the per-speed packet size rules (ASSUMPTION(link-packet-sizes))', () => {
    expect([maxPacketSizeAt('bulk', 512, 'full'), maxPacketSizeAt('bulk', 64, 'high'), maxPacketSizeAt('bulk', 512, 'super')]).toEqual([64, 512, 1024]);
    expect([maxPacketSizeAt('interrupt', 512, 'full'), maxPacketSizeAt('interrupt', 512, 'high')]).toEqual([64, 512]);
    expect(maxPacketSizeAt('interrupt', 0x8000 | 200, 'full')).toBe(200);
  });

  it('encodes strings as UTF-16LE and truncates to 126 code units', () => {
    expect(Array.from(stringDescriptor('Hi'))).toEqual([6, 3, 0x48, 0, 0x69, 0]);
    expect(stringDescriptor('x'.repeat(300)).length).toBe(254);
  });

  it('rejects a blob whose bNumEndpoints disagrees with its endpoint descriptors, naming the key', () => {
    const blob = loopbackInterfaceDescriptor();
    blob[4] = 3;
    const key = loopbackFunctionConfig().Interfaces['UsbfnHilLoopback']!;
    expect(() => resolveConfiguration(loopbackFunctionConfig({ Interfaces: { UsbfnHilLoopback: { ...key, InterfaceDescriptor: blob } } }))).toThrow(
      /UsbfnHilLoopback: bNumEndpoints is 3/,
    );
  });

  it('rejects a CurrentConfiguration that is not a key of Configurations', () => {
    expect(() => resolveConfiguration(loopbackFunctionConfig({ CurrentConfiguration: 'Nope' }))).toThrow(/INVALID_CONFIG.*'Nope'/);
  });
});
