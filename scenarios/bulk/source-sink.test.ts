/**
 * Source/sink: the device sources a seeded pattern on bulk IN and verifies what it sinks on bulk OUT,
 * over many transfers, with the stream offsets carried from one transfer to the next.
 * @see Linux usbtest source/sink (g_zero; test cases 1–4); Microsoft HLK "large transfer stress"
 */
import { describe, expect, param, phase, test } from '../../harness/index.js';

/** The function's default pattern seed (device-side test protocol, READ_PATTERN and source/sink). */
const PATTERN_SEED = 0x5eed;
const TRANSFERS = 32;
const TRANSFER_BYTES = 4096;

describe('source/sink function', () => {
  test.override({ world: { fn: 'sourceSink' } });

  test('sources the seeded pattern over many transfers', async ({ agent, device }) => {
    expect(device.functionName).toBe('source-sink');
    await param('transfers', TRANSFERS);
    await param('transferBytes', TRANSFER_BYTES);
    await phase('read the source stream', async () => {
      for (let i = 0; i < TRANSFERS; i++) {
        const r = await agent.sourceRead(TRANSFER_BYTES, { seed: PATTERN_SEED, offset: i * TRANSFER_BYTES });
        expect(r, `transfer ${i}`).toMatchObject({ status: 'ok', bytesRead: TRANSFER_BYTES, firstMismatch: -1 });
      }
    });
  });

  test('sinks the seeded pattern over many transfers without a pattern error', async ({ agent }) => {
    await param('transfers', TRANSFERS);
    await param('transferBytes', TRANSFER_BYTES);
    await phase('write the sink stream', async () => {
      for (let i = 0; i < TRANSFERS; i++) {
        const w = await agent.sinkWrite(TRANSFER_BYTES, { seed: PATTERN_SEED, offset: i * TRANSFER_BYTES, zeroLengthPacket: true });
        expect(w).toEqual({ status: 'ok', bytesWritten: TRANSFER_BYTES });
      }
    });
    const counters = await agent.getCounters();
    expect(counters).toMatchObject({ patternErrors: 0, bulkOutTransfers: TRANSFERS, failedTransfers: 0 });
    expect(counters.bulkOutBytes).toBe(BigInt(TRANSFERS * TRANSFER_BYTES));
  });

  test('counts a pattern error when the sink receives other data', async ({ agent, device }) => {
    await agent.sinkWrite(TRANSFER_BYTES, { seed: PATTERN_SEED, offset: 0, zeroLengthPacket: true });
    await phase('write data off the pattern', () => agent.sinkWrite(TRANSFER_BYTES, { seed: PATTERN_SEED + 1, offset: TRANSFER_BYTES, zeroLengthPacket: true }));
    expect(await agent.getCounters()).toMatchObject({ patternErrors: 1, bulkOutTransfers: 2 });
    const errors = (await device.eventLog()).filter((e) => e.kind === 'patternError');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.detail).toMatchObject({ transferBytes: TRANSFER_BYTES });
  });
});
