import { describe, expect, it } from 'vitest';
import { delay, TimeoutError } from '../../core/index.js';
import { VirtualClock } from '../../simulator/index.js';
import { withDeadline } from './deadline.js';

describe('withDeadline', () => {
  it('rejects exactly at the deadline, naming the running step, and aborts the steps', async () => {
    const clock = new VirtualClock();
    let stepSignal: AbortSignal | undefined;
    const err = await withDeadline(clock, 2_000, 'opening the function', async (d) => {
      d.step('first');
      await delay(clock, 122, d.signal);
      d.step('second');
      stepSignal = d.signal;
      expect(d.remainingMs()).toBe(2_000 - 122);
      await delay(clock, 10_000, d.signal);
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ timeoutMs: 2_000, data: { what: 'opening the function', detail: "still at step 'second'" } });
    expect(clock.now()).toBe(2_000);
    expect(stepSignal?.aborted).toBe(true);
  });

  it('passes a result or a failure through before the deadline, and never leaves 0 ms to a step', async () => {
    const clock = new VirtualClock();
    await expect(withDeadline(clock, 100, 'x', async () => 'done')).resolves.toBe('done');
    await expect(withDeadline(clock, 100, 'x', () => Promise.reject(new RangeError('bad')))).rejects.toThrow(RangeError);
    await expect(
      withDeadline(clock, 100, 'x', () => {
        throw new RangeError('sync');
      }),
    ).rejects.toThrow('sync');
    // 0.5 ms left is handed to a step as 1 ms: a libusb timeout of 0 would mean "wait forever".
    const left = await withDeadline(clock, 10, 'x', async (d) => {
      await delay(clock, 9.5);
      return d.remainingMs();
    });
    expect(left).toBe(1);
  });
});
