/**
 * The bench's lease: one holder at a time, for a TTL, renewable, releasable (labgrid's reservations time
 * out unless refreshed). A second holder gets LAB_AGENT_BUSY naming the holder and the expiry; an expired
 * lease frees the bench by itself (`onExpire` closes its session).
 */
import { randomBytes } from 'node:crypto';
import type { Clock, ClockTimer } from '../../../core/index.js';
import { AgentError } from '../agent-error.js';
import type { LeaseInfo, LeaseRequest } from '../protocol/index.js';

export class LeaseTable {
  readonly #clock: Clock;
  readonly #onExpire: (lease: LeaseInfo) => void;
  #lease: { info: LeaseInfo; ttlMs: number; timer: ClockTimer } | undefined;

  /** @param clock wall clock: `now()` in ms since the epoch. */
  constructor(clock: Clock, onExpire: (lease: LeaseInfo) => void) {
    this.#clock = clock;
    this.#onExpire = onExpire;
  }

  /** The lease held now, or null. */
  get current(): LeaseInfo | null {
    return this.#lease?.info ?? null;
  }

  /** @throws AgentError LAB_AGENT_BUSY naming the holder and expiry. */
  acquire(request: LeaseRequest): LeaseInfo {
    const held = this.#lease?.info;
    if (held !== undefined) {
      throw new AgentError(
        'LAB_AGENT_BUSY',
        `the bench is leased by '${held.holder}'${held.runId ? ` (run ${held.runId})` : ''} until ${new Date(held.expiresAtMs).toISOString()}`,
        'Wait for the lease to be released or to expire, then retry (the harness retries with backoff up to its lease wait).',
        { holder: held.holder, runId: held.runId ?? null, expiresAtMs: held.expiresAtMs },
      );
    }
    const info: LeaseInfo = {
      leaseId: `L${randomBytes(8).toString('hex')}`,
      holder: request.holder,
      ...(request.runId === undefined ? {} : { runId: request.runId }),
      expiresAtMs: this.#clock.now() + request.ttlMs,
    };
    this.#lease = { info, ttlMs: request.ttlMs, timer: this.#arm(info, request.ttlMs) };
    return info;
  }

  /** Extends the lease by its TTL (or `ttlMs`) from now. @throws AgentError LAB_AGENT_NOT_FOUND */
  renew(leaseId: string, ttlMs?: number): LeaseInfo {
    const lease = this.#require(leaseId);
    lease.timer.cancel();
    const ttl = ttlMs ?? lease.ttlMs;
    const info: LeaseInfo = { ...lease.info, expiresAtMs: this.#clock.now() + ttl };
    this.#lease = { info, ttlMs: ttl, timer: this.#arm(info, ttl) };
    return info;
  }

  /** Releases the lease. @throws AgentError LAB_AGENT_NOT_FOUND */
  release(leaseId: string): LeaseInfo {
    const lease = this.#require(leaseId);
    lease.timer.cancel();
    this.#lease = undefined;
    return lease.info;
  }

  /**
   * Checks that `leaseId` is the lease held now (before a session opens under it).
   * @throws AgentError LAB_AGENT_BUSY when another holder has the bench, LAB_AGENT_NOT_FOUND when none does.
   */
  check(leaseId: string): LeaseInfo {
    const held = this.#lease?.info;
    if (held !== undefined && held.leaseId !== leaseId) {
      throw new AgentError('LAB_AGENT_BUSY', `lease ${leaseId} is not the bench's lease: '${held.holder}' holds it until ${new Date(held.expiresAtMs).toISOString()}`, 'Acquire the bench first (POST /v1/leases).', {
        holder: held.holder,
        expiresAtMs: held.expiresAtMs,
      });
    }
    return this.#require(leaseId).info;
  }

  /** Cancels the expiry timer (agent shutdown). */
  dispose(): void {
    this.#lease?.timer.cancel();
    this.#lease = undefined;
  }

  #require(leaseId: string): { info: LeaseInfo; ttlMs: number; timer: ClockTimer } {
    const lease = this.#lease;
    if (lease === undefined || lease.info.leaseId !== leaseId) {
      throw new AgentError('LAB_AGENT_NOT_FOUND', `lease ${leaseId} is not held: it was released or it expired`, 'Acquire a new lease (POST /v1/leases) and renew it within its TTL.', {
        leaseId,
      });
    }
    return lease;
  }

  #arm(info: LeaseInfo, ttlMs: number): ClockTimer {
    return this.#clock.setTimer(ttlMs, () => {
      if (this.#lease?.info !== info) return;
      this.#lease = undefined;
      this.#onExpire(info);
    });
  }
}
