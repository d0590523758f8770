/**
 * SET_CONFIGURATION 1 → 0 → 1 from the host: the device side sees UnConfigured then Configured, and the
 * function works again afterwards.
 * @see USB 2.0 §9.4.7; docs/reference/ioctls.md#call-order (UsbfnEventUnConfigured / UsbfnEventConfigured);
 * docs/architecture.md#service-lifecycle step 5
 */
import { expect, phase, test } from '../../harness/index.js';

test('deconfigures and reconfigures on SET_CONFIGURATION 0 then 1, and loops back after', async ({ agent, device }) => {
  const before = (await device.eventLog()).length;
  await phase('release the interface', () => agent.handle.releaseInterface(agent.interfaceNumber));
  await phase('SET_CONFIGURATION(0)', () => agent.handle.selectConfiguration(0));
  expect((await device.status()).bus).toBe('default');
  await phase('SET_CONFIGURATION(1)', () => agent.handle.selectConfiguration(1));
  await device.whenConfigured();
  expect((await device.status()).bus).toBe('configured');
  const busEvents = (await device.eventLog())
    .slice(before)
    .filter((e) => e.kind === 'busEvent')
    .map((e) => e.detail?.['type']);
  expect(busEvents).toEqual(['unConfigured', 'configured']);

  await agent.handle.claimInterface(agent.interfaceNumber);
  const r = await phase('loop back', () => agent.loopback(1024, { seed: 3 }));
  expect(r.ok).toBe(true);
});
