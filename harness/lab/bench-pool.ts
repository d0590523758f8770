/**
 * A pool of benches from the inventory: their live status (`usbfn-hil bench list`) and taking a free one by
 * its lease, waiting (bounded) while every fitting bench is busy. The lease is the lock; nothing else is
 * coordinated here: a CI system's runners, or people at a bench, simply hold or free leases.
 */
import { delay, RealClock, type Clock } from '../../core/index.js';
import type { Health, LeaseInfo } from '../../device-side/index.js';
import { readAgentToken } from './lab-config.js';
import { AgentClient } from './agent-client.js';
import type { InventoryBench } from './bench-inventory.js';
import { LabAgentError, LabBenchError } from './lab-agent-error.js';

/** How `run --bench` hands the lease it took to the run (JSON LeaseInfo); the run resumes it. */
export const HANDED_LEASE_ENV = 'USBFN_HIL_LEASE';

export type BenchState = 'free' | 'leased' | 'unreachable' | 'refused' | 'no-token';

export interface BenchStatus {
  readonly id: string;
  readonly tags: readonly string[];
  readonly url: string;
  readonly state: BenchState;
  /** One line: who holds it, why it cannot be reached, … */
  readonly detail: string;
  readonly health?: Health | undefined;
}

function tokenOf(bench: InventoryBench, env: NodeJS.ProcessEnv): string | undefined {
  try {
    return readAgentToken(bench.config, env);
  } catch {
    return undefined;
  }
}

function clientOf(bench: InventoryBench, token: string, clock: Clock, deadlineMs: number): AgentClient {
  return new AgentClient({ url: bench.config.agent.url, token, clock, deadlineMs, retries: 0 });
}

/** The live status of one bench, from its agent's health (bounded by `timeoutMs`). */
export async function benchStatus(bench: InventoryBench, options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; clock?: Clock } = {}): Promise<BenchStatus> {
  const { id, tags } = bench.config.bench;
  const url = bench.config.agent.url;
  const token = tokenOf(bench, options.env ?? process.env);
  if (token === undefined) return { id, tags, url, state: 'no-token', detail: `${bench.config.agent.tokenEnv} is not set` };
  try {
    const health = await clientOf(bench, token, options.clock ?? new RealClock(), options.timeoutMs ?? 3_000).checkVersion();
    const lease = health.lease;
    const worker = `worker ${health.worker.state}, USB function ${health.usbfn.present ? 'present' : 'absent'}`;
    if (lease === null) return { id, tags, url, state: 'free', detail: `${health.backend} backend, ${worker}`, health };
    const left = Math.max(0, Math.round((lease.expiresAtMs - health.nowMs) / 1000));
    return { id, tags, url, state: 'leased', detail: `held by ${JSON.stringify(lease.holder)} (expires in ${left} s), ${worker}`, health };
  } catch (err) {
    const code = err instanceof LabAgentError ? err.code : 'LAB_AGENT_UNREACHABLE';
    const state: BenchState = code === 'LAB_AGENT_UNREACHABLE' || code === 'LAB_AGENT_DEADLINE' ? 'unreachable' : 'refused';
    return { id, tags, url, state, detail: err instanceof Error ? err.message : String(err) };
  }
}

/** A bench taken from the pool: its configuration, token and the lease the run must use and release. */
export interface TakenBench {
  readonly bench: InventoryBench;
  readonly token: string;
  readonly lease: LeaseInfo;
  readonly waitedMs: number;
}

export interface TakeBenchOptions {
  readonly holder: string;
  /** Lease lifetime; the run renews it (default the bench's lease.ttlMs). */
  readonly ttlMs?: number | undefined;
  /** How long to wait while every fitting bench is busy (0: fail at once). */
  readonly waitMs: number;
  /** Pause between rounds while waiting (default 5000 ms). */
  readonly pollMs?: number | undefined;
  readonly env?: NodeJS.ProcessEnv | undefined;
  readonly clock?: Clock | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Told about each round while waiting (for a progress line). */
  readonly onWait?: ((statuses: readonly BenchStatus[], leftMs: number) => void) | undefined;
}

/**
 * Takes a free bench among `candidates` by its lease: free ones (by health) are tried first, in inventory
 * order; when every one is busy the round repeats until `waitMs` has passed (one deadline for the wait).
 * @throws LabBenchError LAB_BENCH_ALL_BUSY (with the holders), LAB_BENCH_NONE_USABLE (every bench unreachable
 * or refusing: the statuses say why)
 */
export async function takeBench(candidates: readonly InventoryBench[], options: TakeBenchOptions): Promise<TakenBench> {
  const clock = options.clock ?? new RealClock();
  const env = options.env ?? process.env;
  const started = clock.now();
  const pollMs = options.pollMs ?? 5_000;
  for (;;) {
    const statuses = await Promise.all(candidates.map((b) => benchStatus(b, { env, clock })));
    const order = candidates.map((b, i) => ({ b, s: statuses[i]! })).sort((x, y) => Number(x.s.state !== 'free') - Number(y.s.state !== 'free'));
    for (const { b, s } of order) {
      if (s.state !== 'free' && s.state !== 'leased') continue;
      const token = tokenOf(b, env)!;
      try {
        const lease = await clientOf(b, token, clock, 10_000).acquireLease({ holder: options.holder, ttlMs: options.ttlMs ?? b.config.lease.ttlMs, waitMs: 0, signal: options.signal });
        return { bench: b, token, lease, waitedMs: clock.now() - started };
      } catch (err) {
        if (err instanceof LabAgentError && err.code === 'LAB_AGENT_BUSY') continue;
        // Unreachable or refusing now: the next round looks again.
      }
    }
    const usable = statuses.filter((s) => s.state === 'free' || s.state === 'leased');
    const left = options.waitMs - (clock.now() - started);
    if (usable.length === 0) {
      throw new LabBenchError('LAB_BENCH_NONE_USABLE', {
        what: `no bench of ${candidates.map((c) => c.config.bench.id).join(', ')} can be used`,
        why: statuses.map((s) => `${s.id}: ${s.state} (${s.detail})`).join('; '),
        fix: 'start the device agents, set their tokens, or pick other benches with --bench (usbfn-hil bench list shows them all)',
      });
    }
    if (left <= 0) {
      throw new LabBenchError('LAB_BENCH_ALL_BUSY', {
        what: `every bench of ${candidates.map((c) => c.config.bench.id).join(', ')} stayed busy for ${options.waitMs} ms`,
        why: statuses.map((s) => `${s.id}: ${s.detail}`).join('; '),
        fix: 'wait for them, give --bench-wait a longer wait, or ask the holders to release their leases',
        data: { waitMs: options.waitMs },
      });
    }
    options.onWait?.(statuses, left);
    await delay(clock, Math.min(pollMs, left), options.signal);
  }
}
