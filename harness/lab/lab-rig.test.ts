import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http, HttpResponse } from 'msw';
import { afterEach, describe, expect, it } from 'vitest';
import { TimeoutError } from '../../core/index.js';
import { validateLabConfig } from './lab-config.js';
import { AgentClient } from './agent-client.js';
import type { PowerControl } from './bench-capabilities.js';
import { FileBenchLatch } from './bench-latch.js';
import { LabAgentError } from './lab-agent-error.js';
import { LabRig, type LabRigOptions } from './lab-rig.js';
import { ManualClock, simBenchConfig, startSimBenchHost, until, useFakeAgentServer, type SimBenchHost } from './testing/index.js';

const URL_ = 'http://agent.test:7311';
const { server, fake } = useFakeAgentServer();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rig(options: { speed?: 'full' | 'high'; benchSpeed?: 'full' | 'high'; trace?: boolean } & Partial<LabRigOptions> = {}): Promise<{ rig: LabRig; sim: SimBenchHost }> {
  const sim = await startSimBenchHost(options.speed ?? 'high');
  const config = validateLabConfig(simBenchConfig({ speed: options.benchSpeed ?? 'high', trace: options.trace }));
  const r = new LabRig({ config, token: 'fake-token', host: async () => sim.host, ...options });
  cleanups.push(() => sim.dispose(), () => r.close());
  return { rig: r, sim };
}

class FakePower implements PowerControl {
  readonly kind = 'fake';
  readonly actions: string[] = [];
  async off(): Promise<void> {
    this.actions.push('off');
  }
  async on(): Promise<void> {
    this.actions.push('on');
  }
  async cycle(): Promise<void> {
    this.actions.push('cycle');
  }
}

describe('LabRig: a scenario end to end', () => {
  it('opens a session on the agent, reaches the device side through it and the function through the host, and reports', async () => {
    const { rig: r } = await rig();
    const s = await r.openSession({ name: 'bulk > echoes 4 KiB', seed: 0x1234, world: {} });
    expect(s).toMatchObject({ mode: 'lab', speed: 'high', seed: 0x1234, sim: undefined });
    expect(fake().lease?.holder).toBe('lab-rig-test');
    expect(await s.device.status()).toMatchObject({ service: 'active', bus: 'configured', openCount: 1 });
    await s.device.whenActive();
    const agent = await s.agent();
    const loop = await agent.loopback(4096, { seed: 7 });
    expect(loop.ok).toBe(true);
    expect((await s.device.eventLog()).map((e) => e.kind)).toContain('open');

    const { deviceLog, extras } = await s.artifacts();
    expect((deviceLog as { entries: { kind: string }[] }).entries[0]).toMatchObject({ kind: 'session' });
    expect(extras['bench']).toMatchObject({ benchId: 'lab-01', speed: 'high', agentUrl: URL_, backend: 'sim' });
    expect(extras['hostCapture']).toEqual({ unavailable: 'bench lab-01 has no host capture' });
    expect(s.capture.pcap().byteLength).toBe(0);
    const opened = fake().requests.find((q) => q.operation === 'openSession')!;
    expect(opened.body).toMatchObject({ name: 'bulk > echoes 4 KiB', seed: 0x1234, world: { fn: 'loopback', startService: true, trace: false } });

    await s.close();
    expect(fake().sessionId).toBeNull();
    await r.close();
    expect(fake().lease).toBeNull();
  });

  it("sends the world's service choice and drives the service through the agent", async () => {
    const { rig: r } = await rig();
    const s = await r.openSession({ name: 'lifecycle', seed: 1, world: { startService: false, busEventDepth: 2, fn: 'sourceSink' } });
    expect(s.device.functionName).toBe('source-sink');
    expect((await s.device.status()).service).toBe('idle');
    await s.device.startService();
    expect((await s.device.status()).service).toBe('active');
    await s.device.stopService();
    await expect(s.device.whenActive({ timeoutMs: 50 })).rejects.toBeInstanceOf(TimeoutError);
    // A device-side timeout is the product's answer, not a bench fault.
    expect(await r.skipReason({})).toBeUndefined();
  });

  it("adopts the run's lease instead of taking one, and leaves it to the run", async () => {
    const holder = await new AgentClient({ url: URL_, token: 'fake-token' }).acquireLease({ holder: 'the run', ttlMs: 60_000 });
    const { rig: r } = await rig({ lease: holder });
    const s = await r.openSession({ name: 'x', seed: 1, world: {} });
    await s.close();
    await r.close();
    expect(fake().lease?.leaseId).toBe(holder.leaseId);
    expect(fake().requests.filter((q) => q.operation === 'acquireLease')).toHaveLength(1);
  });

  it('fetches the device trace when agent.trace is on', async () => {
    const { rig: r } = await rig({ trace: true });
    const s = await r.openSession({ name: 'traced', seed: 1, world: {} });
    const { extras } = await s.artifacts();
    expect(Array.isArray(extras['deviceTrace'])).toBe(true);
    expect((extras['deviceTrace'] as unknown[]).length).toBeGreaterThan(0);
  });
});

