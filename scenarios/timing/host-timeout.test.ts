/**
 * Host timeouts run on the scenario clock: a bulk IN with nothing queued on the device (it NAKs) ends
 * exactly at its timeout with LIBUSB_TRANSFER_TIMED_OUT. In sim a 30-second timeout costs no wall time.
 * @see libusb_bulk_transfer (LIBUSB_ERROR_TIMEOUT / LIBUSB_TRANSFER_TIMED_OUT); USB 2.0 §8.4.5 (NAK);
 * docs/architecture.md#seams (Clock: virtual time)
 */
import { expect, isTimeout, LibusbError, param, phase, test } from '../../harness/index.js';

const TIMEOUT_MS = 30_000;

test('times out a bulk IN with nothing queued exactly at its timeout', { tags: ['slow'] }, async ({ agent, clock }) => {
  await param('timeoutMs', TIMEOUT_MS);
  const start = clock.now();
  const err: unknown = await phase('bulk IN with nothing to send', () =>
    agent.handle.bulkIn(agent.bulkInEndpoint, 512, { timeoutMs: TIMEOUT_MS }).then(
      (r) => r,
      (e: unknown) => e,
    ),
  );
  const elapsedMs = clock.now() - start;
  expect(err).toBeInstanceOf(LibusbError);
  expect(err).toMatchObject({ libusbName: 'LIBUSB_TRANSFER_TIMED_OUT', endpoint: agent.bulkInEndpoint });
  expect(isTimeout(err)).toBe(true);
  expect(elapsedMs).toBeCloseTo(TIMEOUT_MS, 0);
  // The pipe still works: the next transfer is answered.
  const r = await agent.loopback(64, { seed: 4 });
  expect(r.ok).toBe(true);
});
