/**
 * SET_INTERFACE: the host selects an alternate setting of the function's interface; GenericUSBFn.sys
 * reports UsbfnEventSetInterface to the service, and the interface's data toggles start at DATA0.
 * @see USB 2.0 §9.4.10 (SET_INTERFACE resets the toggles of the interface's endpoints);
 * docs/reference/structs.md#usbfn-event (UsbfnEventSetInterface)
 */
import { delay, expect, phase, test } from '../../harness/index.js';

test('reports SET_INTERFACE to the device with the interface and alternate setting', async ({ agent, clock, device }) => {
  expect((await agent.loopback(512)).ok).toBe(true);
  await phase('select alternate setting 0', () => agent.handle.selectAlternate(agent.interfaceNumber, 0));
  await delay(clock, 1);
  const events = (await device.eventLog()).filter((e) => e.kind === 'busEvent' && e.detail?.['type'] === 'setInterface');
  expect(events).toHaveLength(1);
  expect(events[0]?.detail).toMatchObject({ interfaceNumber: agent.interfaceNumber, alternateSetting: 0 });
});

test('resets the data toggles of the interface endpoints on SET_INTERFACE', { tags: ['sim-only'] }, async ({ agent, sim }) => {
  expect((await agent.loopback(1, { seed: 26 })).ok).toBe(true);
  expect(sim.endpointState(agent.bulkInEndpoint).toggle).toBe(1);
  expect(sim.endpointState(agent.bulkOutEndpoint).toggle).toBe(1);
  await agent.handle.selectAlternate(agent.interfaceNumber, 0);
  expect(sim.endpointState(agent.bulkInEndpoint).toggle).toBe(0);
  expect(sim.endpointState(agent.bulkOutEndpoint).toggle).toBe(0);
});

test('keeps the bulk pipes working after SET_INTERFACE', async ({ agent }) => {
  expect((await agent.loopback(512, { seed: 27 })).ok).toBe(true);
  await phase('select alternate setting 0', () => agent.handle.selectAlternate(agent.interfaceNumber, 0));
  const r = await phase('loop back on the re-queried pipes', () => agent.loopback(1500, { seed: 28 }));
  expect(r).toMatchObject({ ok: true, bytesRead: 1500 });
});
