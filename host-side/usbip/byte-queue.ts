/**
 * `ByteQueue`: the bytes a TCP stream delivered and a parser has not consumed yet. A stream cuts messages
 * anywhere (a 48-byte header may arrive in three reads, a 1 MiB payload in dozens), so parsers push every
 * chunk here and take whole fields once they are complete.
 *
 * @note `take(n)` returns a view of the chunk when the bytes lie in one chunk (no copy: Node hands every
 * socket read over in a fresh buffer, so holding a view is safe) and copies only across chunk borders.
 */
import { UsageError } from '../../core/index.js';

export class ByteQueue {
  #chunks: Uint8Array[] = [];
  /** Index of the first chunk still holding bytes, and the offset of its first unread byte. */
  #head = 0;
  #offset = 0;
  #length = 0;

  /** Bytes waiting. */
  get length(): number {
    return this.#length;
  }

  /** Queues a chunk (a Node Buffer is kept as a plain Uint8Array view: what callers get back is never a Buffer). */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(Buffer.isBuffer(chunk) ? new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length) : chunk);
    this.#length += chunk.length;
  }

  /**
   * Removes and returns the next `n` bytes.
   * @throws UsageError INVALID_ARGUMENT when fewer than `n` bytes wait (the caller checks {@link length}).
   */
  take(n: number): Uint8Array {
    this.#check(n);
    const first = this.#chunks[this.#head];
    if (n === 0 || first === undefined) return new Uint8Array(0);
    if (first.length - this.#offset >= n) {
      const out = first.subarray(this.#offset, this.#offset + n);
      this.#advance(n);
      return out;
    }
    const out = new Uint8Array(n);
    this.#copy(out, 0, n);
    return out;
  }

  /** The next `n` bytes without removing them (a view when they lie in one chunk, else a copy). */
  peek(n: number): Uint8Array {
    this.#check(n);
    const first = this.#chunks[this.#head];
    if (n === 0 || first === undefined) return new Uint8Array(0);
    if (first.length - this.#offset >= n) return first.subarray(this.#offset, this.#offset + n);
    const out = new Uint8Array(n);
    let done = 0;
    for (let i = this.#head, offset = this.#offset; done < n; i++, offset = 0) {
      const chunk = this.#chunks[i]!;
      const take = Math.min(chunk.length - offset, n - done);
      out.set(chunk.subarray(offset, offset + take), done);
      done += take;
    }
    return out;
  }

  /** Removes the next `n` bytes into `target` at `offset`. */
  takeInto(target: Uint8Array, offset: number, n: number): void {
    this.#check(n);
    this.#copy(target, offset, n);
  }

  /** Drops the next `n` bytes. */
  skip(n: number): void {
    this.#check(n);
    this.#advance(n);
  }

  /** Drops everything. */
  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#offset = 0;
    this.#length = 0;
  }

  #check(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.#length) {
      throw new UsageError('INVALID_ARGUMENT', `ByteQueue: cannot take ${n} bytes, ${this.#length} wait`);
    }
  }

  #copy(target: Uint8Array, offset: number, n: number): void {
    let done = 0;
    while (done < n) {
      const chunk = this.#chunks[this.#head]!;
      const take = Math.min(chunk.length - this.#offset, n - done);
      target.set(chunk.subarray(this.#offset, this.#offset + take), offset + done);
      done += take;
      this.#advance(take);
    }
  }

  #advance(n: number): void {
    this.#length -= n;
    let left = n;
    while (left > 0) {
      const chunk = this.#chunks[this.#head]!;
      const rest = chunk.length - this.#offset;
      if (left < rest) {
        this.#offset += left;
        return;
      }
      left -= rest;
      this.#head++;
      this.#offset = 0;
    }
    if (this.#length === 0) {
      this.#chunks.length = 0;
      this.#head = 0;
      this.#offset = 0;
      return;
    }
    // Compact now and then so the array does not grow with every chunk ever pushed.
    if (this.#head > 64 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }
}
