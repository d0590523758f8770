import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { AgentClient } from './agent-client.js';
import { AgentLease } from './agent-lease.js';
import type { LabAgentError } from './lab-agent-error.js';
import { ManualClock, useFakeAgentServer } from './testing/index.js';

const URL_ = 'http://agent.test:7311';
const clock = new ManualClock();
const { server, fake } = useFakeAgentServer(() => ({ clock }));
const TTL_MS = 30_000;

function client(): AgentClient {
  return new AgentClient({ url: URL_, token: 'fake-token', clock, retries: 0 });
}

describe('AgentLease', () => {
  it('renews every ttl/3 in the background, so the lease outlives its TTL, and releases it', async () => {
    const lease = await AgentLease.acquire(client(), { holder: 'run-1', ttlMs: TTL_MS });
    await clock.advance(TTL_MS * 3);
    expect(lease.renewals).toBe(9);
    expect(lease.lost).toBeUndefined();
    expect(fake().lease?.leaseId).toBe(lease.leaseId);
    await lease.release();
    expect(fake().lease).toBeNull();
    await clock.advance(TTL_MS);
    expect(fake().requests.filter((r) => r.operation === 'renewLease')).toHaveLength(9);
    expect(clock.pendingTimers).toBe(0);
  });

  it('is lost at once when the agent no longer knows it, and says so once', async () => {
    const lost: LabAgentError[] = [];
    const lease = await AgentLease.acquire(client(), { holder: 'run-1', ttlMs: TTL_MS, onLost: (e) => lost.push(e) });
    server.use(http.post(`${URL_}/v1/leases/:id/renew`, () => HttpResponse.json({ error: { code: 'LAB_AGENT_NOT_FOUND', message: 'no lease' } }, { status: 404 })));
    await clock.advance(TTL_MS);
    expect(lost).toHaveLength(1);
    expect(lease.lost).toBe(lost[0]);
    expect(lease.lost?.message).toMatch(/^\[LAB_AGENT_LEASE_LOST\] lease L\d+ of "run-1": the agent no longer knows the lease/);
    await lease.release(); // the agent forgot it: releasing is not an error
  });

  it('keeps trying through transient failures and is lost only when a whole TTL passed without a renewal', async () => {
    const lease = await AgentLease.acquire(client(), { holder: 'run-1', ttlMs: TTL_MS });
    server.use(http.post(`${URL_}/v1/leases/:id/renew`, () => HttpResponse.json({ error: { code: 'LAB_AGENT_INTERNAL', message: 'busy' } }, { status: 500 })));
    await clock.advance(TTL_MS * (2 / 3));
    expect(lease.lost).toBeUndefined();
    await clock.advance(TTL_MS / 3);
    expect(lease.lost?.code).toBe('LAB_AGENT_LEASE_LOST');
    expect(lease.lost?.message).toMatch(/no renewal succeeded for 30000 ms, longer than the lease's TTL of 30000 ms/);
    lease.abandon();
    expect(clock.pendingTimers).toBe(0);
  });
});
