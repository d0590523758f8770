/**
 * A host transfer that never reaches the device (lost on the way: the host controller times it out)
 * ends with LIBUSB_TRANSFER_TIMED_OUT at its timeout, and the next transfer on that pipe works.
 * @see libusb (LIBUSB_TRANSFER_TIMED_OUT); docs/simulator.md#faults-the-sim-fixture (host timeout)
 */
import { expect, isTimeout, param, phase, test } from '../../harness/index.js';

test('times out a lost bulk OUT and loops back the next transfer', { tags: ['sim-only'] }, async ({ agent, clock, sim }) => {
  const timeoutMs = 1000;
  await param('timeoutMs', timeoutMs);
  sim.timeoutNextUrb(agent.bulkOutEndpoint);
  const start = clock.now();
  const err: unknown = await phase('bulk OUT that is lost', () =>
    agent.handle.bulkOut(agent.bulkOutEndpoint, new Uint8Array(100), { timeoutMs }).then(
      (r) => r,
      (e: unknown) => e,
    ),
  );
  expect(isTimeout(err)).toBe(true);
  expect(err).toMatchObject({ libusbName: 'LIBUSB_TRANSFER_TIMED_OUT' });
  expect(clock.now() - start).toBeCloseTo(timeoutMs, 0);
  const r = await phase('loop back', () => agent.loopback(100, { seed: 7 }));
  expect(r.ok).toBe(true);
});

test('times out a lost control request and answers the next one', { tags: ['sim-only'] }, async ({ agent, sim }) => {
  sim.timeoutNextUrb(0x00);
  const err: unknown = await agent.readPattern(0, 8, { timeoutMs: 500 }).then(
    (r) => r,
    (e: unknown) => e,
  );
  expect(isTimeout(err)).toBe(true);
  const r = await agent.readPattern(0, 8);
  expect(r.status).toBe('ok');
});
