/**
 * `Idempotency-Key` on POST: a repeated key answers the first request's answer instead of acting twice
 * (the harness retries a POST after a connection reset without starting a service twice).
 *
 * - A key seen while its first request still runs waits for that request and answers what it answered.
 * - Successful answers (2xx) are kept for `ttlMs`; a failed request left nothing done, so its key is
 *   forgotten and a retry acts again.
 * - A key reused for another request (method, path or body differ) is refused.
 * - Bounded: past `maxEntries` the oldest keys are forgotten first.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../../core/index.js';
import { AgentError } from '../agent-error.js';

/** A stored answer. */
export interface StoredAnswer {
  readonly status: number;
  readonly body: unknown;
}

interface Entry {
  readonly fingerprint: string;
  readonly answer: Promise<StoredAnswer>;
  expiresAtMs: number;
}

/** Keys are visible ASCII, 1–200 characters (UUIDs, ULIDs, `run-42/open-3`). */
const KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

export class IdempotencyCache {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Entry>();

  constructor(clock: Clock, options: { ttlMs?: number; maxEntries?: number } = {}) {
    this.#clock = clock;
    this.#ttlMs = options.ttlMs ?? 10 * 60_000;
    this.#maxEntries = options.maxEntries ?? 1_000;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Runs `act` once per key: a repeated key gets the stored (or in-flight) answer.
   * @throws AgentError LAB_AGENT_BAD_REQUEST for a malformed key or a key reused for another request.
   */
  async run(key: string, request: { method: string; path: string; body: unknown }, act: () => Promise<StoredAnswer>): Promise<StoredAnswer> {
    if (!KEY_PATTERN.test(key)) {
      throw new AgentError('LAB_AGENT_BAD_REQUEST', 'the Idempotency-Key header must be 1 to 200 visible ASCII characters', 'Send a fresh UUID per logical request.', {
        keyLength: key.length,
      });
    }
    const fingerprint = createHash('sha256').update(`${request.method} ${request.path}\n${JSON.stringify(request.body ?? null)}`).digest('hex');
    this.#expire();
    const seen = this.#entries.get(key);
    if (seen !== undefined) {
      if (seen.fingerprint !== fingerprint) {
        throw new AgentError(
          'LAB_AGENT_BAD_REQUEST',
          `the Idempotency-Key '${key}' was already used for another request (method, path or body differ)`,
          'Use a new key for each logical request; reuse a key only to retry the very same request.',
          { key },
        );
      }
      return seen.answer;
    }
    const answer = act();
    const entry: Entry = { fingerprint, answer, expiresAtMs: Number.POSITIVE_INFINITY };
    this.#entries.set(key, entry);
    this.#bound();
    try {
      const result = await answer;
      if (result.status >= 200 && result.status < 300) entry.expiresAtMs = this.#clock.now() + this.#ttlMs;
      else this.#forget(key, entry);
      return result;
    } catch (err) {
      this.#forget(key, entry);
      throw err;
    }
  }

  #forget(key: string, entry: Entry): void {
    if (this.#entries.get(key) === entry) this.#entries.delete(key);
  }

  #expire(): void {
    const now = this.#clock.now();
    for (const [key, e] of this.#entries) if (e.expiresAtMs <= now) this.#entries.delete(key);
  }

  #bound(): void {
    // Map order is insertion order: the first keys are the oldest.
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(key);
    }
  }
}
