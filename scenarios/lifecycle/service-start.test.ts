/**
 * Service start order: the device-side service finds its interface whether it starts before the device's
 * function devnode arrives (arrival notification) or after (the initial interface list).
 * @see docs/architecture.md#service-lifecycle steps 1–3; docs/reference/configuration-manager.md#register-then-list
 * (CM_Register_Notification, CM_Get_Device_Interface_ListW)
 * @see https://learn.microsoft.com/windows-hardware/drivers/usbcon/user-mode-services-ufx
 */
import { describe, expect, phase, test } from '../../harness/index.js';

describe('service started before the device arrives', () => {
  test.override({ world: { powered: false } });

  test('opens the interface when its arrival is notified', { tags: ['sim-only', 'hotplug'] }, async ({ device, sim }) => {
    await phase('wait for the device', async () => {
      expect(await device.status()).toMatchObject({ service: 'waitingForInterface', openCount: 0 });
      const listed = (await device.eventLog()).find((e) => e.kind === 'listed');
      expect(listed?.detail).toEqual({ links: [] });
    });
    await phase('power the device', async () => {
      sim.powerOn();
      await device.whenActive();
    });
    const log = await device.eventLog();
    expect(log.some((e) => e.kind === 'interfaceArrival')).toBe(true);
    expect((await device.status()).openCount).toBe(1);
  });

  test('serves the host once the arrived device is configured', { tags: ['sim-only', 'hotplug'] }, async ({ sim, session }) => {
    sim.powerOn();
    const agent = await phase('open the function', () => session.agent());
    const result = await phase('loop back', () => agent.loopback(512, { seed: 3 }));
    expect(result.ok).toBe(true);
  });
});

describe('service started after the device arrived', () => {
  test.override({ world: { startService: false } });

  test('opens the interface found in the initial list', async ({ device }) => {
    expect((await device.status()).service).toBe('idle');
    await phase('start the service', () => device.startService());
    await device.whenActive();
    const log = await device.eventLog();
    const listed = log.find((e) => e.kind === 'listed');
    expect(listed?.detail?.['links']).toHaveLength(1);
    expect(log.some((e) => e.kind === 'interfaceArrival')).toBe(false);
    expect(await device.status()).toMatchObject({ service: 'active', openCount: 1 });
  });

  test('serves the host once configured', async ({ device, session }) => {
    await device.startService();
    const agent = await phase('open the function', () => session.agent());
    const result = await phase('loop back', () => agent.loopback(1024, { seed: 4 }));
    expect(result.ok).toBe(true);
  });
});
