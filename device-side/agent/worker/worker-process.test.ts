/**
 * Supervision with a real worker process (forked with tsx's loader, as from a checkout): a crash and a hang
 * of the worker are reported as SERVICE_CRASHED / SERVICE_HUNG product failures — in the session's stream
 * and to the request that was waiting — the agent survives, restarts the worker and serves new sessions.
 * The crash and the hang are the agent's own self-tests (`--allow-self-test`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceLogEntryJson, ErrorEnvelope, Health, SessionInfo } from '../protocol/index.js';
import { createAgentServer } from '../server/index.js';
import { checkedInject, FAKE_AGENT_BACKEND_MODULE, type CheckedAnswer } from '../testing/index.js';

const TOKEN = '5e1f0c3a9b7d4e2f8a6c1b0d3e5f7a9c';
let agent: Awaited<ReturnType<typeof createAgentServer>>;
let leaseId: string;

const call = (method: string, url: string, payload?: unknown): Promise<CheckedAnswer> =>
  checkedInject(agent.app, { method, url, headers: { authorization: `Bearer ${TOKEN}` }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
const health = async (): Promise<Health> => (await call('GET', '/v1/health')).json as Health;
const open = async (): Promise<string> => {
  const res = await call('POST', '/v1/sessions', { leaseId, name: 'worker-process.test', seed: 1, world: { fn: 'loopback' } });
  expect(res.status, res.body).toBe(201);
  return (res.json as SessionInfo).sessionId;
};
const log = async (sessionId: string): Promise<DeviceLogEntryJson[]> => ((await call('GET', `/v1/sessions/${sessionId}/log`)).json as { entries: DeviceLogEntryJson[] }).entries;

beforeAll(async () => {
  agent = await createAgentServer({
    token: TOKEN,
    backend: { name: 'fake', module: FAKE_AGENT_BACKEND_MODULE },
    worker: { mode: 'process', pingIntervalMs: 100, hangTimeoutMs: 1_000 },
    allowSelfTest: true,
    logStream: false,
  });
  leaseId = ((await call('POST', '/v1/leases', { holder: 'worker-process.test', ttlMs: 600_000 })).json as { leaseId: string }).leaseId;
}, 60_000);
afterAll(async () => {
  await agent?.app.close();
});

describe('service worker process', () => {
  it('runs the service in a child process the agent supervises', async () => {
    const h = await health();
    expect(h.worker).toMatchObject({ state: 'ready', mode: 'process', restarts: 0 });
    expect(h.worker.pid).not.toBe(process.pid);
    expect(h.faults).toEqual(expect.arrayContaining(['crashWorker', 'hangWorker']));
    const sid = await open();
    expect((await call('POST', `/v1/sessions/${sid}/wait`, { until: 'configured', timeoutMs: 10_000 })).status).toBe(200);
    expect((await call('DELETE', `/v1/sessions/${sid}`)).status).toBe(200);
  });

  it('reports a crash as SERVICE_CRASHED in the stream and to the next request, then restarts the worker', async () => {
    const before = await health();
    const sid = await open();
    expect((await call('POST', `/v1/sessions/${sid}/faults`, { kind: 'crashWorker' })).json).toMatchObject({ kind: 'crashWorker', label: 'self-test' });
    await expect.poll(async () => (await log(sid)).some((e) => e.kind === 'serviceCrashed'), { timeout: 10_000 }).toBe(true);
    const crashed = (await log(sid)).find((e) => e.kind === 'serviceCrashed')!;
    expect(crashed).toMatchObject({ level: 'error', error: { code: 'SERVICE_CRASHED', message: expect.stringContaining('self-test: crashWorker') } });
    const next = await call('GET', `/v1/sessions/${sid}`);
    expect(next.status).toBe(503);
    expect((next.json as ErrorEnvelope).error).toMatchObject({ code: 'SERVICE_CRASHED' });
    await expect.poll(async () => (await health()).worker.state, { timeout: 20_000 }).toBe('ready');
    const after = await health();
    expect(after.worker.restarts).toBe(before.worker.restarts + 1);
    expect(after.worker.pid).not.toBe(before.worker.pid);
    const closed = await call('DELETE', `/v1/sessions/${sid}`);
    expect((closed.json as { log: { entries: DeviceLogEntryJson[] } }).log.entries.some((e) => e.kind === 'serviceCrashed')).toBe(true);
    const again = await open();
    expect((await call('GET', `/v1/sessions/${again}`)).status).toBe(200);
  }, 40_000);

  it('reports a hang as SERVICE_HUNG to the request waiting on the worker, kills and restarts it', async () => {
    const before = await health();
    const sid = await open();
    const waiting = call('POST', `/v1/sessions/${sid}/wait`, { until: 'waiting', timeoutMs: 30_000 });
    expect((await call('POST', `/v1/sessions/${sid}/faults`, { kind: 'hangWorker' })).status).toBe(202);
    const answer = await waiting;
    expect(answer.status).toBe(503);
    expect((answer.json as ErrorEnvelope).error).toMatchObject({ code: 'SERVICE_HUNG', message: expect.stringContaining('did not answer a ping') });
    expect((await log(sid)).at(-1)).toMatchObject({ kind: 'serviceHung', error: { code: 'SERVICE_HUNG' } });
    await expect.poll(async () => (await health()).worker.state, { timeout: 20_000 }).toBe('ready');
    expect((await health()).worker.restarts).toBe(before.worker.restarts + 1);
  }, 40_000);

  it('restarts the worker on request; the open session ends', async () => {
    const sid = await open();
    const before = await health();
    const res = await call('POST', '/v1/worker/restart', {});
    expect(res.json).toMatchObject({ worker: { state: 'ready', restarts: before.worker.restarts + 1 } });
    expect((res.json as { worker: { pid: number } }).worker.pid).not.toBe(before.worker.pid);
    expect(((await call('GET', `/v1/sessions/${sid}`)).json as ErrorEnvelope).error).toMatchObject({ code: 'LAB_AGENT_NO_SESSION' });
    expect((await log(sid)).some((e) => e.kind === 'workerRestart')).toBe(true);
    await open();
  }, 40_000);
});