describe('LabRig: what the bench cannot give is skipped with the reason', () => {
  it('skips another speed, an absent devnode, and an unplugged start without power control', async () => {
    const { rig: r } = await rig();
    expect(await r.skipReason({ speed: 'high' })).toBeUndefined();
    expect(await r.skipReason({ speed: 'full' })).toBe('the scenario needs full speed; bench lab-01 negotiates high speed (bench.speed in the lab config)');
    expect(await r.skipReason({ powered: false })).toMatch(/devnode absent \(powered: false\), which only the simulator can set up/);
    expect(await r.skipReason({ attached: false })).toMatch(/starts unplugged \(attached: false\), which needs power control .* hotplug "none"/);
    await expect(r.openSession({ name: 'full', seed: 1, world: { speed: 'full' } })).rejects.toMatchObject({ code: 'MODE_NOT_SUPPORTED' });
  });

  it('starts unplugged through power control and powers the device on when the scenario opens the function', async () => {
    const power = new FakePower();
    const { rig: r } = await rig({ power });
    expect(await r.skipReason({ attached: false })).toBeUndefined();
    const s = await r.openSession({ name: 'unplugged', seed: 1, world: { attached: false } });
    expect(power.actions).toEqual(['off']);
    await s.agent();
    expect(power.actions).toEqual(['off', 'on']);
    await s.close();
    expect(power.actions).toEqual(['off', 'on']);
  });
});

