/**
 * The device-side event log: what the service and its function did, with typed errors, on the port's
 * clock. Reports attach it as JSON; scenarios read it through the `device` fixture.
 *
 * Bounded (a ring of `capacity` entries) so that a long soak does not grow memory; `dropped` counts what
 * fell off the front.
 */
import { HarnessError, type HarnessErrorJSON } from '../../core/index.js';

export type DeviceLogLevel = 'info' | 'warn' | 'error';

export interface DeviceLogEntry {
  /** Milliseconds on the port's clock (virtual in sim). */
  readonly timeMs: number;
  readonly level: DeviceLogLevel;
  /** What happened, in domain words: `open`, `activate`, `busEvent`, `setup`, `queryRemove`, `transferFailed`, ... */
  readonly kind: string;
  readonly detail?: Readonly<Record<string, unknown>> | undefined;
  /** The typed error, serialized (code, name, fields, cause chain). */
  readonly error?: HarnessErrorJSON | undefined;
}

export class DeviceEventLog {
  readonly #capacity: number;
  readonly #now: () => number;
  #entries: DeviceLogEntry[] = [];
  #dropped = 0;
  #lastError: DeviceLogEntry | undefined;
  readonly #listeners = new Set<(entry: DeviceLogEntry) => void>();
  readonly #warnedOnce = new Set<string>();

  constructor(now: () => number, capacity = 5_000) {
    this.#now = now;
    this.#capacity = capacity;
  }

  info(kind: string, detail?: Record<string, unknown>): void {
    this.#push({ timeMs: this.#now(), level: 'info', kind, detail });
  }

  warn(kind: string, detail?: Record<string, unknown>): void {
    this.#push({ timeMs: this.#now(), level: 'warn', kind, detail });
  }

  /**
   * A warning recorded only the first time `kind` is warned about through this method (a condition that
   * would otherwise repeat for every bus event). Returns whether it was recorded.
   */
  warnOnce(kind: string, detail?: Record<string, unknown>): boolean {
    if (this.#warnedOnce.has(kind)) return false;
    this.#warnedOnce.add(kind);
    this.warn(kind, detail);
    return true;
  }

  /** Records a failure; non-harness errors are wrapped so the log stays plain data. */
  error(kind: string, err: unknown, detail?: Record<string, unknown>): void {
    const error =
      err instanceof HarnessError
        ? err.toJSON()
        : { name: err instanceof Error ? err.name : 'unknown', code: 'UNEXPECTED', message: String(err instanceof Error ? err.message : err), data: {} };
    const entry: DeviceLogEntry = { timeMs: this.#now(), level: 'error', kind, detail, error };
    this.#lastError = entry;
    this.#push(entry);
  }

  /** The entries still held, oldest first. */
  get entries(): readonly DeviceLogEntry[] {
    return this.#entries;
  }

  /** The most recent error entry, even if it fell off the ring. */
  get lastError(): DeviceLogEntry | undefined {
    return this.#lastError;
  }

  /** Entries lost to the ring bound. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Calls `listener` with every entry logged from now on, synchronously and in order (the device agent
   * forwards them to its event stream). The ring bound is unchanged: a listener sees entries that later
   * fall off the ring. Returns the function that removes the listener.
   */
  onEntry(listener: (entry: DeviceLogEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Entries of one kind (convenience for scenarios and tests). */
  ofKind(kind: string): DeviceLogEntry[] {
    return this.#entries.filter((e) => e.kind === kind);
  }

  toJSON(): { dropped: number; entries: readonly DeviceLogEntry[] } {
    return { dropped: this.#dropped, entries: this.#entries };
  }

  #push(entry: DeviceLogEntry): void {
    this.#entries.push(entry);
    for (const listener of this.#listeners) {
      try {
        listener(entry);
      } catch {
        // An observer's bug must not break the service it observes (the entry is in the ring regardless).
      }
    }
    if (this.#entries.length > this.#capacity) {
      // Drop the oldest half at once: amortized O(1) instead of shifting on every push.
      const drop = this.#entries.length - Math.floor(this.#capacity / 2);
      this.#entries = this.#entries.slice(drop);
      this.#dropped += drop;
    }
  }
}
