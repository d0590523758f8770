import { describe, expect, it } from 'vitest';
import { WARMUP_MAX_BATCHES, WARMUP_MIN_BATCHES, warmUntilSteady, warmupDone } from './warmup.js';

describe('warmupDone', () => {
  it('runs at least the minimum number of batches, however steady', () => {
    expect(warmupDone([])).toBe(false);
    expect(warmupDone(Array.from({ length: WARMUP_MIN_BATCHES - 1 }, () => 100))).toBe(false);
    expect(warmupDone(Array.from({ length: WARMUP_MIN_BATCHES }, () => 100))).toBe(true);
  });

  it('waits for two batches in a row within 5 % of the fastest', () => {
    const early = Array.from({ length: WARMUP_MIN_BATCHES - 2 }, () => 160);
    expect(warmupDone([...early, 118, 117])).toBe(true);
    expect(warmupDone([...early, 100, 117])).toBe(false); // the last one is 17 % off the best
    expect(warmupDone([...early, 100, 117, 104])).toBe(false); // only one settled batch
    expect(warmupDone([...early, 100, 117, 104, 102])).toBe(true);
  });

  it('gives up at the maximum number of batches', () => {
    const noisy = Array.from({ length: WARMUP_MAX_BATCHES }, (_, i) => (i % 2 === 0 ? 100 : 150));
    expect(warmupDone(noisy.slice(0, -1))).toBe(false);
    expect(warmupDone(noisy)).toBe(true);
  });

  it('takes a smaller minimum when asked', () => {
    expect(warmupDone([100, 100, 100, 100], 4)).toBe(true);
    expect(warmupDone([100, 100, 100], 4)).toBe(false);
  });
});

describe('warmUntilSteady', () => {
  it('runs batches until warmupDone and says how many ran; a failing batch ends it with its error', async () => {
    let calls = 0;
    const n = await warmUntilSteady(async () => {
      calls++;
    });
    expect(n).toBe(calls);
    expect(n).toBeGreaterThanOrEqual(WARMUP_MIN_BATCHES);
    expect(n).toBeLessThanOrEqual(WARMUP_MAX_BATCHES);
    await expect(warmUntilSteady(() => Promise.reject(new Error('not byte-exact')))).rejects.toThrow('not byte-exact');
  });
});
