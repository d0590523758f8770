/**
 * Re-enumeration cycles: after each port reset or unplug/replug the host finds the same function again,
 * loopback works, and the device-side service keeps the one interface handle it opened (a bus reset or a
 * cable unplug is a bus event, not a PnP removal of the function's devnode).
 * @see USB 2.0 §9.1.2 (reset → default state), §7.1.7.5; docs/reference/structs.md#usbfn-event (Reset/Detach events);
 * HLK "Windows USB Device" re-enumeration; docs/architecture.md#service-lifecycle step 5
 */
import { expect, param, phase, test } from '../../harness/index.js';

const CYCLES = 20;

test('comes back after 20 port resets with loopback working and the interface opened once', { tags: ['slow'] }, async ({ agent, session, device }) => {
  await param('cycles', CYCLES);
  const resetsSoFar = async (): Promise<number> => (await device.eventLog()).filter((e) => e.kind === 'busEvent' && e.detail?.['type'] === 'reset').length;
  // Hosts reset more than once per enumeration (Linux usbcore and Windows: twice below SuperSpeed).
  const perEnumeration = await resetsSoFar();
  expect(perEnumeration).toBeGreaterThanOrEqual(1);
  let current = agent;
  for (let i = 0; i < CYCLES; i++) {
    await current.handle.reset();
    current = await session.reopenAgent();
    const r = await current.loopback(512, { seed: i + 1 });
    expect(r.ok, `loopback after reset ${i + 1}`).toBe(true);
  }
  const status = await device.status();
  expect(status).toMatchObject({ service: 'active', bus: 'configured', openCount: 1 });
  // The first enumeration's resets, and as many again per cycle (libusb_reset_device re-runs the host's port init).
  expect(await resetsSoFar()).toBe((CYCLES + 1) * perEnumeration);
});

test('comes back after 20 unplug/replug cycles with loopback working and the interface opened once', { tags: ['sim-only', 'hotplug', 'slow'] }, async ({ agent, session, device, sim }) => {
  await param('cycles', CYCLES);
  let current = agent;
  for (let i = 0; i < CYCLES; i++) {
    await phase(`unplug and replug (${i + 1})`, async () => {
      sim.unplug();
      sim.replug();
      current = await session.reopenAgent();
    });
    const r = await current.loopback(512, { seed: i + 1 });
    expect(r.ok, `loopback after replug ${i + 1}`).toBe(true);
  }
  expect(await device.status()).toMatchObject({ service: 'active', bus: 'configured', openCount: 1 });
  const detaches = (await device.eventLog()).filter((e) => e.kind === 'busEvent' && e.detail?.['type'] === 'detach');
  expect(detaches.length).toBe(CYCLES);
});
