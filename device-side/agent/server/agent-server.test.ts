/**
 * The agent's HTTP API end to end, in-process: the real server, the real service in the in-process worker
 * over the `fake` backend (a scripted device on FakeUsbFnPort). Every answer is checked against the
 * protocol's response schemas (checkedInject).
 */
import { parseDeviceTrace } from '../../trace/index.js';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { errorFromJSON, TimeoutError } from '../../../core/index.js';
import { agentOpenApiDocument, agentSchemaHash, type DeviceLogEntryJson, type ErrorEnvelope, type EventLine, type Health, type SessionInfo } from '../protocol/index.js';
import { checkedInject, FAKE_AGENT_BACKEND_MODULE, FAKE_INSTANCE_ID, FakePnpRunner, ManualClock, type CheckedAnswer } from '../testing/index.js';
import { createAgentServer, type AgentServerOptions } from './agent-server.js';

const TOKEN = 'a3f1c2d4e5b6a7980a1b2c3d4e5f6a7b';
const AUTH = { authorization: `Bearer ${TOKEN}` };

type Agent = Awaited<ReturnType<typeof createAgentServer>> & {
  call(method: string, url: string, payload?: unknown, headers?: Record<string, string>): Promise<CheckedAnswer>;
  lease(): Promise<string>;
  open(world?: Record<string, unknown>, leaseId?: string): Promise<SessionInfo>;
  log: string[];
};

const agents: Agent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.app.close();
});

