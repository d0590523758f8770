/**
 * The register-then-list race: an interface that arrives after CM_Register_Notification and before
 * CM_Get_Device_Interface_ListW is reported twice (notification and list); the service opens it once.
 * @see docs/architecture.md#service-lifecycle step 2; docs/reference/configuration-manager.md#register-then-list
 * (notifications have no history: register before listing)
 */
import { describe, eventually, expect, phase, test } from '../../harness/index.js';

describe('arrival between registration and listing', () => {
  test.override({ world: { powered: false, startService: false } });

  test('opens the interface once when both the notification and the list report it', { tags: ['sim-only', 'hotplug'] }, async ({ clock, device, sim }) => {
    await phase('start the service and power the device in the same instant', async () => {
      const starting = device.startService();
      // Registration is made synchronously by start(); the device arrives before the list is read.
      sim.powerOn();
      await starting;
      await device.whenActive();
      // The notification is delivered asynchronously (docs/reference/configuration-manager.md#callback), possibly after the list was opened.
      await eventually(clock, 'the arrival notification in the device log', async () =>
        (await device.eventLog()).some((e) => e.kind === 'interfaceArrival'),
      );
    });
    const log = await device.eventLog();
    const listed = log.find((e) => e.kind === 'listed');
    const link = (await device.status()).symbolicLink;
    expect(listed?.detail?.['links']).toEqual([link]);
    expect(log.some((e) => e.kind === 'interfaceArrival' && e.detail?.['link'] === link)).toBe(true);
    expect(log.filter((e) => e.kind === 'open')).toHaveLength(1);
    expect(log.find((e) => e.kind === 'offerIgnored')?.detail).toMatchObject({ link, duplicate: true });
    expect((await device.status()).openCount).toBe(1);
  });
});
