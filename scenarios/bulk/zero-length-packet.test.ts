/**
 * Zero-length packets on bulk IN: a transfer that is an exact multiple of wMaxPacketSize ends only with a
 * short or zero-length packet when the host asks for more. With TRANSFER_IN_APPEND_ZERO_PKT the device
 * appends one and the host's read completes; with plain TRANSFER_IN the read waits until its timeout.
 * @see USB 2.0 §5.8.3 (a transfer ends with a short packet or exactly the requested length)
 * @see docs/reference/ioctls.md#transfer-in-append-zero-pkt; Microsoft HLK "Windows USB Device" ZLP test
 */
import { expect, isTimeout, param, phase, test, type LibusbError } from '../../harness/index.js';

test('completes a longer read with the exact multiple when the device appends a zero-length packet', async ({ agent }) => {
  const n = agent.maxPacketSize;
  await param('bytes', n);
  await agent.setZlpPolicy('APPEND_ON_MULTIPLE');
  await agent.sinkWrite(n, { seed: 3, zeroLengthPacket: true });
  const r = await phase('read more than was sent', () => agent.handle.bulkIn(agent.bulkInEndpoint, 2 * n, { timeoutMs: 1000 }));
  expect(r.status).toBe('ok');
  expect(r.data.length).toBe(n);
});

test('times out a longer read on the scenario clock when the device appends no zero-length packet', { tags: ['local-host'] }, async ({ agent, clock }) => {
  const n = agent.maxPacketSize;
  const timeoutMs = 250;
  await param('bytes', n);
  await param('timeoutMs', timeoutMs);
  await agent.setZlpPolicy('NEVER');
  await agent.sinkWrite(n, { seed: 3, zeroLengthPacket: true });
  const start = clock.now();
  const err = await phase('read more than was sent', () =>
    agent.handle.bulkIn(agent.bulkInEndpoint, 2 * n, { timeoutMs }).then(
      () => undefined,
      (e: unknown) => e as LibusbError,
    ),
  );
  const elapsedMs = clock.now() - start;
  expect(isTimeout(err)).toBe(true);
  expect(err).toMatchObject({ libusbName: 'LIBUSB_TRANSFER_TIMED_OUT', actualLength: n });
  expect(elapsedMs).toBeGreaterThanOrEqual(timeoutMs);
  expect(elapsedMs).toBeLessThan(timeoutMs + 50);
});

test('completes an exact-length read when the device appends no zero-length packet', async ({ agent }) => {
  const n = 4 * agent.maxPacketSize;
  await param('bytes', n);
  await agent.setZlpPolicy('NEVER');
  const r = await phase('loop back', () => agent.loopback(n, { seed: 8 }));
  expect(r).toMatchObject({ ok: true, bytesRead: n });
  // The device's TRANSFER_IN is complete with the last full packet: nothing else is left to read.
  const counters = await agent.getCounters();
  expect(counters.bulkInTransfers).toBe(1);
  expect(counters.bulkInBytes).toBe(BigInt(n));
});
