/**
 * Unplugging in the middle of a bulk transfer: the host's transfer ends with LIBUSB_TRANSFER_NO_DEVICE,
 * the device's pending transfers are purged and it sees Detach; after the cable is plugged back and the
 * host reopens the device, everything works.
 * @see docs/reference/ioctls.md#call-order (UFX: detach purges the endpoints, then UsbfnEventDetach);
 * docs/reference/documented-vs-inferred.md#drv-purge-cancelled
 * @see docs/architecture.md#service-lifecycle step 5 (Detach → pending transfers end cancelled)
 */
import { assumption, delay, expect, isGone, param, phase, test } from '../../harness/index.js';

const BYTES = 1024 * 1024;

test('ends the transfers on both sides when the cable is pulled mid-transfer', { tags: ['sim-only', 'hotplug'] }, async ({ agent, clock, device, session, sim }) => {
  await param('bytes', BYTES);
  await agent.resetState();
  await agent.handle.bulkOut(agent.bulkOutEndpoint, new Uint8Array(BYTES), { zeroLengthPacket: true });
  const outcome = await phase('unplug while the echo is read', async () => {
    const read = agent.handle.bulkIn(agent.bulkInEndpoint, BYTES + 512, { timeoutMs: 5000 }).then(
      (r) => r,
      (e: unknown) => e,
    );
    // About a quarter of the ~20 ms the transfer needs at high speed.
    await delay(clock, 5);
    sim.unplug();
    return read;
  });
  expect(outcome).toMatchObject({ libusbName: 'LIBUSB_TRANSFER_NO_DEVICE' });
  expect(isGone(outcome)).toBe(true);
  await delay(clock, 1);
  const bus = (await device.eventLog()).filter((e) => e.kind === 'busEvent').map((e) => e.detail?.['type']);
  expect(bus.at(-1)).toBe('detach');
  expect((await device.status()).bus).toBe('detached');

  const again = await phase('plug the cable back and reopen', async () => {
    sim.replug();
    return session.reopenAgent();
  });
  // The device's counters, read over USB (GET_COUNTERS) once the host can reach the function again.
  const counters = await again.getCounters();
  await assumption('drv-purge-cancelled', 'a TRANSFER_IN pending at detach ends with ERROR_OPERATION_ABORTED (cancelled), not a failure', () => {
    expect(counters).toMatchObject({ cancelledTransfers: 1, failedTransfers: 0 });
  });
  expect(counters.cancelledTransfers).toBe(1);
  expect((await phase('loop back', () => again.loopback(BYTES, { seed: 22 }))).ok).toBe(true);
});

test('fails new transfers on the old handle once the device is gone', { tags: ['sim-only', 'hotplug'] }, async ({ agent, sim }) => {
  sim.unplug();
  const err = await agent.handle.bulkOut(agent.bulkOutEndpoint, new Uint8Array(64)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isGone(err)).toBe(true);
});
