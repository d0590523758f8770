/**
 * Custom events: a driver's IoReportTargetDeviceChange reaches the service's handle registration as
 * CM_NOTIFY_ACTION_DEVICECUSTOMEVENT with its GUID and data, and the service hands it to the function.
 * @see docs/architecture.md#service-lifecycle step 7; docs/reference/structs.md#cm-notify-event-data (u.DeviceHandle)
 */
import { delay, expect, phase, test } from '../../harness/index.js';

const EVENT_GUID = '{3B7D1F42-9C0A-4E5B-8D21-6F4A2C9E7B10}';

test('delivers a custom event with its GUID and data size', { tags: ['sim-only'] }, async ({ agent, clock, device, sim }) => {
  expect((await agent.loopback(64)).ok).toBe(true);
  const data = Uint8Array.from({ length: 24 }, (_, i) => i);
  await phase('send the custom event', async () => {
    await sim.sendCustomEvent(EVENT_GUID, data);
    await delay(clock, 1);
  });
  const events = (await device.eventLog()).filter((e) => e.kind === 'customEvent');
  expect(events).toHaveLength(1);
  expect(String(events[0]?.detail?.['eventGuid']).toUpperCase()).toBe(EVENT_GUID);
  expect(events[0]?.detail?.['bytes']).toBe(24);
  // The event does not disturb the function.
  expect(await device.status()).toMatchObject({ service: 'active', openCount: 1 });
  expect((await agent.loopback(512, { seed: 6 })).ok).toBe(true);
});
