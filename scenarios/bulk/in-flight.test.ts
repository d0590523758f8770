/**
 * Several bulk transfers in flight at once: the host queues reads before it writes, and each read
 * receives the echo of the matching write, in order.
 * @see Linux usbtest queued bulk (test cases 5–8 with sglen/queue depth); USB 2.0 §5.8 (bulk ordering)
 */
import { expect, param, phase, test } from '../../harness/index.js';

test('keeps several reads and writes in flight and completes them in order', async ({ agent }) => {
  const mps = agent.maxPacketSize;
  const lengths = [100, mps, 3 * mps - 7, 6 * mps + 1];
  await param('inFlight', lengths.length);
  const reads = await phase('queue the reads', () =>
    lengths.map(() => {
      const p = agent.handle.bulkIn(agent.bulkInEndpoint, 8 * mps, { timeoutMs: 2000 });
      p.catch(() => undefined); // awaited below
      return p;
    }),
  );
  const payloads = lengths.map((n, i) => Uint8Array.from({ length: n }, (_, j) => (j * 7 + i * 31) & 0xff));
  const writes = await phase('write while the reads wait', () =>
    Promise.all(payloads.map((d) => agent.handle.bulkOut(agent.bulkOutEndpoint, d, { zeroLengthPacket: true }))),
  );
  expect(writes.map((w) => w.bytesWritten)).toEqual(lengths);
  const results = await Promise.all(reads);
  for (const [i, r] of results.entries()) {
    expect(r.status).toBe('ok');
    expect(r.data, `read ${i}`).toEqual(payloads[i]);
  }
});
