/**
 * device agent: the agent over real HTTP on 127.0.0.1, its service worker a real child process, with the
 * `fake` backend (the real service over a FakeUsbFnPort scripted as an enumerating device: no simulator,
 * no hardware). Three figures, each the median over runs of the per-run median:
 * - health round trip: `GET /v1/health` (the worker is asked whether the interface is present), keep-alive;
 * - session open + close: `POST /v1/sessions` then `DELETE /v1/sessions/{id}` (service started and stopped);
 * - event-stream lag: from the moment the worker logs an entry (its `wallMs`) to the moment its line is read
 *   from `GET /v1/sessions/{id}/events?follow=1` (entries made by fault requests).
 * Returns its rows (judged like every figure, bench/verdict.ts) and a note.
 */
import { Agent, request } from 'node:http';
import { loadAgentServer } from '../device-side/index.js';
import { median, repeat } from './stats.js';
import { atMost, row, type Row } from './verdict.js';

export const AGENT_TARGETS = { healthRoundTripMs: 2, sessionOpenCloseMs: 50, eventStreamLagMs: 10 } as const;

const TOKEN = 'b3nchb3nchb3nchb3nchb3nchb3nch00';
const FAKE_BACKEND = new URL('../device-side/agent/testing/fake-agent-backend.ts', import.meta.url).href;

interface Answer {
  readonly status: number;
  readonly body: string;
}

function call(agent: Agent, base: URL, method: string, path: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { host: base.hostname, port: base.port, method, path, agent, headers: { authorization: `Bearer ${TOKEN}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const percentile = (values: readonly number[], p: number): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

export interface DeviceAgentFigures {
  readonly healthRoundTripMs: number;
  readonly sessionOpenCloseMs: number;
  readonly eventStreamLagMs: number;
  readonly eventStreamLagP95Ms: number;
  readonly runs: number;
}

export async function measureDeviceAgent(options: { runs: number; healthPerRun?: number; sessionsPerRun?: number; entriesPerRun?: number }): Promise<DeviceAgentFigures> {
  const { startAgentServer } = await loadAgentServer();
  const server = await startAgentServer({
    token: TOKEN,
    listen: { port: 0 },
    backend: { name: 'fake', module: FAKE_BACKEND },
    worker: { mode: 'process' },
    logStream: false,
  });
  const base = new URL(server.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  try {
    const lease = JSON.parse((await call(agent, base, 'POST', '/v1/leases', { holder: 'bench', ttlMs: 3_600_000 })).body) as { leaseId: string };
    const open = async (): Promise<string> => {
      const res = await call(agent, base, 'POST', '/v1/sessions', { leaseId: lease.leaseId, name: 'bench', seed: 1, world: { fn: 'loopback' } });
      if (res.status !== 201) throw new Error(`bench: open answered ${res.status}: ${res.body}`);
      return (JSON.parse(res.body) as { sessionId: string }).sessionId;
    };
    // Warm-up: JIT, the worker's first session, sockets.
    for (let i = 0; i < 200; i++) await call(agent, base, 'GET', '/v1/health');
    for (let i = 0; i < 10; i++) await call(agent, base, 'DELETE', `/v1/sessions/${await open()}`);

    const results = await repeat(options.runs, async () => {
      const health: number[] = [];
      for (let i = 0; i < (options.healthPerRun ?? 500); i++) {
        const t0 = performance.now();
        const res = await call(agent, base, 'GET', '/v1/health');
        health.push(performance.now() - t0);
        if (res.status !== 200) throw new Error(`bench: health answered ${res.status}`);
      }
      const sessions: number[] = [];
      for (let i = 0; i < (options.sessionsPerRun ?? 40); i++) {
        const t0 = performance.now();
        const id = await open();
        await call(agent, base, 'DELETE', `/v1/sessions/${id}`);
        sessions.push(performance.now() - t0);
      }
      return { health: median(health), session: median(sessions), lags: await streamLags(agent, base, await open(), options.entriesPerRun ?? 200) };
    });
    const lags = results.flatMap((r) => r.lags);
    return {
      healthRoundTripMs: median(results.map((r) => r.health)),
      sessionOpenCloseMs: median(results.map((r) => r.session)),
      eventStreamLagMs: median(results.map((r) => median(r.lags))),
      eventStreamLagP95Ms: percentile(lags, 0.95),
      runs: options.runs,
    };
  } finally {
    agent.destroy();
    await server.close();
  }
}

/** Follows the session's stream and makes `count` entries (fault requests); returns each entry's lag in ms. */
async function streamLags(agent: Agent, base: URL, sessionId: string, count: number): Promise<number[]> {
  const lags: number[] = [];
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  const log = JSON.parse((await call(agent, base, 'GET', `/v1/sessions/${sessionId}/log`)).body) as { entries: { seq: number }[] };
  const after = log.entries.at(-1)?.seq ?? 0;
  const streamAgent = new Agent({ keepAlive: false });
  const req = request({ host: base.hostname, port: base.port, path: `/v1/sessions/${sessionId}/events?after=${after}&follow=1`, agent: streamAgent, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
    let partial = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      const now = performance.timeOrigin + performance.now();
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        const l = JSON.parse(line) as { type: string; entry?: { kind: string; wallMs: number } };
        if (l.type === 'entry' && l.entry?.kind === 'fault') {
          lags.push(now - l.entry.wallMs);
          if (lags.length === count) resolveAll();
        }
      }
    });
  });
  req.end();
  for (let i = 0; i < count; i++) {
    await call(agent, base, 'POST', `/v1/sessions/${sessionId}/faults`, { kind: 'failIoctl', ioctl: 'REGISTER_USB_STRING', win32: 31 });
  }
  await all;
  req.destroy();
  streamAgent.destroy();
  await call(agent, base, 'DELETE', `/v1/sessions/${sessionId}`);
  return lags;
}

/** Measures and judges the device agent for bench/run.ts: one row per figure and a note. */
export async function benchDeviceAgent(options: { runs: number; log: (msg: string) => void }): Promise<{ rows: Row[]; notes: string[] }> {
  options.log('deviceAgent …');
  const f = await measureDeviceAgent({ runs: options.runs });
  const ms = (v: number): string => `${v.toFixed(2)} ms`;
  return {
    rows: [
      row('deviceAgent.healthRoundTripMs', ms(f.healthRoundTripMs), `≤ ${AGENT_TARGETS.healthRoundTripMs} ms`, atMost(f.healthRoundTripMs, AGENT_TARGETS.healthRoundTripMs)),
      row('deviceAgent.sessionOpenCloseMs', ms(f.sessionOpenCloseMs), `≤ ${AGENT_TARGETS.sessionOpenCloseMs} ms`, atMost(f.sessionOpenCloseMs, AGENT_TARGETS.sessionOpenCloseMs)),
      row('deviceAgent.eventStreamLagMs', ms(f.eventStreamLagMs), `≤ ${AGENT_TARGETS.eventStreamLagMs} ms`, atMost(f.eventStreamLagMs, AGENT_TARGETS.eventStreamLagMs)),
    ],
    notes: [
      `deviceAgent: ${f.runs} runs; fake backend (the real service over a scripted FakeUsbFnPort, no simulator), worker in a child process, HTTP keep-alive on 127.0.0.1; stream lag p95 ${f.eventStreamLagP95Ms.toFixed(2)} ms`,
    ],
  };
}
