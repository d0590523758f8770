import { describe, expect, it } from 'vitest';
import { SimulatorError } from '../../core/index.js';
import { VirtualClock } from '../clock/index.js';
import { abortFanout } from './abort-fanout.js';
import { PendingOp } from './pending-op.js';

/** A request that records what ended it; the test settles it like a completion would. */
class Op extends PendingOp<string> {
  readonly log: string[] = [];
  protected override onAbort(): void {
    this.log.push('abort');
    this.reject(new Error('cancelled'));
  }
  protected override onTimeout(): void {
    this.log.push('timeout');
    this.reject(new Error('timed out'));
  }
  complete(value: string): void {
    this.stopWaiting();
    this.resolve(value);
  }
}

describe('PendingOp', () => {
  it('settles its promise once with the first resolve or reject', async () => {
    const op = new Op();
    op.resolve('first');
    op.resolve('second');
    op.reject(new Error('late'));
    await expect(op.result).resolves.toBe('first');
  });

  it('gives each operation its own settlers (the captured-settlers executor does not leak between them)', async () => {
    const a = new Op();
    const b = new Op();
    b.reject(new Error('b failed'));
    a.resolve('a');
    await expect(a.result).resolves.toBe('a');
    await expect(b.result).rejects.toThrow('b failed');
  });

  it('runs onAbort once when the watched signal aborts, and leaves the fan-out', async () => {
    const ac = new AbortController();
    const fanout = abortFanout(ac.signal);
    const op = new Op();
    op.watchAbort(fanout);
    expect(fanout.size).toBe(1);
    ac.abort();
    expect(op.log).toEqual(['abort']);
    expect(fanout.size).toBe(0);
    await expect(op.result).rejects.toThrow('cancelled');
  });

  it('runs onTimeout after the timeout on the clock, and not at all once stopWaiting ran', async () => {
    const clock = new VirtualClock();
    const late = new Op();
    late.startTimeout(clock, 30);
    const done = new Op();
    done.startTimeout(clock, 30);
    done.complete('done');
    const lateRejects = expect(late.result).rejects.toThrow('timed out');
    await clock.idle();
    expect(clock.now()).toBe(30);
    expect(late.log).toEqual(['timeout']);
    expect(done.log).toEqual([]);
    await lateRejects;
    await expect(done.result).resolves.toBe('done');
  });

  it('stopWaiting unsubscribes from the fan-out, so a later abort does not reach the operation', async () => {
    const ac = new AbortController();
    const op = new Op();
    op.watchAbort(abortFanout(ac.signal));
    op.complete('ok');
    ac.abort();
    expect(op.log).toEqual([]);
    await expect(op.result).resolves.toBe('ok');
  });

  it('throws SIM_PENDING_OP when an abort or a timeout reaches an operation that did not say what it cancels', () => {
    const op = new PendingOp<number>();
    expect(() => op.signalAborted()).toThrow(SimulatorError);
    expect(() => op.signalAborted()).toThrow(expect.objectContaining({ code: 'SIM_PENDING_OP' }));
    // onTimeout is protected: reach it the way startTimeout's timer does.
    const timed = new PendingOp<number>() as unknown as { onTimeout(): void };
    expect(() => timed.onTimeout()).toThrow(expect.objectContaining({ code: 'SIM_PENDING_OP' }));
  });
});
