import { describe, expect, it } from 'vitest';
import { ManualClock, settleEventLoop as settle } from './manual-clock.js';

describe('ManualClock', () => {
  it('fires due timers in time order, same-instant ones in the order they were set, and skips cancelled ones', async () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    clock.setTimer(20, () => fired.push(`b@${clock.now()}`));
    clock.setTimer(10, () => fired.push(`a@${clock.now()}`));
    clock.setTimer(20, () => fired.push(`c@${clock.now()}`));
    clock.setTimer(15, () => fired.push('cancelled')).cancel();
    clock.setTimer(30, () => fired.push('later'));
    await clock.advance(20);
    expect(fired).toEqual(['a@10', 'b@20', 'c@20']);
    expect(clock.now()).toBe(20);
    expect(clock.pendingTimers).toBe(1);
  });

  it('runs zero-delay timers only inside advance, and lets promise jobs run between timers', async () => {
    const clock = new ManualClock();
    const seen: string[] = [];
    clock.setTimer(0, () => {
      void Promise.resolve().then(() => seen.push('job of first'));
      seen.push('first');
    });
    clock.setTimer(0, () => seen.push('second'));
    await settle();
    expect(seen).toEqual([]);
    await clock.advance(0);
    expect(seen).toEqual(['first', 'job of first', 'second']);
  });

  it('fires a timer set by a firing timer when it falls within the same advance', async () => {
    const clock = new ManualClock();
    const at: number[] = [];
    clock.setTimer(5, () => clock.setTimer(5, () => at.push(clock.now())));
    await clock.advance(10);
    expect(at).toEqual([10]);
  });
});
