/**
 * Shutting the service down: outstanding I/O cancelled, every notification unregistered, the handle
 * closed; the device's function can then be opened again by a new service.
 * @see docs/architecture.md#service-lifecycle step 8
 */
import { expect, phase, test } from '../../harness/index.js';

test('cancels its I/O, unregisters and closes when stopped', async ({ agent, device }) => {
  expect((await agent.loopback(512)).ok).toBe(true);
  await phase('stop the service', () => device.stopService());
  const log = await device.eventLog();
  const unregistered = log.filter((e) => e.kind === 'unregistered').map((e) => e.detail?.['filter']);
  expect(unregistered.sort()).toEqual(['deviceHandle', 'deviceInterface']);
  expect(log.some((e) => e.kind === 'close')).toBe(true);
  expect(log.filter((e) => e.level === 'error')).toEqual([]);
  expect((await device.status()).service).toBe('stopped');
});
