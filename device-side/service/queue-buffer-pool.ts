/**
 * The OUT buffers of {@link ConfiguredFunctionContext.runQueue}, kept across configurations. A loopback
 * queue holds `depth` buffers of 1 MiB + 512 bytes; allocating them anew for every configuration (each
 * reset, re-enumeration or, in the simulated world, each scenario) costs zero-filled pages and garbage
 * collections that take longer than the configuration itself (about 2 ms of 5 per simulated scenario).
 * A buffer comes back only after every transfer that used it has completed, so no driver writes into a
 * buffer that is handed out again; its old contents are never shown (a queue's views cover only the bytes
 * a transfer returned).
 */

/** Bytes of free buffers kept at most; beyond this a released buffer is left to the garbage collector. */
export const QUEUE_BUFFER_POOL_MAX_BYTES = 32 * 1024 * 1024;

/** Free buffers by exact length (a transfer's buffer length is its request length, so sizes never mix). */
export class QueueBufferPool {
  readonly #free = new Map<number, Uint8Array[]>();
  readonly #maxBytes: number;
  #freeBytes = 0;

  constructor(maxBytes = QUEUE_BUFFER_POOL_MAX_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes held in free buffers. */
  get freeBytes(): number {
    return this.#freeBytes;
  }

  /** A buffer of exactly `bytes` bytes; its contents are left over from an earlier use. */
  take(bytes: number): Uint8Array {
    const buffer = this.#free.get(bytes)?.pop();
    if (buffer === undefined) return new Uint8Array(bytes);
    this.#freeBytes -= bytes;
    return buffer;
  }

  /** Gives back a buffer no transfer uses any more. */
  give(buffer: Uint8Array): void {
    if (this.#freeBytes + buffer.length > this.#maxBytes) return;
    let list = this.#free.get(buffer.length);
    if (list === undefined) this.#free.set(buffer.length, (list = []));
    list.push(buffer);
    this.#freeBytes += buffer.length;
  }
}

/** The pool every service of this process shares (one device service, or many simulated worlds in turn). */
export const processQueueBuffers = new QueueBufferPool();