describe('LabRig: infrastructure faults latch the bench broken', () => {
  it('reports a full-speed enumeration on a high-speed bench as LAB_BENCH_SPEED_MISMATCH and latches', async () => {
    const { rig: r } = await rig({ speed: 'full', benchSpeed: 'high' });
    const s = await r.openSession({ name: 'first', seed: 1, world: {} });
    const err = await s.agent().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LAB_BENCH_SPEED_MISMATCH' });
    expect((err as Error).message).toMatch(/^\[LAB_BENCH_SPEED_MISMATCH\] VID 0x1209 PID 0x0001 on host port .+: the host negotiated full speed, but bench lab-01 is configured for high speed \(bench\.speed\)\. Check the cable/);
    expect(await r.skipReason({})).toMatch(/^bench lab-01 is broken since "first": \[LAB_BENCH_SPEED_MISMATCH\]/);
    await expect(r.openSession({ name: 'second', seed: 2, world: {} })).rejects.toMatchObject({ code: 'LAB_BENCH_BROKEN', cause: { code: 'LAB_BENCH_SPEED_MISMATCH' } });
  });

  it('checks the speed at session start when the device is already on the host', async () => {
    const { rig: r, sim } = await rig({ speed: 'full', benchSpeed: 'high' });
    await sim.host.waitForDevice({ vendorId: 0x1209, productId: 0x0001 }, { timeoutMs: 10_000 });
    await expect(r.openSession({ name: 'starts', seed: 1, world: {} })).rejects.toMatchObject({ code: 'LAB_BENCH_SPEED_MISMATCH' });
    expect(fake().sessionId).toBeNull();
    expect(r.latch.broken()?.scenario).toBe('starts');
  });

  it('keeps the first agent fault as the cause, whatever fails later', async () => {
    const { rig: r } = await rig();
    const s = await r.openSession({ name: 'first', seed: 1, world: {} });
    server.use(http.get(`${URL_}/v1/sessions/:id`, () => HttpResponse.error()));
    const err = await s.device.status().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabAgentError);
    expect(err).toMatchObject({ code: 'LAB_AGENT_UNREACHABLE' });
    server.use(http.get(`${URL_}/v1/sessions/:id/log`, () => HttpResponse.json({ error: { code: 'LAB_AGENT_INTERNAL', message: 'x' } }, { status: 500 })));
    await expect(s.device.eventLog()).rejects.toMatchObject({ code: 'LAB_AGENT_INTERNAL' });
    expect(r.latch.broken()).toMatchObject({ scenario: 'first', error: { code: 'LAB_AGENT_UNREACHABLE' } });
    // Closing on a broken bench does not pile a second error onto the scenario.
    server.use(http.delete(`${URL_}/v1/sessions/:id`, () => HttpResponse.error()));
    await expect(s.close()).resolves.toBeUndefined();
  });

  it('reports a failure to close the session when the bench was fine until then', async () => {
    const { rig: r } = await rig();
    const s = await r.openSession({ name: 'closing', seed: 1, world: {} });
    server.use(http.delete(`${URL_}/v1/sessions/:id`, () => HttpResponse.error()));
    await expect(s.close()).rejects.toMatchObject({ code: 'LAB_AGENT_UNREACHABLE' });
    expect(r.latch.broken()?.scenario).toBe('closing');
  });

  it('latches a stalled event stream, and still reports what was streamed when the agent is gone', async () => {
    const clock = new ManualClock();
    const client = new AgentClient({ url: URL_, token: 'fake-token', clock, heartbeatMs: 1_000, retries: 0 });
    const { rig: r } = await rig({ client });
    const s = await r.openSession({ name: 'stalls', seed: 1, world: {} });
    await until(() => fake().requests.some((q) => q.operation === 'streamEvents'), 'the event stream to open');
    fake().emit('busEvent', { event: 'Suspend' });
    await clock.advance(1_000);
    fake().stopHeartbeats();
    await clock.advance(3_000);
    expect(r.latch.broken()).toMatchObject({ scenario: 'stalls', error: { code: 'LAB_AGENT_STALLED' } });
    server.use(http.get(`${URL_}/v1/sessions/:id/log`, () => HttpResponse.error()));
    const { deviceLog, extras } = await s.artifacts();
    expect(deviceLog).toMatchObject({ source: 'live event stream' });
    expect((deviceLog as { entries: { kind: string }[] }).entries.map((e) => e.kind)).toContain('busEvent');
    expect(extras['deviceEventStream']).toMatchObject({ error: expect.stringMatching(/LAB_AGENT_STALLED/) });
  });

  it('shares the latch of a run between processes through a file: the first cause wins', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'latch-')), 'broken.json');
    const a = new FileBenchLatch(path);
    const b = new FileBenchLatch(path);
    expect(a.broken()).toBeUndefined();
    const first = new LabAgentError('LAB_AGENT_STALLED', { what: 'GET /v1/sessions/S1/events', why: 'no line' });
    a.latch('scenario A', first);
    expect(b.latch('scenario B', new LabAgentError('LAB_AGENT_UNREACHABLE', { what: 'x', why: 'y' }))).toMatchObject({ scenario: 'scenario A', error: { code: 'LAB_AGENT_STALLED' } });
    expect(new FileBenchLatch(path).broken()?.scenario).toBe('scenario A');
  });
});