async function makeAgent(options: Partial<AgentServerOptions> & { settings?: Record<string, unknown> } = {}): Promise<Agent> {
  const log: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      log.push(chunk.toString());
      cb();
    },
  });
  const { settings, ...rest } = options;
  const created = await createAgentServer({
    token: TOKEN,
    backend: { name: 'fake', module: FAKE_AGENT_BACKEND_MODULE, settings: settings ?? {} },
    worker: { mode: 'in-process' },
    logStream,
    heartbeatMs: 50,
    ...rest,
  });
  const call = (method: string, url: string, payload?: unknown, headers: Record<string, string> = AUTH): Promise<CheckedAnswer> =>
    checkedInject(created.app, { method, url, headers, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
  let leaseId: string | undefined;
  const agent: Agent = {
    ...created,
    call,
    log,
    lease: async () => (leaseId ??= ((await call('POST', '/v1/leases', { holder: 'test', ttlMs: 60_000 })).json as { leaseId: string }).leaseId),
    open: async (world = {}, lease) => {
      const res = await call('POST', '/v1/sessions', { leaseId: lease ?? (await agent.lease()), name: 'agent-server.test', seed: 7, world: { fn: 'loopback', ...world } });
      expect(res.status, res.body).toBe(201);
      return res.json as SessionInfo;
    },
  };
  agents.push(agent);
  return agent;
}

const envelope = (res: CheckedAnswer): ErrorEnvelope['error'] => (res.json as ErrorEnvelope).error;
const entries = (res: CheckedAnswer): DeviceLogEntryJson[] => (res.json as { entries: DeviceLogEntryJson[] }).entries;

describe('agent server: health and schema', () => {
  it('answers the liveness probe without a token, and everything else only with it', async () => {
    const a = await makeAgent();
    expect((await a.call('GET', '/v1/health?probe=1', undefined, {})).json).toEqual({ ok: true });
    const refused = await a.call('GET', '/v1/health', undefined, {});
    expect(refused.status).toBe(401);
    expect(envelope(refused)).toMatchObject({ code: 'LAB_AGENT_UNAUTHORIZED', fix: expect.stringContaining('Authorization: Bearer') });
    expect((await a.call('GET', '/v1/health?probe=2', undefined, AUTH)).status).toBe(400);
  });

  it('reports version, schema hash, clock, backend, worker, lease, interface presence and faults', async () => {
    const a = await makeAgent({ agentVersion: '1.2.3', bench: { id: 'bench-7', tags: ['speed-high'] } });
    const before = Date.now();
    const health = (await a.call('GET', '/v1/health')).json as Health;
    expect(health).toMatchObject({
      ok: true,
      agentVersion: '1.2.3',
      protocol: 1,
      schemaHash: agentSchemaHash(),
      backend: 'fake',
      bench: { id: 'bench-7', tags: ['speed-high'] },
      lease: null,
      worker: { state: 'ready', mode: 'in-process', pid: null, restarts: 0 },
      usbfn: { interfaceGuid: '{7A1C9E52-3B4D-4F86-A0E1-5D2C8B6F9A13}', present: true, symbolicLink: expect.stringContaining('USBFN#UsbfnHilLoopback') },
      pnp: { allowed: false, verbs: [] },
      faults: ['failIoctl', 'dropNotification', 'closeHandle', 'restartService'],
      sessionId: null,
    });
    expect(health.nowMs).toBeGreaterThanOrEqual(before);
    expect((await a.call('GET', '/v1/schema')).json).toEqual(JSON.parse(JSON.stringify(agentOpenApiDocument('1.2.3'))));
  });

  it('answers unknown routes and methods with the envelope', async () => {
    const a = await makeAgent();
    expect(envelope(await a.call('GET', '/v1/nope'))).toMatchObject({ code: 'LAB_AGENT_NOT_FOUND' });
    expect(envelope(await a.call('PUT', '/v1/leases'))).toMatchObject({ message: expect.stringContaining('it has POST') });
  });
});

describe('agent server: leases', () => {
  it('gives one holder the bench, renews, releases; others get 409 naming the holder', async () => {
    const a = await makeAgent();
    const first = await a.call('POST', '/v1/leases', { holder: 'ci-runner-3 pid 4711', runId: 'run-9', ttlMs: 30_000 });
    expect(first.status).toBe(201);
    const { leaseId } = first.json as { leaseId: string };
    const busy = await a.call('POST', '/v1/leases', { holder: 'dev', ttlMs: 5_000 });
    expect(busy.status).toBe(409);
    expect(envelope(busy)).toMatchObject({ code: 'LAB_AGENT_BUSY', harnessError: { data: { holder: 'ci-runner-3 pid 4711' } } });
    expect((await a.call('POST', `/v1/leases/${leaseId}/renew`, { ttlMs: 60_000 })).status).toBe(200);
    expect((await a.call('DELETE', `/v1/leases/${leaseId}`)).status).toBe(204);
    expect(envelope(await a.call('DELETE', `/v1/leases/${leaseId}`))).toMatchObject({ code: 'LAB_AGENT_NOT_FOUND' });
    expect((await a.call('POST', '/v1/leases', { holder: 'x', ttlMs: 10 })).status).toBe(400);
  });

  it('frees the bench and closes the session when the lease expires', async () => {
    const clock = new ManualClock(Date.now());
    const a = await makeAgent({ clock });
    const leaseId = (( await a.call('POST', '/v1/leases', { holder: 'h', ttlMs: 1_000 })).json as { leaseId: string }).leaseId;
    const s = await a.open({}, leaseId);
    clock.advance(1_000);
    await expect.poll(async () => (await a.call('GET', `/v1/sessions/${s.sessionId}`)).status).toBe(404);
    const health = (await a.call('GET', '/v1/health')).json as Health;
    expect(health).toMatchObject({ lease: null, sessionId: null });
    expect((await a.call('POST', '/v1/sessions', { leaseId, name: 'n', seed: 1, world: { fn: 'loopback' } })).status).toBe(404);
  });
});

describe('agent server: sessions', () => {
  it('opens with the world, starts and stops the service, waits on the device, and closes with the final log', async () => {
    const a = await makeAgent();
    const s = await a.open({ startService: false, busEventDepth: 2 });
    expect(s).toMatchObject({ functionName: 'loopback', status: { service: 'idle', bus: 'unknown', openCount: 0, symbolicLink: null } });
    const base = `/v1/sessions/${s.sessionId}`;
    expect((await a.call('POST', `${base}/service/start`, {})).json).toMatchObject({ status: { service: expect.stringMatching(/active|opening|waitingForInterface/) } });
    const waited = await a.call('POST', `${base}/wait`, { until: 'configured', timeoutMs: 5_000 });
    expect(waited.json).toMatchObject({ status: { service: 'active', bus: 'configured', openCount: 1 }, atMs: expect.any(Number) });
    expect((await a.call('GET', base)).json).toMatchObject({ sessionId: s.sessionId, status: { bus: 'configured' } });
    const twice = await a.call('POST', `${base}/service/start`, {});
    expect(twice.status).toBe(409);
    expect(envelope(twice)).toMatchObject({ code: 'SERVICE_STATE', harnessError: { name: 'ServiceStateError' } });
    expect((await a.call('POST', `${base}/service/stop`, { timeoutMs: 5_000 })).json).toMatchObject({ status: { service: 'stopped' } });
    // A start after a stop runs a fresh service over the same port: it opens the interface again.
    expect((await a.call('POST', `${base}/service/start`, {})).status).toBe(200);
    expect((await a.call('POST', `${base}/wait`, { until: 'configured', timeoutMs: 5_000 })).json).toMatchObject({ status: { service: 'active', bus: 'configured' } });
    const closed = await a.call('DELETE', base);
    const kinds = (closed.json as { log: { entries: DeviceLogEntryJson[] } }).log.entries.map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['session', 'start', 'open', 'activate', 'busEvent', 'stop', 'sessionClosed']));
    for (const path of [base, `${base}/log`, `${base}/events`]) expect(envelope(await a.call('GET', path))).toMatchObject({ code: 'LAB_AGENT_NO_SESSION' });
  });

  it('answers a wait that times out on the device with 408 carrying the TimeoutError', async () => {
    const a = await makeAgent({ settings: { configure: false } });
    const s = await a.open();
    const res = await a.call('POST', `/v1/sessions/${s.sessionId}/wait`, { until: 'configured', timeoutMs: 30 });
    expect(res.status).toBe(408);
    const rebuilt = errorFromJSON(envelope(res).harnessError!);
    expect(rebuilt).toBeInstanceOf(TimeoutError);
    expect(rebuilt).toMatchObject({ code: 'TIMEOUT', timeoutMs: 30 });
  });

  it('streams the log from a cursor, refuses a cursor past the end, and reports a gap after the ring wrapped', async () => {
    const a = await makeAgent({ eventRingCapacity: 4 });
    const s = await a.open();
    const all = entries(await a.call('GET', `/v1/sessions/${s.sessionId}/log`));
    const last = all.at(-1)!.seq;
    expect(last).toBeGreaterThan(4);
    const res = await a.call('GET', `/v1/sessions/${s.sessionId}/events?after=0&follow=0`);
    const lines = res.json as EventLine[];
    expect(lines[0]).toEqual({ type: 'gap', fromSeq: 1, toSeq: last - 4, dropped: last - 4 });
    expect(lines.slice(1).map((l) => (l.type === 'entry' ? l.entry.seq : -1))).toEqual([last - 3, last - 2, last - 1, last]);
    expect(((await a.call('GET', `/v1/sessions/${s.sessionId}/events?after=${last}`)).json as EventLine[])).toEqual([]);
    expect(envelope(await a.call('GET', `/v1/sessions/${s.sessionId}/events?after=${last + 1}`))).toMatchObject({ code: 'LAB_AGENT_BAD_REQUEST' });
    expect((await a.call('GET', `/v1/sessions/${s.sessionId}/events?after=-1`)).status).toBe(400);
    expect((await a.call('GET', `/v1/sessions/${s.sessionId}/events?follow=2`)).status).toBe(400);
  });

  it('follows the stream with heartbeats until the session closes', async () => {
    const a = await makeAgent();
    const s = await a.open();
    const streamed = a.call('GET', `/v1/sessions/${s.sessionId}/events?follow=1`);
    await new Promise((r) => setTimeout(r, 120));
    await a.call('DELETE', `/v1/sessions/${s.sessionId}`);
    const lines = (await streamed).json as EventLine[];
    expect(lines.some((l) => l.type === 'heartbeat')).toBe(true);
    expect(lines.filter((l) => l.type === 'entry').at(-1)).toMatchObject({ entry: { kind: 'sessionClosed' } });
  });

  it('closes the open session when the same lease opens another; refuses another holder\'s or an unknown lease', async () => {
    const a = await makeAgent();
    const leaseId = await a.lease();
    const s1 = await a.open({}, leaseId);
    const s2 = await a.open({ fn: 'sourceSink' }, leaseId);
    expect(s2.functionName).toBe('source-sink');
    expect((await a.call('GET', `/v1/sessions/${s1.sessionId}`)).status).toBe(404);
    expect(envelope(await a.call('POST', '/v1/sessions', { leaseId: 'Lnot-mine', name: 'n', seed: 1, world: { fn: 'loopback' } }))).toMatchObject({ code: 'LAB_AGENT_BUSY' });
    const b = await makeAgent({ functions: ['loopback'] });
    expect(envelope(await b.call('POST', '/v1/sessions', { leaseId: 'Lnone', name: 'n', seed: 1, world: { fn: 'loopback' } }))).toMatchObject({ code: 'LAB_AGENT_NOT_FOUND' });
    const only = await b.call('POST', '/v1/sessions', { leaseId: await b.lease(), name: 'n', seed: 1, world: { fn: 'sourceSink' } });
    expect(envelope(only)).toMatchObject({ code: 'LAB_AGENT_BAD_REQUEST', message: expect.stringContaining('offers the function loopback') });
  });

  it('serves the device trace of a session opened with trace: true', async () => {
    const a = await makeAgent();
    const traced = await a.open({ trace: true });
    const res = await a.call('GET', `/v1/sessions/${traced.sessionId}/trace`);
    const lines = res.json as { kind: string; name?: string }[];
    // The format `usbfn-hil trace check` reads (docs/reference/device-trace.md): a header, then the calls.
    expect(lines[0]).toMatchObject({ kind: 'header', backend: 'fake' });
    expect(lines.map((l) => l.kind)).toEqual(expect.arrayContaining(['cmRegister', 'cmCall', 'open', 'ioctl']));
    expect(lines.find((l) => l.name === 'IOCTL_GENERICUSBFN_GET_CLASS_INFO')).toMatchObject({ bytesReturned: 748 });
    expect(() => parseDeviceTrace(lines.map((l) => JSON.stringify(l)).join('\n'))).not.toThrow();
    const plain = await a.open();
    expect(envelope(await a.call('GET', `/v1/sessions/${plain.sessionId}/trace`))).toMatchObject({ code: 'LAB_AGENT_NOT_FOUND' });
  });
});

