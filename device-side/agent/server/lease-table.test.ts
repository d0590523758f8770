/** The bench's lease: one holder, TTL, renew, release, expiry (on a manual wall clock). */
import { describe, expect, it } from 'vitest';
import { AgentError } from '../agent-error.js';
import type { LeaseInfo } from '../protocol/index.js';
import { ManualClock } from '../testing/index.js';
import { LeaseTable } from './lease-table.js';

describe('LeaseTable', () => {
  it('gives the bench to one holder; a second gets LAB_AGENT_BUSY naming the holder and expiry', () => {
    const clock = new ManualClock(1_000_000);
    const leases = new LeaseTable(clock, () => undefined);
    const a = leases.acquire({ holder: 'ci-runner-3', runId: 'r1', ttlMs: 30_000 });
    expect(a).toMatchObject({ holder: 'ci-runner-3', runId: 'r1', expiresAtMs: 1_030_000 });
    expect(a.leaseId).toMatch(/^L[0-9a-f]{16}$/);
    let busy: unknown;
    try {
      leases.acquire({ holder: 'dev', ttlMs: 5_000 });
    } catch (e) {
      busy = e;
    }
    expect(busy).toBeInstanceOf(AgentError);
    expect(busy).toMatchObject({ code: 'LAB_AGENT_BUSY', status: 409, data: { holder: 'ci-runner-3', expiresAtMs: 1_030_000 } });
    expect((busy as Error).message).toContain("'ci-runner-3'");
    expect(() => leases.check('Lother')).toThrow(/holds it/);
    expect(leases.check(a.leaseId)).toEqual(a);
  });

  it('renews from now by the TTL (or a new one), releases, and answers NOT_FOUND for an unknown lease', () => {
    const clock = new ManualClock(0);
    const leases = new LeaseTable(clock, () => undefined);
    const a = leases.acquire({ holder: 'h', ttlMs: 10_000 });
    clock.advance(9_000);
    expect(leases.renew(a.leaseId).expiresAtMs).toBe(19_000);
    expect(leases.renew(a.leaseId, 2_000).expiresAtMs).toBe(11_000);
    clock.advance(1_500);
    expect(leases.current?.leaseId).toBe(a.leaseId);
    expect(leases.release(a.leaseId)).toMatchObject({ holder: 'h' });
    expect(leases.current).toBeNull();
    expect(() => leases.renew(a.leaseId)).toThrow(expect.objectContaining({ code: 'LAB_AGENT_NOT_FOUND' }));
    expect(() => leases.check(a.leaseId)).toThrow(expect.objectContaining({ code: 'LAB_AGENT_NOT_FOUND' }));
  });

  it('frees the bench when the lease expires, and tells the agent once', () => {
    const clock = new ManualClock(0);
    const expired: LeaseInfo[] = [];
    const leases = new LeaseTable(clock, (l) => expired.push(l));
    const a = leases.acquire({ holder: 'h', ttlMs: 1_000 });
    clock.advance(999);
    expect(expired).toEqual([]);
    clock.advance(1);
    expect(expired).toEqual([a]);
    expect(leases.current).toBeNull();
    expect(leases.acquire({ holder: 'next', ttlMs: 1_000 }).holder).toBe('next');
    clock.advance(10_000);
    expect(expired).toHaveLength(2);
  });
});
