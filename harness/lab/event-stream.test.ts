import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { AbortedError } from '../../core/index.js';
import { AgentClient } from './agent-client.js';
import type { EventStreamItem } from './event-stream.js';
import { ManualClock, until, useFakeAgentServer } from './testing/index.js';

const URL_ = 'http://agent.test:7311';
const HEARTBEAT_MS = 1_000;
const clock = new ManualClock();
const { server, fake } = useFakeAgentServer(() => ({ clock, heartbeatMs: HEARTBEAT_MS, ringCapacity: 8 }));

function client(): AgentClient {
  return new AgentClient({ url: URL_, token: 'fake-token', clock, heartbeatMs: HEARTBEAT_MS, retryDelayMs: 0 });
}

async function openSession(c: AgentClient): Promise<string> {
  const lease = await c.acquireLease({ holder: 'me', ttlMs: 3_600_000 });
  return (await c.openSession({ leaseId: lease.leaseId, name: 'stream', seed: 1, world: { fn: 'loopback' } })).sessionId;
}

async function collect(items: AsyncIterable<EventStreamItem>): Promise<EventStreamItem[]> {
  const out: EventStreamItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Awaits `p`, moving the manual clock past reconnect pauses meanwhile (at most `steps` of 200 ms). */
async function drive<T>(p: Promise<T>, steps = 10): Promise<T> {
  let done = false;
  const watched = p.finally(() => {
    done = true;
  });
  watched.catch(() => undefined);
  for (let i = 0; i < steps && !done; i++) await clock.advance(200);
  return watched;
}

const seqs = (items: EventStreamItem[]): number[] => items.flatMap((i) => (i.type === 'entry' ? [i.entry.seq] : []));
const line = (seq: number, kind = 'x'): string => JSON.stringify({ type: 'entry', entry: { seq, timeMs: seq, wallMs: 1, level: 'info', kind } });
const ndjson = (text: string, { cut }: { cut?: 'close' | 'error' } = {}): Response =>
  new HttpResponse(
    new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(text));
        if (cut === 'error') controller.error(new Error('connection reset'));
        else controller.close();
      },
    }),
    { headers: { 'content-type': 'application/x-ndjson' } },
  );

describe('event stream: cursor and gaps', () => {
  it('delivers the held entries in order and starts past the cursor', async () => {
    const c = client();
    const sid = await openSession(c);
    const all = await collect(c.events(sid, { follow: false }));
    expect(seqs(all)).toEqual([...Array(all.length).keys()].map((i) => i + 1));
    expect(all.length).toBeGreaterThan(3);
    const tail = await collect(c.events(sid, { follow: false, after: 3 }));
    expect(seqs(tail)[0]).toBe(4);
    expect(fake().requests.at(-1)?.path).toBe(`/v1/sessions/${sid}/events`);
  });

  it('surfaces a gap line when the cursor fell off the ring', async () => {
    const c = client();
    const sid = await openSession(c);
    for (let i = 0; i < 20; i++) fake().emit('tick', { i });
    const items = await collect(c.events(sid, { follow: false, after: 0 }));
    expect(items[0]).toMatchObject({ type: 'gap', fromSeq: 1 });
    const gap = items[0] as Extract<EventStreamItem, { type: 'gap' }>;
    expect(seqs(items)[0]).toBe(gap.toSeq + 1);
    expect(seqs(items)).toHaveLength(8);
  });
});

