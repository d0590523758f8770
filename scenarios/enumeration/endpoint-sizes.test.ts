/**
 * Endpoint sizes per speed: the host reads the bulk endpoints' wMaxPacketSize and EP0's bMaxPacketSize0
 * that the speed allows (64 at full speed, 512 at high speed, 1024 with an SS companion at SuperSpeed).
 * @see USB 2.0 §5.8.3, §9.6.1, §9.6.6; USB 3.2 §9.6.1, §9.6.7; docs/reference/registry.md#per-speed-packet-sizes
 */
import { describe, expect, phase, test } from '../../harness/index.js';
import { readConfigurationDescriptor, readDeviceDescriptor } from './get-descriptor.js';

describe('at full speed', () => {
  test.override({ world: { speed: 'full' } });

  test('reports 64-byte bulk endpoints and a 64-byte EP0', async ({ agent }) => {
    const d = await readDeviceDescriptor(agent.handle);
    const c = await phase('read the configuration descriptor', () => readConfigurationDescriptor(agent.handle));
    expect(agent.handle.info.speed).toBe('full');
    expect(d).toMatchObject({ bcdUSB: 0x0200, bMaxPacketSize0: 64 });
    expect(c.interfaces[0]?.endpoints.map((e) => e.wMaxPacketSize)).toEqual([64, 64]);
  });
});

describe('at high speed', () => {
  test.override({ world: { speed: 'high' } });

  test('reports 512-byte bulk endpoints and a 64-byte EP0', async ({ agent }) => {
    const d = await readDeviceDescriptor(agent.handle);
    const c = await phase('read the configuration descriptor', () => readConfigurationDescriptor(agent.handle));
    expect(agent.handle.info.speed).toBe('high');
    expect(d).toMatchObject({ bcdUSB: 0x0200, bMaxPacketSize0: 64 });
    expect(c.interfaces[0]?.endpoints.map((e) => e.wMaxPacketSize)).toEqual([512, 512]);
  });
});

describe('at SuperSpeed', () => {
  test.override({ world: { speed: 'super' } });

  test('reports 1024-byte bulk endpoints with companions and a 512-byte EP0', async ({ agent }) => {
    const d = await readDeviceDescriptor(agent.handle);
    const c = await phase('read the configuration descriptor', () => readConfigurationDescriptor(agent.handle));
    expect(agent.handle.info.speed).toBe('super');
    // USB 3.2 §9.6.1: bMaxPacketSize0 is an exponent at SuperSpeed (2^9 = 512).
    expect(d).toMatchObject({ bcdUSB: 0x0300, bMaxPacketSize0: 9 });
    const endpoints = c.interfaces[0]?.endpoints ?? [];
    expect(endpoints.map((e) => e.wMaxPacketSize)).toEqual([1024, 1024]);
    for (const e of endpoints) expect(e.ssCompanion).toBeDefined();
  });
});