describe('agent server: idempotency and deadlines', () => {
  it('answers a repeated Idempotency-Key with the first answer instead of opening twice', async () => {
    const a = await makeAgent();
    const leaseId = await a.lease();
    const body = { leaseId, name: 'retry', seed: 1, world: { fn: 'loopback' } };
    const key = { ...AUTH, 'idempotency-key': 'open-1' };
    const [r1, r2] = await Promise.all([a.call('POST', '/v1/sessions', body, key), a.call('POST', '/v1/sessions', body, key)]);
    const r3 = await a.call('POST', '/v1/sessions', body, key);
    expect((r1.json as SessionInfo).sessionId).toBe((r2.json as SessionInfo).sessionId);
    expect((r3.json as SessionInfo).sessionId).toBe((r1.json as SessionInfo).sessionId);
    const log = entries(await a.call('GET', `/v1/sessions/${(r1.json as SessionInfo).sessionId}/log`));
    expect(log.filter((e) => e.kind === 'session')).toHaveLength(1);
    expect(envelope(await a.call('POST', '/v1/sessions', { ...body, seed: 2 }, key))).toMatchObject({ code: 'LAB_AGENT_BAD_REQUEST', message: expect.stringContaining('already used') });
  });

  it('answers 504 LAB_AGENT_DEADLINE when the operation is not done by usbfn-deadline-ms, and refuses a bad deadline', async () => {
    const a = await makeAgent({ settings: { configure: false } });
    const s = await a.open();
    const t0 = performance.now();
    const res = await a.call('POST', `/v1/sessions/${s.sessionId}/wait`, { until: 'configured', timeoutMs: 60_000 }, { ...AUTH, 'usbfn-deadline-ms': '40' });
    expect(res.status).toBe(504);
    expect(envelope(res)).toMatchObject({ code: 'LAB_AGENT_DEADLINE', message: expect.stringContaining('40 ms') });
    expect(performance.now() - t0).toBeLessThan(5_000);
    for (const bad of ['0', '-5', 'soon', '99999999999']) {
      expect((await a.call('GET', '/v1/health', undefined, { ...AUTH, 'usbfn-deadline-ms': bad })).status, bad).toBe(400);
    }
    // The session is still usable after the abandoned wait.
    expect((await a.call('GET', `/v1/sessions/${s.sessionId}`)).status).toBe(200);
  });
});

