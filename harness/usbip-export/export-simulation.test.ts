/**
 * The export of a simulation, end to end over 127.0.0.1, for what the UsbHost contract does not reach: the
 * standard requests the server runs as seam calls (port reset, SET_CONFIGURATION, SET_INTERFACE) against the
 * simulated link, a detach while a transfer is pending (the connection ends, the client sees the device
 * gone), the device coming back, and the refusal to export a simulation on virtual time.
 */
import { describe, expect, it } from 'vitest';
import { isGone } from '../../core/index.js';
import { UsbIpUsbHost, type UsbIpLogEntry } from '../../host-side/index.js';
import { createSimulation, TEST_FUNCTION_PID, TEST_FUNCTION_VID, exportSimulation } from '../../simulator/index.js';
import { startLoopbackExport } from './loopback-export.js';

const FILTER = { vendorId: TEST_FUNCTION_VID, productId: TEST_FUNCTION_PID };
const pattern = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff);

describe('exportSimulation', () => {
  it('refuses a simulation on virtual time', async () => {
    await using sim = createSimulation();
    await expect(exportSimulation(sim, { port: 0 })).rejects.toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringMatching(/createSimulation\(\{ realTime: true \}\)/) });
  });

  it('runs port reset, SET_CONFIGURATION and SET_INTERFACE on the simulated device, which keeps looping data', async () => {
    await using world = await startLoopbackExport();
    await using host = new UsbIpUsbHost({ port: world.port, pollIntervalMs: 20 });
    await using dev = await host.open(await host.waitForDevice(FILTER, { timeoutMs: 5000 }));
    const loop = async (seed: number): Promise<void> => {
      await dev.bulkOut(0x01, pattern(300, seed));
      expect((await dev.bulkIn(0x81, 512)).data).toEqual(pattern(300, seed));
    };
    await dev.claimInterface(0);
    await loop(1);
    await dev.reset();
    await world.service.whenConfigured({ timeoutMs: 5000 });
    await loop(2);
    await dev.selectAlternate(0, 0);
    await loop(3);
    await dev.releaseInterface(0);
    await dev.selectConfiguration(1);
    await world.service.whenConfigured({ timeoutMs: 5000 });
    await dev.claimInterface(0);
    await loop(4);
    await expect(dev.selectAlternate(0, 1)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NOT_FOUND' });
  });

  it('ends the import when the device is unplugged, and serves it again once it is back', async () => {
    const log: UsbIpLogEntry[] = [];
    await using world = await startLoopbackExport({ log: (e) => log.push(e) });
    await using host = new UsbIpUsbHost({ port: world.port, pollIntervalMs: 20 });
    const dev = await host.open(await host.waitForDevice(FILTER, { timeoutMs: 5000 }));
    await dev.claimInterface(0);
    const pending = dev.bulkIn(0x81, 64, { timeoutMs: 5000 }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    world.simulation.detach();
    const err = await pending;
    expect(err).toMatchObject({ libusbName: 'LIBUSB_TRANSFER_NO_DEVICE' });
    expect(isGone(err)).toBe(true);
    // A transfer submitted before the connection's end reaches the client fails on the server (-ENODEV), later
    // calls at once: gone either way.
    expect(isGone(await dev.bulkIn(0x81, 64).catch((e: unknown) => e))).toBe(true);
    for (let i = 0; i < 100 && !log.some((e) => e.event === 'end' && /detached/.test(e.message)); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(log.filter((e) => e.event === 'end').map((e) => e.message)).toContainEqual(expect.stringMatching(/the exported device detached/));
    expect(isGone(await dev.bulkIn(0x81, 64).catch((e: unknown) => e))).toBe(true);
    await dev.close();
    expect(await host.listDevices(FILTER)).toEqual([]);

    world.simulation.attach();
    const again = await host.waitForDevice(FILTER, { timeoutMs: 5000 });
    await using dev2 = await host.open(again);
    await dev2.claimInterface(0);
    await dev2.bulkOut(0x01, pattern(10, 9));
    expect((await dev2.bulkIn(0x81, 64)).data).toEqual(pattern(10, 9));
  });
});
