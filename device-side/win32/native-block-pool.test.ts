import { describe, expect, it } from 'vitest';
import type { NativeBlock, NativeMemory } from './bindings.js';
import { NativeBlockPool } from './native-block-pool.js';

/** Counts allocations and frees over plain Uint8Arrays (addresses are fake but unique). */
function countingMemory(): NativeMemory & { allocs: number; frees: number } {
  let next = 0x1000n;
  const memory = {
    allocs: 0,
    frees: 0,
    alloc(size: number): NativeBlock {
      memory.allocs++;
      const address = next;
      next += BigInt(size);
      return { address, bytes: new Uint8Array(size) };
    },
    free(): void {
      memory.frees++;
    },
  };
  return memory;
}

describe('NativeBlockPool', () => {
  it('rounds up to a power-of-two class and reuses a returned block', () => {
    const memory = countingMemory();
    const pool = new NativeBlockPool(memory);
    const a = pool.take(100);
    expect(a.size).toBe(128);
    pool.put(a.block, a.size);
    expect(pool.bytesHeld).toBe(128);
    const b = pool.take(65);
    expect(b.block).toBe(a.block);
    expect(memory.allocs).toBe(1);
    expect(pool.bytesHeld).toBe(0);
  });

  it('frees instead of pooling beyond 64 blocks of one class', () => {
    const memory = countingMemory();
    const pool = new NativeBlockPool(memory);
    const blocks = Array.from({ length: 65 }, () => pool.take(64));
    for (const b of blocks) pool.put(b.block, b.size);
    expect(memory.frees).toBe(1);
    expect(pool.bytesHeld).toBe(64 * 64);
  });

  it('frees everything on close and every block returned afterwards', () => {
    const memory = countingMemory();
    const pool = new NativeBlockPool(memory);
    const a = pool.take(10);
    const b = pool.take(10);
    pool.put(a.block, a.size);
    pool.close();
    expect(memory.frees).toBe(1);
    pool.put(b.block, b.size);
    expect(memory.frees).toBe(2);
    expect(pool.bytesHeld).toBe(0);
  });
});
