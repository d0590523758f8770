/**
 * A first-in first-out queue on an array with a moving head: O(1) push/shift without the O(n) cost of
 * `Array.prototype.shift`, and removal from the middle for cancellations (rare). Used for host URB and
 * device transfer queues on the hot path.
 */
export class Fifo<T> {
  /** Items from #head (oldest) to #tail; slots past #tail are free (kept: truncating an array is a runtime call). */
  #items: (T | undefined)[] = [];
  #head = 0;
  #tail = 0;

  get size(): number {
    return this.#tail - this.#head;
  }

  push(item: T): void {
    if (this.#tail < this.#items.length) this.#items[this.#tail] = item;
    else this.#items.push(item);
    this.#tail++;
  }

  /** The oldest item, or undefined when empty. */
  peek(): T | undefined {
    return this.#head < this.#tail ? this.#items[this.#head] : undefined;
  }

  shift(): T | undefined {
    if (this.#head >= this.#tail) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#tail) {
      this.#head = 0;
      this.#tail = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#tail) {
      this.#items = this.#items.slice(this.#head, this.#tail);
      this.#tail -= this.#head;
      this.#head = 0;
    }
    return item;
  }

  /** Removes `item` wherever it is; false if absent. */
  remove(item: T): boolean {
    const i = this.#items.indexOf(item, this.#head);
    if (i < 0 || i >= this.#tail) return false;
    if (i === this.#head) {
      this.shift();
      return true;
    }
    this.#items.splice(i, 1);
    this.#tail--;
    return true;
  }

  /** Puts `items` (oldest first) back in front of the queue (data a fault stopped on the wire). */
  unshiftAll(items: readonly T[]): void {
    if (items.length === 0) return;
    this.#items = [...items, ...(this.#items.slice(this.#head, this.#tail) as T[])];
    this.#head = 0;
    this.#tail = this.#items.length;
  }

  /** Removes and returns every item, oldest first. */
  drain(): T[] {
    const out = this.#items.slice(this.#head, this.#tail) as T[];
    this.#items = [];
    this.#head = 0;
    this.#tail = 0;
    return out;
  }

  /** Iterates oldest first without removing. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.#head; i < this.#tail; i++) yield this.#items[i] as T;
  }
}
