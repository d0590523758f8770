/**
 * Cancelling a bulk transfer in flight (libusb_cancel_transfer): the host's read ends cancelled and the
 * pipe keeps working for the next transfer.
 * @see Linux usbtest "unlink reads/writes" (test cases 11–12)
 */
import { delay, expect, isCancelled, phase, test } from '../../harness/index.js';

test('cancels a pending read and keeps the pipe usable', async ({ agent, clock }) => {
  const controller = new AbortController();
  const read = agent.handle.bulkIn(agent.bulkInEndpoint, 4096, { timeoutMs: 5000, signal: controller.signal });
  read.catch(() => undefined); // asserted below
  await phase('cancel the read while it waits', async () => {
    await delay(clock, 20);
    controller.abort();
  });
  const err = await read.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ libusbName: 'LIBUSB_TRANSFER_CANCELLED' });
  expect(isCancelled(err)).toBe(true);
  const r = await phase('loop back', () => agent.loopback(1000, { seed: 12 }));
  expect(r.ok).toBe(true);
});
