import { describe, expect, it } from 'vitest';
import { delay, untilAborted } from './clock.js';
import { AbortedError } from './errors.js';
import { ManualClock } from './manual-clock.js';

describe('untilAborted', () => {
  it('settles like the promise while the signal stays quiet', async () => {
    const c = new AbortController();
    await expect(untilAborted(Promise.resolve(7), c.signal)).resolves.toBe(7);
    await expect(untilAborted(Promise.reject(new Error('inner')), c.signal)).rejects.toThrow('inner');
    await expect(untilAborted(Promise.resolve(8), undefined)).resolves.toBe(8);
  });

  it('rejects with the reason (or what the caller makes of it) when the signal aborts first, or has already', async () => {
    const c = new AbortController();
    const never = new Promise<number>(() => undefined);
    const waiting = untilAborted(never, c.signal);
    const reason = new Error('deadline');
    c.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    const typed = untilAborted(never, c.signal, (r) => new AbortedError('the arrival', r));
    await expect(typed).rejects.toBeInstanceOf(AbortedError);
    await expect(typed).rejects.toMatchObject({ cause: reason });
  });

  it('leaves no unhandled rejection when the promise fails after the abort', async () => {
    const c = new AbortController();
    c.abort(new Error('gone'));
    let fail!: (e: Error) => void;
    const late = new Promise<void>((_, reject) => (fail = reject));
    await expect(untilAborted(late, c.signal)).rejects.toThrow('gone');
    fail(new Error('late failure'));
    await new Promise((r) => setImmediate(r)); // an unhandled rejection would fail the run here
  });
});

describe('delay', () => {
  it('resolves after its time on the clock, and rejects with AbortedError when aborted', async () => {
    const clock = new ManualClock();
    let done = false;
    const d = delay(clock, 50).then(() => (done = true));
    await clock.advance(49);
    expect(done).toBe(false);
    await clock.advance(1);
    await d;
    expect(done).toBe(true);
    const c = new AbortController();
    const aborted = delay(clock, 50, c.signal);
    c.abort(new Error('stop'));
    await expect(aborted).rejects.toBeInstanceOf(AbortedError);
    expect(clock.pendingTimers).toBe(0);
  });
});
