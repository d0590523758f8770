/**
 * The session's event ring in the agent's control process: the device event log numbered for the stream's
 * cursor (`seq` from 1), bounded (the oldest entries go first and are counted as dropped), observable by the
 * NDJSON streams that follow it. It lives outside the worker, so a worker crash loses no entry and the crash
 * itself is logged in it.
 */
import type { DeviceLogEntryJson, DeviceLogResponse } from '../protocol/index.js';
import type { WorkerLogEntry } from '../worker/index.js';

/** Default bound: the device event log's own (5,000 entries). */
export const EVENT_RING_CAPACITY = 5_000;

export class EventRing {
  readonly capacity: number;
  readonly #slots: (DeviceLogEntryJson | undefined)[];
  /** seq of the next entry. */
  #nextSeq = 1;
  #held = 0;
  #closed = false;
  readonly #listeners = new Set<() => void>();

  constructor(capacity = EVENT_RING_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`event ring capacity ${capacity}: use an integer ≥ 1`);
    this.capacity = capacity;
    this.#slots = new Array<DeviceLogEntryJson | undefined>(capacity);
  }

  /** seq of the newest entry (0 before the first). */
  get lastSeq(): number {
    return this.#nextSeq - 1;
  }

  /** seq of the oldest entry held (lastSeq + 1 when none is held). */
  get firstSeq(): number {
    return this.#nextSeq - this.#held;
  }

  /** Entries that fell off the ring. */
  get dropped(): number {
    return this.firstSeq - 1;
  }

  /** No more entries will come (the session closed); followers end after what is held. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Numbers and stores an entry, and wakes the followers. */
  append(entry: WorkerLogEntry): DeviceLogEntryJson {
    const numbered: DeviceLogEntryJson = { seq: this.#nextSeq, ...entry };
    this.#slots[(this.#nextSeq - 1) % this.capacity] = numbered;
    this.#nextSeq++;
    this.#held = Math.min(this.#held + 1, this.capacity);
    this.#notify();
    return numbered;
  }

  /** The entry with this seq, if still held. */
  get(seq: number): DeviceLogEntryJson | undefined {
    if (seq < this.firstSeq || seq > this.lastSeq) return undefined;
    return this.#slots[(seq - 1) % this.capacity];
  }

  /** The entries held, oldest first, and how many were dropped (`GET …/log`, the final log of a close). */
  snapshot(): DeviceLogResponse {
    const entries: DeviceLogEntryJson[] = [];
    for (let s = this.firstSeq; s <= this.lastSeq; s++) entries.push(this.get(s)!);
    return { entries, dropped: this.dropped };
  }

  /** Calls `listener` (no arguments) after each append and at close; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#notify();
  }

  #notify(): void {
    for (const l of [...this.#listeners]) l();
  }
}
