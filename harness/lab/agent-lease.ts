/**
 * `AgentLease`: the bench's lease held by this harness, renewed in the background every ttl/3 until it is
 * released. A renewal the agent refuses (404: it forgot the lease) or a lease that could not be renewed
 * for a whole TTL is *lost*: {@link AgentLease.lost} then holds a `LAB_AGENT_LEASE_LOST` error and
 * `onLost` is called once, so the rig can latch the bench broken instead of acting on someone else's bench.
 */
import type { ClockTimer } from '../../core/index.js';
import type { LeaseInfo } from '../../device-side/index.js';
import type { AcquireLeaseOptions, AgentClient } from './agent-client.js';
import { LabAgentError } from './lab-agent-error.js';

export interface AgentLeaseOptions {
  /** Called once when the lease is lost (never throws into the renewal loop). */
  readonly onLost?: ((error: LabAgentError) => void) | undefined;
}

export class AgentLease implements AsyncDisposable {
  readonly leaseId: string;
  readonly holder: string;
  readonly ttlMs: number;
  readonly #client: AgentClient;
  readonly #onLost: ((error: LabAgentError) => void) | undefined;
  #info: LeaseInfo;
  #lastRenewedAt: number;
  #timer: ClockTimer | undefined;
  #renewing: Promise<void> | undefined;
  #lost: LabAgentError | undefined;
  #released = false;
  #renewals = 0;

  /** Takes the lease (waiting while busy, see {@link AgentClient.acquireLease}) and starts renewing it. */
  static async acquire(client: AgentClient, options: AcquireLeaseOptions & AgentLeaseOptions): Promise<AgentLease> {
    const info = await client.acquireLease(options);
    const lease = new AgentLease(client, info, options.ttlMs, options);
    lease.#schedule();
    return lease;
  }

  /**
   * Takes over a lease someone else took (e.g. `run --bench`, which picks a free bench by its lease before
   * the run starts) and renews it from now on; its first renewal confirms it is still ours.
   */
  static async resume(client: AgentClient, info: LeaseInfo, options: { ttlMs: number } & AgentLeaseOptions): Promise<AgentLease> {
    const renewed = await client.renewLease(info.leaseId, options.ttlMs);
    const lease = new AgentLease(client, renewed, options.ttlMs, options);
    lease.#schedule();
    return lease;
  }

  /** Adopts a lease taken elsewhere (e.g. by the run's global setup) without renewing it. */
  static adopt(client: AgentClient, info: LeaseInfo, ttlMs: number): AgentLease {
    return new AgentLease(client, info, ttlMs, {});
  }

  private constructor(client: AgentClient, info: LeaseInfo, ttlMs: number, options: AgentLeaseOptions) {
    this.#client = client;
    this.#info = info;
    this.leaseId = info.leaseId;
    this.holder = info.holder;
    this.ttlMs = ttlMs;
    this.#onLost = options.onLost;
    this.#lastRenewedAt = client.clock.now();
  }

  /** The lease as the agent last confirmed it. */
  get info(): LeaseInfo {
    return this.#info;
  }

  /** Successful renewals so far. */
  get renewals(): number {
    return this.#renewals;
  }

  /** Why the lease is lost, or undefined while it is held. */
  get lost(): LabAgentError | undefined {
    return this.#lost;
  }

  #schedule(): void {
    if (this.#released || this.#lost !== undefined) return;
    this.#timer = this.#client.clock.setTimer(this.ttlMs / 3, () => {
      this.#timer = undefined;
      this.#renewing = this.#renew().finally(() => {
        this.#renewing = undefined;
        this.#schedule();
      });
    });
  }

  async #renew(): Promise<void> {
    try {
      this.#info = await this.#client.renewLease(this.leaseId, this.ttlMs, { deadlineMs: this.ttlMs / 3 });
      this.#lastRenewedAt = this.#client.clock.now();
      this.#renewals++;
    } catch (err) {
      if (this.#released) return;
      const forgotten = err instanceof LabAgentError && (err.code === 'LAB_AGENT_NOT_FOUND' || err.code === 'LAB_AGENT_NO_SESSION');
      const sinceMs = this.#client.clock.now() - this.#lastRenewedAt;
      if (forgotten || sinceMs >= this.ttlMs) {
        this.#markLost(
          forgotten
            ? 'the agent no longer knows the lease (it expired there or the agent restarted)'
            : `no renewal succeeded for ${Math.round(sinceMs)} ms, longer than the lease's TTL of ${this.ttlMs} ms`,
          err,
        );
      }
      // Otherwise: try again at the next period, the lease is still valid on the agent.
    }
  }

  #markLost(why: string, cause: unknown): void {
    if (this.#lost !== undefined) return;
    this.#lost = new LabAgentError('LAB_AGENT_LEASE_LOST', { what: `lease ${this.leaseId} of ${JSON.stringify(this.holder)}`, why, cause, data: { leaseId: this.leaseId } });
    try {
      this.#onLost?.(this.#lost);
    } catch {
      // A failing listener must not break the renewal loop; the loss stays in `lost`.
    }
  }

  /** Stops renewing and releases the lease on the agent (a lease the agent forgot counts as released). Idempotent. */
  async release(options: { deadlineMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    this.#timer?.cancel();
    await this.#renewing;
    try {
      await this.#client.releaseLease(this.leaseId, options);
    } catch (err) {
      if (err instanceof LabAgentError && (err.code === 'LAB_AGENT_NOT_FOUND' || err.code === 'LAB_AGENT_NO_SESSION')) return;
      throw err;
    }
  }

  /** Stops renewing without releasing (the lease then expires on the agent after its TTL). */
  abandon(): void {
    this.#released = true;
    this.#timer?.cancel();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}
