/**
 * Notifications have no history: a CM_Register_Notification made after an interface arrived sees nothing
 * of that arrival, only what happens after it (which is why the service lists after registering).
 * @see docs/architecture.md#service-lifecycle step 7; docs/reference/configuration-manager.md#no-history
 */
import { delay, expect, phase, test } from '../../harness/index.js';

test('a late registration sees only events after it', { tags: ['sim-only', 'hotplug'] }, async ({ clock, device, sim }) => {
  await device.whenActive();
  const seen: number[] = [];
  const reg = await phase('register after the arrival', () =>
    sim.watchInterfaces((action) => {
      seen.push(action);
      return 0;
    }),
  );
  try {
    await delay(clock, 10);
    expect(seen).toEqual([]);
    await phase('remove the device', async () => {
      expect(await sim.queryRemove()).toBe('removed');
      await delay(clock, 1);
    });
    // Only the removal that happened after registering: CM_NOTIFY_ACTION_DEVICEINTERFACEREMOVAL (1).
    expect(seen).toEqual([1]);
  } finally {
    await reg.unregister();
  }
});
