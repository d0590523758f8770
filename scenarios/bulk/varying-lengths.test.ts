/**
 * Bulk loopback with varying lengths: a seeded list of transfer sizes around and between packet
 * boundaries, each echoed byte-exact, one after the other on the same pipes.
 * @see Linux usbtest "bulk varying lengths" (test cases 5–8); Microsoft HLK loopback short-packet tests
 */
import { expect, param, phase, test } from '../../harness/index.js';

/** Fixed seed: the list is the same in every run and world. */
const LENGTHS_SEED = 0x1e4c7;

/** xorshift32: `count` lengths in [1, maxBytes]. */
function seededLengths(seed: number, count: number, maxBytes: number): number[] {
  let x = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.push(1 + (x % maxBytes));
  }
  return out;
}

test('echoes a seeded list of varying lengths byte-exact', async ({ agent }) => {
  const mps = agent.maxPacketSize;
  // Random sizes plus the packet edges of this speed, in an order that mixes short and full packets.
  const lengths = [...seededLengths(LENGTHS_SEED, 20, 8 * mps), mps - 1, mps, mps + 1, 2 * mps, 1];
  await param('lengthsSeed', `0x${LENGTHS_SEED.toString(16)}`);
  await param('transfers', lengths.length);
  await phase('loop back each length', async () => {
    for (const [i, n] of lengths.entries()) {
      const r = await agent.loopback(n, { seed: i + 1 });
      expect(r, `transfer ${i} of ${n} bytes`).toMatchObject({ ok: true, bytesRead: n, firstMismatch: -1 });
    }
  });
  const counters = await agent.getCounters();
  expect(counters.bulkOutTransfers).toBe(lengths.length);
  expect(counters.bulkOutBytes).toBe(BigInt(lengths.reduce((a, b) => a + b, 0)));
});
