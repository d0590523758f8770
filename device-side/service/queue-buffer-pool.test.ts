import { describe, expect, it } from 'vitest';
import { QueueBufferPool } from './queue-buffer-pool.js';

describe('QueueBufferPool', () => {
  it('hands a given-back buffer out again, only for the same length', () => {
    const pool = new QueueBufferPool();
    const a = pool.take(1000);
    expect(a.length).toBe(1000);
    pool.give(a);
    expect(pool.freeBytes).toBe(1000);
    expect(pool.take(999)).not.toBe(a);
    expect(pool.take(1000)).toBe(a);
    expect(pool.freeBytes).toBe(0);
  });

  it('keeps no more than its byte budget', () => {
    const pool = new QueueBufferPool(2500);
    const bufs = [pool.take(1000), pool.take(1000), pool.take(1000)];
    for (const b of bufs) pool.give(b);
    expect(pool.freeBytes).toBe(2000);
    expect(pool.take(1000)).toBe(bufs[1]);
  });
});
