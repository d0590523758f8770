import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { abortFanout, type AbortSubscriber } from './abort-fanout.js';
import type { IntrusiveList } from './intrusive-list.js';

class Sub implements AbortSubscriber {
  listPrev: AbortSubscriber | undefined = undefined;
  listNext: AbortSubscriber | undefined = undefined;
  listOwner: IntrusiveList<AbortSubscriber> | undefined = undefined;
  constructor(
    readonly name: string,
    readonly log: string[],
    readonly onAbort?: () => void,
  ) {}
  signalAborted(): void {
    this.log.push(this.name);
    this.onAbort?.();
  }
}

/** Listener count of an AbortSignal, through Node's EventTarget introspection. */
function listeners(signal: AbortSignal): number {
  return getEventListeners(signal, 'abort').length;
}

describe('abortFanout', () => {
  it('registers one abort listener per signal however many subscribers', () => {
    const ac = new AbortController();
    const log: string[] = [];
    for (let i = 0; i < 100; i++) abortFanout(ac.signal).add(new Sub(`s${i}`, log));
    expect(abortFanout(ac.signal)).toBe(abortFanout(ac.signal));
    expect(abortFanout(ac.signal).size).toBe(100);
    expect(listeners(ac.signal)).toBe(1);
  });

  it('notifies subscribers once, oldest first, and skips those removed meanwhile', () => {
    const ac = new AbortController();
    const log: string[] = [];
    const fanout = abortFanout(ac.signal);
    const c = new Sub('c', log);
    const a = new Sub('a', log, () => fanout.delete(c)); // a's cancellation ends c's request
    const b = new Sub('b', log);
    const gone = new Sub('gone', log);
    fanout.add(a);
    fanout.add(gone);
    fanout.add(b);
    fanout.add(c);
    expect(fanout.delete(gone)).toBe(true);
    ac.abort();
    ac.abort();
    expect(log).toEqual(['a', 'b']);
    expect(fanout.size).toBe(0);
    expect(fanout.delete(a)).toBe(false);
  });

  it('reports aborted like the signal, also for a signal that aborted before its first use', () => {
    const ac = new AbortController();
    const fanout = abortFanout(ac.signal);
    expect(fanout.aborted).toBe(false);
    ac.abort();
    expect(fanout.aborted).toBe(true);
    const early = new AbortController();
    early.abort();
    expect(abortFanout(early.signal).aborted).toBe(true);
  });

  it('keeps separate subscribers per signal', () => {
    const one = new AbortController();
    const two = new AbortController();
    const log: string[] = [];
    abortFanout(one.signal).add(new Sub('one', log));
    abortFanout(two.signal).add(new Sub('two', log));
    two.abort();
    expect(log).toEqual(['two']);
    expect(abortFanout(one.signal).size).toBe(1);
  });
});
