import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../simulator/index.js';
import { eventually } from './eventually.js';

describe('eventually', () => {
  it('resolves once the condition holds, on the scenario clock', async () => {
    const clock = new VirtualClock();
    let ready = false;
    clock.setTimer(7, () => (ready = true));
    await eventually(clock, 'ready', () => ready);
    expect(clock.now()).toBe(7);
  });

  it('rejects with a TimeoutError naming what it waited for', async () => {
    const clock = new VirtualClock();
    await expect(eventually(clock, 'the arrival', () => false, { timeoutMs: 50 })).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringContaining('the arrival did not happen within 50 ms'),
    });
    expect(clock.now()).toBe(50);
  });
});
