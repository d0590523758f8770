import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { validateLabConfig } from './lab-config.js';
import { AgentClient } from './agent-client.js';
import { BENCH_CHECK_STEPS, formatBenchCheck, runBenchCheck, type BenchCheckResult } from './bench-check.js';
import { FakeAgent, simBenchConfig, startSimBenchHost, useFakeAgentServer } from './testing/index.js';

const URL_ = 'http://agent.test:7311';
const { server, fake } = useFakeAgentServer();

async function check(options: { speed?: 'full' | 'high'; keepLease?: boolean; url?: string } = {}): Promise<BenchCheckResult> {
  const sim = await startSimBenchHost(options.speed ?? 'high');
  try {
    const config = validateLabConfig(simBenchConfig({ url: options.url }));
    return await runBenchCheck({ config, token: 'fake-token', host: async () => sim.host, keepLease: options.keepLease, client: options.url === undefined ? undefined : new AgentClient({ url: options.url, token: 'fake-token', retryDelayMs: 0 }) });
  } finally {
    await sim.dispose();
  }
}

const outcomes = (r: BenchCheckResult): Record<string, string> => Object.fromEntries(r.steps.map((s) => [s.name, s.outcome]));

describe('bench check', () => {
  it('passes every step on a usable bench, then leaves the agent idle', async () => {
    const r = await check();
    expect(r.ok).toBe(true);
    expect(r.steps.map((s) => s.name)).toEqual([...BENCH_CHECK_STEPS]);
    expect(r.steps.every((s) => s.outcome === 'ok')).toBe(true);
    expect(r.steps.find((s) => s.name === 'loopback')?.detail).toMatch(/^4096 bytes byte-exact in \d+ ms$/);
    expect(r.steps.find((s) => s.name === 'device enumerates')?.detail).toMatch(/^VID 0x1209 PID 0x0001 at high speed on host port /);
    expect(fake().lease).toBeNull();
    expect(fake().sessionId).toBeNull();
    const text = formatBenchCheck(validateLabConfig(simBenchConfig()), r);
    expect(text.split('\n')).toHaveLength(BENCH_CHECK_STEPS.length + 2);
    expect(text).toMatch(/\n {2}ok {4}agent reachable {4}agent 0\.1\.0-fake \(sim backend/);
    expect(text).toMatch(/bench lab-01 is usable \(\d+\.\d s\)$/);
  });

  it('keeps the lease for the run when asked', async () => {
    const r = await check({ keepLease: true });
    expect(r.ok).toBe(true);
    expect(fake().lease?.leaseId).toBe(r.lease?.leaseId);
    await r.lease!.release();
    expect(fake().lease).toBeNull();
  });

  it('fails "device enumerates" on a speed fallback, skips the loopback, and cleans up', async () => {
    const r = await check({ speed: 'full' });
    expect(r.ok).toBe(false);
    expect(outcomes(r)).toMatchObject({ lease: 'ok', 'session open': 'ok', 'device enumerates': 'failed', loopback: 'skipped' });
    expect(r.steps.find((s) => s.name === 'device enumerates')?.detail).toMatch(/^\[LAB_BENCH_SPEED_MISMATCH\] .*negotiated full speed/);
    expect(fake().lease).toBeNull();
    const text = formatBenchCheck(validateLabConfig(simBenchConfig()), r);
    expect(text.split('\n').filter((l) => l.includes('FAIL'))).toHaveLength(1);
    expect(text).toMatch(/skip {2}loopback {11}not run: "device enumerates" failed/);
    expect(text).toMatch(/is NOT usable: 1 check failed/);
  });

  it('names the holder of a busy bench', async () => {
    await new AgentClient({ url: URL_, token: 'fake-token' }).acquireLease({ holder: 'alice at the bench', ttlMs: 60_000 });
    const r = await check();
    expect(outcomes(r)).toMatchObject({ 'function present': 'ok', lease: 'failed', 'session open': 'skipped' });
    expect(r.steps.find((s) => s.name === 'lease')?.detail).toMatch(/^\[LAB_AGENT_BUSY\] POST \/v1\/leases: the bench is held by "alice at the bench"/);
  });

  it('stops at the first failing step: version skew, an absent function, an unreachable agent', async () => {
    server.use(...new FakeAgent({ schemaHash: '0'.repeat(64) }).handlers());
    expect(outcomes(await check())).toMatchObject({ 'agent reachable': 'ok', 'versions match': 'failed', 'function present': 'skipped' });
    server.resetHandlers(...new FakeAgent({ functionPresent: false }).handlers());
    const absent = await check();
    expect(outcomes(absent)).toMatchObject({ 'versions match': 'ok', 'function present': 'failed', lease: 'skipped' });
    expect(absent.steps.find((s) => s.name === 'function present')?.detail).toMatch(/^\[LAB_BENCH_CHECK_FAILED\] .*no interface of that class is present \(CM_Get_Device_Interface_List returned an empty list\)/);

    const srv = createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const { port } = srv.address() as { port: number };
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    const down = await check({ url: `http://127.0.0.1:${port}` });
    expect(outcomes(down)['agent reachable']).toBe('failed');
    expect(down.steps.filter((s) => s.outcome === 'skipped')).toHaveLength(BENCH_CHECK_STEPS.length - 1);
  });
});
