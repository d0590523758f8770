/**
 * The fixed-size bus-event queue of one open handle: events wait here while no BUS_EVENT_NOTIFICATION
 * request is outstanding, so none is lost between two requests.
 *
 * *UFX page*: UFX keeps a fixed-size per-class-driver queue of notifications; its depth and
 * overflow behaviour are not published.
 * ASSUMPTION(drv-event-queue): depth 32 by default; on overflow the **oldest** event is dropped (the newest
 * state of the bus matters most) and the drop is reported to the caller so the model can log it.
 */
import type { UfxBusEvent } from '../link/index.js';

/** Default queue depth (ASSUMPTION(drv-event-queue): the depth is unpublished). */
export const DEFAULT_EVENT_QUEUE_DEPTH = 32;

/** A ring buffer of bus events with drop-oldest overflow. */
export class EventQueue {
  readonly capacity: number;
  readonly #ring: (UfxBusEvent | undefined)[];
  #head = 0;
  #size = 0;
  #dropped = 0;

  constructor(capacity = DEFAULT_EVENT_QUEUE_DEPTH) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`event queue depth must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#ring = new Array<UfxBusEvent | undefined>(capacity).fill(undefined);
  }

  get size(): number {
    return this.#size;
  }

  /** Events dropped by overflow since creation. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Appends `event`; returns the event dropped to make room, if any. */
  push(event: UfxBusEvent): UfxBusEvent | undefined {
    let dropped: UfxBusEvent | undefined;
    if (this.#size === this.capacity) {
      dropped = this.#ring[this.#head];
      this.#ring[this.#head] = undefined;
      this.#head = (this.#head + 1) % this.capacity;
      this.#size--;
      this.#dropped++;
    }
    this.#ring[(this.#head + this.#size) % this.capacity] = event;
    this.#size++;
    return dropped;
  }

  /** Removes and returns the oldest event. */
  shift(): UfxBusEvent | undefined {
    if (this.#size === 0) return undefined;
    const e = this.#ring[this.#head];
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.capacity;
    this.#size--;
    return e;
  }

  clear(): void {
    this.#ring.fill(undefined);
    this.#head = 0;
    this.#size = 0;
  }
}
