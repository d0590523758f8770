/**
 * A port reset in the middle of a bulk transfer: the host's transfer ends cancelled, the device's pending
 * transfers are purged (ERROR_OPERATION_ABORTED) before it sees the Reset event, and after the host
 * configures it again everything works on the same handle.
 * @see USB 2.0 §7.1.7.5 (reset), §9.1.1.3; docs/reference/ioctls.md#call-order (UFX: purge first, then the event);
 * docs/reference/documented-vs-inferred.md#drv-purge-cancelled
 * @see docs/architecture.md#service-lifecycle step 5 (Reset → pending transfers end cancelled, wait for Configured again)
 */
import { assumption, expect, isCancelled, param, phase, test } from '../../harness/index.js';

const BYTES = 1024 * 1024;

test('cancels the transfers on both sides when the host resets the port mid-transfer', async ({ agent, device }) => {
  await param('bytes', BYTES);
  await agent.resetState();
  await phase('write 1 MiB for the device to echo', async () => {
    const w = await agent.handle.bulkOut(agent.bulkOutEndpoint, new Uint8Array(BYTES), { zeroLengthPacket: true });
    expect(w).toEqual({ status: 'ok', bytesWritten: BYTES });
  });
  const outcome = await phase('reset the port while the echo is read', async () => {
    // At high speed 1 MiB takes ~20 ms of bus time; the reset signalling starts 10 ms after the call.
    const read = agent.handle.bulkIn(agent.bulkInEndpoint, BYTES + 512, { timeoutMs: 5000 }).then(
      (r) => r,
      (e: unknown) => e,
    );
    await agent.handle.reset();
    return read;
  });
  expect(outcome).toMatchObject({ libusbName: 'LIBUSB_TRANSFER_CANCELLED' });
  expect(isCancelled(outcome)).toBe(true);
  await device.whenConfigured();
  const log = await device.eventLog();
  const bus = log.filter((e) => e.kind === 'busEvent').map((e) => e.detail?.['type']);
  expect(bus.slice(bus.lastIndexOf('reset'))).toEqual(['reset', 'configured']);
  const counters = await agent.getCounters();
  await assumption('drv-purge-cancelled', 'a TRANSFER_IN pending at a bus reset ends with ERROR_OPERATION_ABORTED (cancelled), not a failure', () => {
    expect(counters).toMatchObject({ cancelledTransfers: 1, failedTransfers: 0, bulkInTransfers: 0 });
  });
  expect((await phase('loop back', () => agent.loopback(4096, { seed: 21 }))).ok).toBe(true);
});
