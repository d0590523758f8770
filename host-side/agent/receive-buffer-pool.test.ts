import { describe, expect, it } from 'vitest';
import { ReceiveBufferPool } from './receive-buffer-pool.js';

describe('ReceiveBufferPool', () => {
  it('hands a released buffer back when it is large enough, else allocates', () => {
    const pool = new ReceiveBufferPool(2);
    const a = pool.acquire(100);
    expect(a.length).toBe(100);
    pool.release(a);
    expect(pool.acquire(50)).toBe(a);
    pool.release(a);
    const b = pool.acquire(200);
    expect(b).not.toBe(a);
    expect(b.length).toBe(200);
  });

  it('keeps at most maxFree buffers, preferring the largest', () => {
    const pool = new ReceiveBufferPool(2);
    const small = new Uint8Array(10);
    const mid = new Uint8Array(20);
    const big = new Uint8Array(30);
    pool.release(small);
    pool.release(mid);
    pool.release(big); // replaces `small`
    expect(pool.acquire(25)).toBe(big);
    expect(pool.acquire(15)).toBe(mid);
    expect(pool.acquire(5)).not.toBe(small);
    const none = new ReceiveBufferPool(0);
    none.release(small);
    expect(none.acquire(5)).not.toBe(small);
  });
});