describe('event stream: following, heartbeats, stalls', () => {
  it('follows new entries live and shows heartbeats when asked', async () => {
    const c = client();
    const sid = await openSession(c);
    const log = await c.log(sid);
    const last = log.entries.at(-1)!.seq;
    const stream = c.events(sid, { after: last, includeHeartbeats: true });
    const next = stream.next();
    await until(() => fake().requests.some((r) => r.operation === 'streamEvents'), 'the stream to open');
    fake().emit('busEvent', { event: 'Reset' });
    expect((await next).value).toMatchObject({ type: 'entry', entry: { seq: last + 1, kind: 'busEvent' } });
    const beat = stream.next();
    await clock.advance(HEARTBEAT_MS);
    expect((await beat).value).toMatchObject({ type: 'heartbeat', lastSeq: last + 1 });
    await stream.return(undefined);
  });

  it('raises LAB_AGENT_STALLED after three heartbeat periods without a byte', async () => {
    const c = client();
    const sid = await openSession(c);
    const stream = c.events(sid, { after: 1_000 });
    let error: unknown;
    const next = stream.next().catch((e: unknown) => {
      error = e;
    });
    await until(() => fake().requests.some((r) => r.operation === 'streamEvents'), 'the stream to open');
    await clock.advance(HEARTBEAT_MS * 2); // two heartbeats arrive: not a stall
    expect(error).toBeUndefined();
    fake().stopHeartbeats();
    await clock.advance(HEARTBEAT_MS * 3);
    await next;
    expect(error).toMatchObject({ code: 'LAB_AGENT_STALLED' });
    expect((error as Error).message).toMatch(/^\[LAB_AGENT_STALLED\] GET \/v1\/sessions\/S\d+\/events: no line, not even a heartbeat, for 3000 ms \(3 heartbeat periods of 1000 ms\)/);
  });

  it('ends with AbortedError when the caller aborts, and leaves no timer behind', async () => {
    const c = client();
    const sid = await openSession(c);
    const ac = new AbortController();
    const stream = c.events(sid, { after: 1_000, signal: ac.signal });
    const next = stream.next().catch((e: unknown) => e);
    await until(() => fake().requests.some((r) => r.operation === 'streamEvents'), 'the stream to open');
    ac.abort(new Error('scenario over'));
    expect(await next).toBeInstanceOf(AbortedError);
    // Neither the reader's stall timer nor the agent's heartbeat for this stream is left.
    await clock.advance(0);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('event stream: disconnects', () => {
  it('resumes from the cursor after a line cut in the middle, delivering every entry once', async () => {
    const c = client();
    const sid = await openSession(c);
    server.use(http.get(`${URL_}/v1/sessions/:id/events`, () => ndjson(`${line(1)}\n${line(2)}\n${line(3).slice(0, 20)}`), { once: true }));
    const items = await drive(collect(c.events(sid, { follow: false })));
    const held = (await c.log(sid)).entries.map((e) => e.seq);
    expect(seqs(items)).toEqual(held);
    const resumed = fake().requests.filter((r) => r.operation === 'streamEvents');
    expect(resumed).toHaveLength(1); // the first (cut) answer came from the override
  });

  it('resumes after a connection reset mid-stream', async () => {
    const c = client();
    const sid = await openSession(c);
    server.use(http.get(`${URL_}/v1/sessions/:id/events`, () => ndjson(`${line(1)}\n`, { cut: 'error' }), { once: true }));
    const items = await drive(collect(c.events(sid, { follow: false })));
    expect(seqs(items)[0]).toBe(1);
    expect(new Set(seqs(items)).size).toBe(seqs(items).length);
  });

  it('gives up with LAB_AGENT_UNREACHABLE when the stream keeps breaking without delivering a line', async () => {
    const c = client();
    const sid = await openSession(c);
    server.use(http.get(`${URL_}/v1/sessions/:id/events`, () => ndjson('{"type":"ent', { cut: 'error' })));
    const error = await drive(collect(c.events(sid, { follow: false })).catch((e: unknown) => e));
    expect(error).toMatchObject({ code: 'LAB_AGENT_UNREACHABLE', message: expect.stringMatching(/the event stream broke 6 times in a row without delivering a line \(last: connection reset\)/) });
  });

  it('rejects a line that is not JSON or does not match the EventLine schema with LAB_AGENT_BAD_RESPONSE', async () => {
    const c = client();
    const sid = await openSession(c);
    server.use(http.get(`${URL_}/v1/sessions/:id/events`, () => ndjson(`${line(1)}\nnot json\n`), { once: true }));
    await expect(collect(c.events(sid, { follow: false }))).rejects.toMatchObject({ code: 'LAB_AGENT_BAD_RESPONSE', message: expect.stringMatching(/a stream line is not JSON: "not json"/) });
    server.use(http.get(`${URL_}/v1/sessions/:id/events`, () => ndjson(`${line(0)}\n`), { once: true }));
    await expect(collect(c.events(sid, { follow: false }))).rejects.toMatchObject({
      code: 'LAB_AGENT_BAD_RESPONSE',
      message: expect.stringMatching(/a stream line does not match the EventLine schema at/),
    });
  });
});
