/**
 * Recycles the native blocks of overlapped requests in power-of-two size classes, so steady traffic does no
 * malloc/free. Bounded per class and in total; after {@link NativeBlockPool.close} every returned block is
 * freed at once.
 */
import type { NativeBlock, NativeMemory } from './bindings.js';

/** Blocks of every size class kept for reuse, in bytes, at most. */
const MAX_POOLED_BYTES = 16 * 1024 * 1024;
/** Blocks of one size class kept for reuse, at most. */
const MAX_POOLED_PER_CLASS = 64;
/** The smallest size class (an OVERLAPPED plus a small payload). */
const MIN_CLASS_BYTES = 64;

/** A block taken from the pool and the size class it must be returned to. */
export interface PooledBlock {
  readonly block: NativeBlock;
  readonly size: number;
}

/** Size-classed free lists over one {@link NativeMemory}. */
export class NativeBlockPool {
  private readonly memory: NativeMemory;
  private readonly lists = new Map<number, NativeBlock[]>();
  private pooledBytes = 0;
  private closed = false;

  constructor(memory: NativeMemory) {
    this.memory = memory;
  }

  /** Bytes currently held for reuse. */
  get bytesHeld(): number {
    return this.pooledBytes;
  }

  /** A block of at least `needed` bytes (its size class rounds up to a power of two). */
  take(needed: number): PooledBlock {
    let size = MIN_CLASS_BYTES;
    while (size < needed) size *= 2;
    const block = this.lists.get(size)?.pop();
    if (block !== undefined) {
      this.pooledBytes -= size;
      return { block, size };
    }
    return { block: this.memory.alloc(size), size };
  }

  /** Returns a block for reuse, or frees it when the pool is full or closed. */
  put(block: NativeBlock, size: number): void {
    let list = this.lists.get(size);
    if (list === undefined) {
      list = [];
      this.lists.set(size, list);
    }
    if (this.closed || list.length >= MAX_POOLED_PER_CLASS || this.pooledBytes + size > MAX_POOLED_BYTES) {
      this.memory.free(block);
      return;
    }
    list.push(block);
    this.pooledBytes += size;
  }

  /** Frees every pooled block; blocks returned afterwards are freed at once. */
  close(): void {
    this.closed = true;
    for (const list of this.lists.values()) for (const b of list) this.memory.free(b);
    this.lists.clear();
    this.pooledBytes = 0;
  }
}
