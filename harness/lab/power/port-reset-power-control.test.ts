import { describe, expect, it } from 'vitest';
import { LIBUSB_ERROR, libusbError, type UsbDeviceHandle } from '../../../host-side/index.js';
import { openRig } from '../../rig.js';
import { PortResetPowerControl } from './port-reset-power-control.js';
import { POWER_ERROR } from './power-control-error.js';

/** A handle whose reset does what the test says. */
function handleResetting(reset: () => Promise<void>): UsbDeviceHandle & { resets: number } {
  const h = {
    resets: 0,
    async reset() {
      h.resets++;
      await reset();
    },
  };
  return h as unknown as UsbDeviceHandle & { resets: number };
}

describe('PortResetPowerControl', () => {
  it('resets the port of the simulated device, which re-enumerates', async () => {
    await using rig = await openRig('sim');
    const session = await rig.openSession({ name: 'port reset', seed: 7, world: {} });
    await session.agent();
    const info = await session.host.waitForDevice({ vendorId: 0x1209, productId: 0x0001 }, { timeoutMs: 2_000 });
    const handle = await session.host.open(info);
    const before = session.capture.recordCount;
    const asked: number[] = [];
    const power = new PortResetPowerControl({
      getHandle: async ({ timeoutMs }) => {
        asked.push(timeoutMs);
        return handle;
      },
      clock: session.clock,
    });
    expect(power.kind).toBe('port-reset');
    await power.cycle({ timeoutMs: 5_000 });
    expect(asked).toEqual([5_000]);
    const log = await session.device.eventLog();
    expect(log.filter((e) => e.kind === 'busEvent' && (e.detail as { type?: string } | undefined)?.type === 'reset').length).toBeGreaterThanOrEqual(2);
    // The host re-read the descriptors: the capture grew, and the device is still usable.
    expect(session.capture.recordCount).toBeGreaterThan(before);
    await handle.close();
    const agent = await session.reopenAgent({ timeoutMs: 2_000 });
    const echoed = await agent.loopback(64);
    expect(echoed).toMatchObject({ ok: true });
  });

  it('treats LIBUSB_ERROR_NOT_FOUND (the device came back as a new one) as a done reset', async () => {
    const h = handleResetting(async () => {
      throw libusbError('reset', LIBUSB_ERROR.LIBUSB_ERROR_NOT_FOUND, { detail: 'the descriptors changed across the reset' });
    });
    await new PortResetPowerControl({ getHandle: async () => h }).cycle();
    expect(h.resets).toBe(1);
  });

  it('says the device is gone on LIBUSB_ERROR_NO_DEVICE and passes other libusb errors on', async () => {
    const gone = handleResetting(async () => {
      throw libusbError('reset', LIBUSB_ERROR.LIBUSB_ERROR_NO_DEVICE);
    });
    await expect(new PortResetPowerControl({ getHandle: async () => gone }).cycle()).rejects.toMatchObject({
      code: POWER_ERROR.deviceGone,
      cause: { libusbName: 'LIBUSB_ERROR_NO_DEVICE' },
    });
    const io = handleResetting(async () => {
      throw libusbError('reset', LIBUSB_ERROR.LIBUSB_ERROR_IO);
    });
    await expect(new PortResetPowerControl({ getHandle: async () => io }).cycle()).rejects.toMatchObject({ code: 'LIBUSB', libusbName: 'LIBUSB_ERROR_IO' });
  });

  it('bounds a reset that never returns', async () => {
    const stuck = handleResetting(() => new Promise<void>(() => undefined));
    await expect(new PortResetPowerControl({ getHandle: async () => stuck }).cycle({ timeoutMs: 20 })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('cannot hold the device off; on has nothing to do', async () => {
    const power = new PortResetPowerControl({ getHandle: async () => handleResetting(async () => undefined) });
    await expect(power.off()).rejects.toMatchObject({ code: POWER_ERROR.notSupported, message: expect.stringContaining('cannot keep it off the bus') });
    await expect(power.on()).resolves.toBeUndefined();
    const ac = new AbortController();
    ac.abort();
    await expect(power.on({ signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
