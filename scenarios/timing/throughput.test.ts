/**
 * Bulk throughput measured on the scenario clock stays within what the USB link allows: 13 × 512-byte
 * packets per 125 µs microframe at high speed (53.248 MB/s), 19 × 64-byte packets per 1 ms frame at full
 * speed (1.216 MB/s). The source/sink function keeps transfers queued on the device so the host is the
 * only pacing.
 * @see USB 2.0 §5.8.4 and Tables 5-9 / 5-10 (bulk transaction limits); bench/README.md; docs/simulator-link.md;
 * Linux usbtest / HLK "Windows USB Device" performance
 */
import { describe, expect, param, phase, test, type Clock } from '../../harness/index.js';
import type { HostAgent } from '../../host-side/index.js';

/** USB 2.0 Table 5-10: 13 bulk packets of 512 B per microframe. */
const HIGH_SPEED_BULK_LIMIT = (13 * 512) / 125e-6; // 53 248 000 B/s
/** USB 2.0 Table 5-9: 19 bulk packets of 64 B per frame. */
const FULL_SPEED_BULK_LIMIT = (19 * 64) / 1e-3; // 1 216 000 B/s

const TRANSFER_BYTES = 64 * 1024;
/** Rate computed from float milliseconds: allow for rounding noise, never for a real excess. */
const FLOAT_SLACK = 1 + 1e-9;

/** Transfers the source keeps queued (source-sink-function.ts default depth). */
const SOURCE_DEPTH = 2;

/** The source queues transfers of exactly the host's size with no trailing ZLP, so every slot carries data. */
async function prepareSource(agent: HostAgent): Promise<void> {
  await phase('configure the source', async () => {
    await agent.setZlpPolicy('NEVER');
    await agent.setNextInLength(TRANSFER_BYTES);
    // Drain the transfers the source queued before the new length and policy took effect (each ends short).
    for (let i = 0; i < SOURCE_DEPTH; i++) {
      const r = await agent.handle.bulkIn(agent.bulkInEndpoint, TRANSFER_BYTES);
      expect(r.data.length).toBeLessThan(TRANSFER_BYTES);
    }
  });
}

async function measure(agent: HostAgent, clock: Clock, direction: 'in' | 'out', totalBytes: number) {
  await param('direction', direction);
  await param('total bytes', totalBytes);
  await param('transfer bytes', TRANSFER_BYTES);
  await param('queue depth', 4);
  const r = await phase(`move ${totalBytes} bytes ${direction.toUpperCase()}`, () =>
    agent.throughput({ direction, totalBytes, transferBytes: TRANSFER_BYTES, queueDepth: 4 }),
  );
  expect(r.bytes).toBe(totalBytes);
  expect(r.elapsedMs).toBeGreaterThan(0);
  expect(clock.now()).toBeGreaterThan(0);
  await param('MB/s', (r.bytesPerSecond / 1e6).toFixed(3));
  return r;
}

describe('at high speed', () => {
  test.override({ world: { fn: 'sourceSink', speed: 'high' } });

  test('moves bulk IN data no faster than 53.248 MB/s', async ({ agent, clock }) => {
    await prepareSource(agent);
    const r = await measure(agent, clock, 'in', 1024 * 1024);
    expect(r.bytesPerSecond).toBeLessThanOrEqual(HIGH_SPEED_BULK_LIMIT * FLOAT_SLACK);
  });

  test('moves bulk OUT data no faster than 53.248 MB/s', async ({ agent, clock }) => {
    const r = await measure(agent, clock, 'out', 1024 * 1024);
    expect(r.bytesPerSecond).toBeLessThanOrEqual(HIGH_SPEED_BULK_LIMIT * FLOAT_SLACK);
  });

  // Real links lose time to host scheduling that the link model does not charge: the ≥ 95 % floor is the model's.
  test('reaches at least 95% of the high-speed link limit with large queued transfers', { tags: ['sim-only'] }, async ({ agent, clock }) => {
    await prepareSource(agent);
    const r = await measure(agent, clock, 'in', 1024 * 1024);
    expect(r.bytesPerSecond).toBeGreaterThanOrEqual(0.95 * HIGH_SPEED_BULK_LIMIT);
  });
});

describe('at full speed', () => {
  test.override({ world: { fn: 'sourceSink', speed: 'full' } });

  test('moves bulk IN data no faster than 1.216 MB/s', async ({ agent, clock }) => {
    await prepareSource(agent);
    const r = await measure(agent, clock, 'in', 256 * 1024);
    expect(r.bytesPerSecond).toBeLessThanOrEqual(FULL_SPEED_BULK_LIMIT * FLOAT_SLACK);
  });
});
