/**
 * Cached views of the test protocol's seeded byte pattern (device-side/functions/test-protocol.ts), so the
 * host agent generates each pattern byte once per seed instead of once per transfer, and verifies received
 * data with a native compare instead of a per-byte hash.
 *
 * The pattern is a function of (seed, stream index) only, so the pattern of a slice from `offset` is a
 * window into the pattern from 0: one growing buffer per seed serves every (offset, length).
 */
import { fillPattern, patternByte } from '../../core/index.js';

/** Seeds kept (least recently used dropped first). */
const MAX_SEEDS = 16;
/** Longest stream prefix cached per seed; longer windows are generated fresh. */
const MAX_CACHED_BYTES = 16 * 1024 * 1024;
/** Smallest buffer allocated for a seed (small requests grow it less often). */
const MIN_CACHED_BYTES = 4096;

/**
 * Per-seed pattern buffers. Views it returns are shared: callers must treat them as read-only.
 *
 * @example
 * const cache = new PatternCache();
 * await handle.bulkOut(0x01, cache.view(7, 0, 4096));
 * const firstBad = cache.mismatch(received, 7, 0);
 */
export class PatternCache {
  readonly #bySeed = new Map<number, Uint8Array>();
  /** The most recently used seed (last in #bySeed's order). */
  #newest: number | undefined;

  /**
   * The pattern of `seed` for stream bytes `offset … offset + length - 1`, as a read-only view.
   * @throws RangeError for a negative or non-integer offset or length.
   */
  view(seed: number, offset: number, length: number): Uint8Array {
    if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(length) || length < 0) {
      throw new RangeError(`pattern window needs non-negative integer offset and length, got offset ${offset}, length ${length}`);
    }
    const end = offset + length;
    if (end > MAX_CACHED_BYTES) {
      const fresh = new Uint8Array(length);
      fillPattern(fresh, seed, offset);
      return fresh;
    }
    return this.#prefix(seed, end).subarray(offset, end);
  }

  /**
   * Index (in `data`) of the first byte that differs from the pattern of `seed` from stream `offset`, or
   * -1: the same answer as `findPatternMismatch`, by a native compare on the cached pattern.
   */
  mismatch(data: Uint8Array, seed: number, offset: number): number {
    if (data.length === 0) return -1;
    if (offset + data.length > MAX_CACHED_BYTES) {
      for (let i = 0; i < data.length; i++) if (data[i] !== patternByte(seed, offset + i)) return i;
      return -1;
    }
    if (!Number.isInteger(offset) || offset < 0) {
      throw new RangeError(`pattern window needs non-negative integer offset and length, got offset ${offset}, length ${data.length}`);
    }
    const end = offset + data.length;
    const prefix = this.#prefix(seed, end);
    const expected = offset === 0 && end === prefix.length ? prefix : prefix.subarray(offset, end);
    // Buffer.compare takes plain Uint8Arrays: no Buffer views per call (this runs once per bulk IN).
    if (Buffer.compare(data, expected) === 0) return -1;
    for (let i = 0; i < data.length; i++) if (data[i] !== expected[i]) return i;
    return -1;
  }

  /** The cached pattern of `seed` covering at least `end` bytes from stream index 0. */
  #prefix(seed: number, end: number): Uint8Array {
    const have = this.#bySeed.get(seed);
    if (have !== undefined && have.length >= end) {
      // Refresh its place in the LRU order only when it is not already the newest (a Map delete + set
      // per call would churn the Map's table on every transfer).
      if (this.#newest !== seed) {
        this.#bySeed.delete(seed);
        this.#bySeed.set(seed, have);
        this.#newest = seed;
      }
      return have;
    }
    const size = Math.min(MAX_CACHED_BYTES, Math.max(MIN_CACHED_BYTES, end, have === undefined ? 0 : have.length * 2));
    const grown = new Uint8Array(size);
    const kept = have === undefined ? 0 : have.length;
    if (have !== undefined) grown.set(have);
    fillPattern(grown.subarray(kept), seed, kept);
    this.#bySeed.delete(seed);
    this.#bySeed.set(seed, grown);
    this.#newest = seed;
    if (this.#bySeed.size > MAX_SEEDS) {
      const oldest = this.#bySeed.keys().next().value;
      if (oldest !== undefined) this.#bySeed.delete(oldest);
    }
    return grown;
  }
}

