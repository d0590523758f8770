/**
 * `PayloadPool`: reusable buffers for large URB payloads (bulk transfers of 64 KiB and more). A 1 MiB
 * transfer through the server would otherwise allocate 1 MiB for the OUT payload and 1 MiB for the IN
 * data per URB; at hundreds of MB/s that allocation, not the copying, dominates (V8 collects garbage by
 * the external memory of ArrayBuffers).
 *
 * A buffer goes back only once nothing refers to it any more: after the host call that used it settled,
 * and for reply data after the socket has written it.
 */

/** Payloads below this size are allocated normally (cheap, and many different sizes). */
export const POOLED_PAYLOAD_BYTES = 64 * 1024;

export class PayloadPool {
  readonly #free = new Map<number, Uint8Array[]>();
  readonly #perSize: number;

  /** @param perSize free buffers kept per length (beyond that, released buffers are dropped). */
  constructor(perSize = 8) {
    this.#perSize = perSize;
  }

  /** A buffer of exactly `length` bytes (contents undefined). */
  acquire(length: number): Uint8Array {
    return this.#free.get(length)?.pop() ?? new Uint8Array(length);
  }

  release(buffer: Uint8Array): void {
    if (buffer.length < POOLED_PAYLOAD_BYTES || buffer.byteOffset !== 0 || buffer.byteLength !== buffer.buffer.byteLength) return;
    const list = this.#free.get(buffer.length);
    if (list === undefined) this.#free.set(buffer.length, [buffer]);
    else if (list.length < this.#perSize) list.push(buffer);
  }
}
