import { describe, expect, it } from 'vitest';
import { queueJob } from './queue-job.js';

describe('queueJob', () => {
  it('runs callbacks as microtasks, in the order queueMicrotask would, after the current synchronous code', async () => {
    const order: string[] = [];
    queueMicrotask(() => order.push('queueMicrotask 1'));
    queueJob(() => order.push('queueJob 1'));
    void Promise.resolve().then(() => order.push('then 1'));
    queueJob(() => order.push('queueJob 2'));
    queueMicrotask(() => order.push('queueMicrotask 2'));
    order.push('sync');
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['sync', 'queueMicrotask 1', 'queueJob 1', 'then 1', 'queueJob 2', 'queueMicrotask 2']);
  });
});
