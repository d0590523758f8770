/**
 * A small free list of receive buffers for bulk IN data the agent verifies and drops (loopback). Reusing
 * them keeps large transfers off the allocator: a fresh 1 MiB buffer per transfer costs page faults and
 * zero-filling that dwarf the copy itself.
 */

/** Buffers kept when released (more are allocated when that many are in use at once). */
const DEFAULT_MAX_FREE = 8;

export class ReceiveBufferPool {
  readonly #free: Uint8Array[] = [];
  readonly #maxFree: number;

  constructor(maxFree = DEFAULT_MAX_FREE) {
    this.#maxFree = maxFree;
  }

  /** A buffer of at least `bytes` bytes (contents undefined). Give it back with {@link release}. */
  acquire(bytes: number): Uint8Array {
    for (let i = this.#free.length - 1; i >= 0; i--) {
      const b = this.#free[i]!;
      if (b.length >= bytes) {
        this.#free[i] = this.#free[this.#free.length - 1]!;
        this.#free.pop();
        return b;
      }
    }
    return new Uint8Array(bytes);
  }

  /** Returns a buffer from {@link acquire}; the caller must not touch it afterwards. */
  release(buffer: Uint8Array): void {
    if (this.#maxFree === 0) return;
    if (this.#free.length < this.#maxFree) this.#free.push(buffer);
    else {
      // Keep the largest ones: replace the smallest free buffer if this one is larger.
      let smallest = 0;
      for (let i = 1; i < this.#free.length; i++) if (this.#free[i]!.length < this.#free[smallest]!.length) smallest = i;
      if (this.#free[smallest]!.length < buffer.length) this.#free[smallest] = buffer;
    }
  }
}