describe('agent server: faults', () => {
  it('fails the named IOCTL at the seam: the service logs the injected Win32 error', async () => {
    const a = await makeAgent();
    const s = await a.open({ startService: false });
    const base = `/v1/sessions/${s.sessionId}`;
    const accepted = await a.call('POST', `${base}/faults`, { kind: 'failIoctl', ioctl: 'GET_CLASS_INFO', win32: 31 });
    expect(accepted.status).toBe(202);
    expect(accepted.json).toMatchObject({ faultId: expect.stringMatching(/^F\d+$/), kind: 'failIoctl', label: 'injected at the seam' });
    await a.call('POST', `${base}/service/start`, {});
    await expect.poll(async () => entries(await a.call('GET', `${base}/log`)).some((e) => e.kind === 'openFailed')).toBe(true);
    const log = entries(await a.call('GET', `${base}/log`));
    expect(log.find((e) => e.kind === 'faultFired')).toMatchObject({ level: 'warn', detail: { ioctl: 'IOCTL_GENERICUSBFN_GET_CLASS_INFO', win32Name: 'ERROR_GEN_FAILURE', label: 'injected at the seam' } });
    expect(log.find((e) => e.kind === 'openFailed')?.error).toMatchObject({ name: 'Win32Error', data: { win32: 31, ioctl: 'IOCTL_GENERICUSBFN_GET_CLASS_INFO' } });
    expect(envelope(await a.call('POST', `${base}/faults`, { kind: 'failIoctl', ioctl: 'WIGGLE', win32: 31 }))).toMatchObject({ code: 'LAB_AGENT_BAD_REQUEST', message: expect.stringContaining('TRANSFER_OUT') });
  });

  it('drops a CM notification, closes the handle behind the service, restarts the service', async () => {
    const a = await makeAgent({ settings: { announceArrival: true } });
    const s = await a.open({ startService: false });
    const base = `/v1/sessions/${s.sessionId}`;
    expect((await a.call('POST', `${base}/faults`, { kind: 'dropNotification', action: 'DEVICEINTERFACEARRIVAL' })).status).toBe(202);
    await a.call('POST', `${base}/service/start`, {});
    await a.call('POST', `${base}/wait`, { until: 'active', timeoutMs: 5_000 });
    await expect.poll(async () => entries(await a.call('GET', `${base}/log`)).find((e) => e.kind === 'faultFired')?.detail).toMatchObject({ action: 'CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL' });
    expect(entries(await a.call('GET', `${base}/log`)).some((e) => e.kind === 'interfaceArrival')).toBe(false);
    expect((await a.call('POST', `${base}/faults`, { kind: 'closeHandle' })).json).toMatchObject({ label: 'real' });
    expect(entries(await a.call('GET', `${base}/log`)).some((e) => e.kind === 'handleClosedBehindService')).toBe(true);
    expect((await a.call('POST', `${base}/faults`, { kind: 'restartService' })).json).toMatchObject({ kind: 'restartService', label: 'real' });
    expect((await a.call('POST', `${base}/wait`, { until: 'active', timeoutMs: 5_000 })).status).toBe(200);
  });

  it('refuses what the agent cannot do with 422 naming what is missing', async () => {
    const a = await makeAgent();
    const s = await a.open();
    const base = `/v1/sessions/${s.sessionId}/faults`;
    expect(envelope(await a.call('POST', base, { kind: 'pnp', verb: 'restart' }))).toMatchObject({ code: 'LAB_AGENT_FAULT_UNSUPPORTED', message: expect.stringContaining('--allow-pnp') });
    expect(envelope(await a.call('POST', base, { kind: 'crashWorker' }))).toMatchObject({ code: 'LAB_AGENT_FAULT_UNSUPPORTED', message: expect.stringContaining('--allow-self-test') });
    const b = await makeAgent({ allowSelfTest: true, allowPnp: true, pnpRunner: new FakePnpRunner(['restart']) });
    const t = await b.open();
    expect(envelope(await b.call('POST', `/v1/sessions/${t.sessionId}/faults`, { kind: 'hangWorker' }))).toMatchObject({ code: 'LAB_AGENT_FAULT_UNSUPPORTED', message: expect.stringContaining('in-process') });
    expect(envelope(await b.call('POST', `/v1/sessions/${t.sessionId}/faults`, { kind: 'pnp', verb: 'disable' }))).toMatchObject({ message: expect.stringContaining('/restart-device') });
    expect((await b.call('POST', `/v1/sessions/${t.sessionId}/faults`, { kind: 'pnp', verb: 'sideways' })).status).toBe(400);
  });

  it('runs real PnP on the devnode derived from the session\'s symbolic link (with --allow-pnp)', async () => {
    const runner = new FakePnpRunner();
    const a = await makeAgent({ allowPnp: true, pnpRunner: runner });
    expect(((await a.call('GET', '/v1/health')).json as Health)).toMatchObject({ pnp: { allowed: true, verbs: ['disable', 'enable', 'restart'] }, faults: expect.arrayContaining(['pnp']) });
    const s = await a.open();
    const base = `/v1/sessions/${s.sessionId}`;
    expect((await a.call('POST', `${base}/faults`, { kind: 'pnp', verb: 'disable' })).json).toMatchObject({ kind: 'pnp', label: 'real PnP' });
    expect(runner.runs).toEqual([{ verb: 'disable', instanceId: FAKE_INSTANCE_ID }]);
    expect(entries(await a.call('GET', `${base}/log`)).at(-1)).toMatchObject({ kind: 'fault', detail: { kind: 'pnp', verb: 'disable', instanceId: FAKE_INSTANCE_ID } });
    const { AgentError } = await import('../agent-error.js');
    runner.failNext = new AgentError('LAB_AGENT_PNP_FAILED', 'pnputil /restart-device exited with 5: Access is denied', 'Run the agent elevated.');
    const failed = await a.call('POST', `${base}/faults`, { kind: 'pnp', verb: 'restart' });
    expect(failed.status).toBe(500);
    expect(envelope(failed)).toMatchObject({ code: 'LAB_AGENT_PNP_FAILED', fix: 'Run the agent elevated.' });
    const notOpen = await a.open({ startService: false });
    expect(envelope(await a.call('POST', `/v1/sessions/${notOpen.sessionId}/faults`, { kind: 'pnp', verb: 'enable' }))).toMatchObject({ message: expect.stringContaining('devnode is unknown') });
  });
});

describe('agent server: logging', () => {
  it('logs requests but never the token, not even a wrong one', async () => {
    const a = await makeAgent();
    const wrong = 'ffffffffffffffffffffffffffffffff';
    await a.call('GET', '/v1/health');
    await a.call('GET', '/v1/health', undefined, { authorization: `Bearer ${wrong}` });
    const s = await a.open();
    await a.call('POST', `/v1/sessions/${s.sessionId}/faults`, { kind: 'pnp', verb: 'restart' });
    await a.call('GET', '/v1/nope');
    const text = a.log.join('');
    expect(text).toContain('"url":"/v1/health"');
    expect(text).toContain('"statusCode":401');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(wrong);
    expect(text.toLowerCase()).not.toContain('authorization');
  });
});
