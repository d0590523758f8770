/** The session's event ring and the NDJSON stream over it: numbering, the bound, gaps, follow, heartbeats. */
import { describe, expect, it } from 'vitest';
import type { EventLine } from '../protocol/index.js';
import { EventRing } from './event-ring.js';
import { EventLineStream } from './event-stream.js';

const entry = (kind: string) => ({ timeMs: 1, wallMs: 2, level: 'info' as const, kind });

/** Reads a stream to its end (or until `until` says stop), as parsed lines. */
async function read(stream: EventLineStream, until?: (lines: EventLine[]) => boolean): Promise<EventLine[]> {
  const lines: EventLine[] = [];
  let partial = '';
  for await (const chunk of stream) {
    const parts = (partial + String(chunk)).split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) lines.push(JSON.parse(p) as EventLine);
    if (until?.(lines)) {
      stream.destroy();
      break;
    }
  }
  return lines;
}

describe('EventRing', () => {
  it('numbers entries from 1 and keeps the newest `capacity`, counting what fell off', () => {
    const ring = new EventRing(3);
    expect([ring.firstSeq, ring.lastSeq, ring.dropped]).toEqual([1, 0, 0]);
    for (const k of ['a', 'b', 'c', 'd', 'e']) ring.append(entry(k));
    expect([ring.firstSeq, ring.lastSeq, ring.dropped]).toEqual([3, 5, 2]);
    expect(ring.snapshot()).toEqual({ dropped: 2, entries: [{ seq: 3, ...entry('c') }, { seq: 4, ...entry('d') }, { seq: 5, ...entry('e') }] });
    expect(ring.get(2)).toBeUndefined();
    expect(ring.get(6)).toBeUndefined();
    expect(() => new EventRing(0)).toThrow(RangeError);
  });
});

describe('EventLineStream', () => {
  it('sends what is held after the cursor and ends without follow', async () => {
    const ring = new EventRing();
    for (const k of ['a', 'b', 'c']) ring.append(entry(k));
    const lines = await read(new EventLineStream(ring, { after: 1, follow: false, heartbeatMs: 2_000, now: Date.now }));
    expect(lines.map((l) => (l.type === 'entry' ? l.entry.seq : l.type))).toEqual([2, 3]);
  });

  it('starts with a gap line when the cursor fell off the ring', async () => {
    const ring = new EventRing(2);
    for (const k of ['a', 'b', 'c', 'd', 'e']) ring.append(entry(k));
    const lines = await read(new EventLineStream(ring, { after: 1, follow: false, heartbeatMs: 2_000, now: Date.now }));
    expect(lines[0]).toEqual({ type: 'gap', fromSeq: 2, toSeq: 3, dropped: 2 });
    expect(lines.slice(1).map((l) => (l.type === 'entry' ? l.entry.kind : l.type))).toEqual(['d', 'e']);
  });

  it('follows new entries, beats while idle, and ends after the ring closes', async () => {
    const ring = new EventRing();
    ring.append(entry('a'));
    const stream = new EventLineStream(ring, { after: 0, follow: true, heartbeatMs: 20, now: Date.now });
    const done = read(stream);
    setTimeout(() => ring.append(entry('b')), 5);
    setTimeout(() => ring.close(), 80);
    const lines = await done;
    expect(lines.filter((l) => l.type === 'entry').map((l) => (l.type === 'entry' ? l.entry.kind : ''))).toEqual(['a', 'b']);
    const beats = lines.filter((l) => l.type === 'heartbeat');
    expect(beats.length).toBeGreaterThanOrEqual(1);
    expect(beats[0]).toMatchObject({ type: 'heartbeat', lastSeq: 2 });
  });

  it('stops copying when the reader does not read, and resumes with a gap after the ring wrapped', async () => {
    const ring = new EventRing(10);
    const stream = new EventLineStream(ring, { after: 0, follow: true, heartbeatMs: 60_000, now: Date.now });
    stream.pause();
    const big = 'x'.repeat(2_000);
    for (let i = 0; i < 200; i++) ring.append({ ...entry(`k${i}`), detail: { big } });
    // The stream buffered at most about its high-water mark, not 200 entries.
    expect(stream.readableLength).toBeLessThan(80 * 1024);
    const lines = await read(stream, (ls) => ls.some((l) => l.type === 'entry' && l.entry.seq === 200));
    const gap = lines.find((l) => l.type === 'gap');
    expect(gap).toBeDefined();
    expect(lines.at(-1)).toMatchObject({ type: 'entry', entry: { seq: 200 } });
    stream.finish();
  });
});
