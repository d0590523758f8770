/**
 * Surprise removal (driver crash, devnode yanked): no query; the device's pending I/O ends cancelled, the
 * service tears down on REMOVECOMPLETE / interface removal and waits; the device can arrive again.
 * @see docs/architecture.md#service-lifecycle step 7; docs/reference/configuration-manager.md#surprise-removal
 * (DEVICEREMOVECOMPLETE without DEVICEQUERYREMOVE); docs/reference/documented-vs-inferred.md#drv-removed-while-open
 * @see docs/simulator-driver.md "Handles" (device removed while open);
 * docs/reference/documented-vs-inferred.md#link-function-removal (what the host sees meanwhile)
 */
import { assumption, delay, expect, isCancelled, phase, test } from '../../harness/index.js';

test('cancels the device transfers in flight and waits for the device again', { tags: ['sim-only', 'hotplug'] }, async ({ agent, clock, device, session, sim }) => {
  await agent.resetState();
  await phase('leave an echo pending on the device', async () => {
    // The host writes but does not read: the loopback's TRANSFER_IN of 2000 bytes stays pending.
    const w = await agent.handle.bulkOut(agent.bulkOutEndpoint, new Uint8Array(2000));
    expect(w).toEqual({ status: 'ok', bytesWritten: 2000 });
    await delay(clock, 1);
    expect(sim.endpointState(agent.bulkInEndpoint).queuedDevice).toBe(1);
  });
  await phase('surprise-remove the function', async () => {
    await sim.surpriseRemove();
    await device.whenWaiting();
  });
  const log = await device.eventLog();
  expect(log.some((e) => e.kind === 'queryRemove')).toBe(false);
  const kinds = log.map((e) => e.kind);
  expect(kinds).toContain('teardown');
  expect(kinds.indexOf('close')).toBeGreaterThan(kinds.indexOf('teardown'));
  // Nothing cancelled was reported as a failure.
  expect(log.filter((e) => e.level === 'error')).toEqual([]);
  expect(await device.status()).toMatchObject({ service: 'waitingForInterface', openCount: 1 });
  // The device's counters, read over USB (GET_COUNTERS) once the function is back and the host reopened it.
  const again = await phase('the device arrives again and the host reopens it', async () => {
    sim.arrive();
    await device.whenActive();
    await agent.handle.reset();
    return session.reopenAgent();
  });
  const counters = await again.getCounters();
  await assumption('drv-removed-while-open', 'pending TRANSFER_IN ends with ERROR_OPERATION_ABORTED when the device is removed', () => {
    expect(counters.cancelledTransfers).toBe(1);
    expect(counters.failedTransfers).toBe(0);
  });
});

test('serves the host again after the removed device arrives again', { tags: ['sim-only', 'hotplug'] }, async ({ agent, device, session, sim }) => {
  let hostRead: unknown = 'pending';
  const pendingIn = agent.handle.bulkIn(agent.bulkInEndpoint, 512, { timeoutMs: 60_000 }).then(
    (r) => (hostRead = r),
    (err: unknown) => (hostRead = err),
  );
  await phase('surprise-remove the function during a host read', async () => {
    await sim.surpriseRemove();
    await device.whenWaiting();
  });
  // The cable is still plugged: the controller NAKs the host's read, which stays pending.
  await assumption('link-function-removal', 'the host keeps the device while the function is removed; its read stays pending (NAK)', () => {
    expect(hostRead).toBe('pending');
  });
  await phase('the device arrives again', async () => {
    sim.arrive();
    await device.whenActive();
  });
  expect((await device.status()).openCount).toBe(2);
  // The new driver instance starts unconfigured: the host resets the port and configures it again.
  await phase('reset the port', () => agent.handle.reset());
  await pendingIn;
  expect(hostRead).toMatchObject({ libusbName: 'LIBUSB_TRANSFER_CANCELLED' });
  expect(isCancelled(hostRead)).toBe(true);
  const again = await phase('reopen the function on the host', () => session.reopenAgent());
  expect((await phase('loop back', () => again.loopback(4096, { seed: 11 }))).ok).toBe(true);
});
