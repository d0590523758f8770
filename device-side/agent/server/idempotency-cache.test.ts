/** Idempotency-Key: one action per key, the stored answer for repeats, TTL and bound. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/index.js';
import { IdempotencyCache } from './idempotency-cache.js';

const req = { method: 'POST', path: '/v1/sessions', body: { a: 1 } };

describe('IdempotencyCache', () => {
  it('acts once per key and answers repeats, even while the first is still running', async () => {
    const cache = new IdempotencyCache(new ManualClock());
    let actions = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const act = async () => {
      actions++;
      await gate;
      return { status: 201, body: { n: actions } };
    };
    const first = cache.run('k1', req, act);
    const second = cache.run('k1', req, act);
    release();
    expect(await first).toEqual({ status: 201, body: { n: 1 } });
    expect(await second).toEqual({ status: 201, body: { n: 1 } });
    expect(await cache.run('k1', req, act)).toEqual({ status: 201, body: { n: 1 } });
    expect(actions).toBe(1);
  });

  it('forgets failed answers (a retry acts again) and refuses a key reused for another request', async () => {
    const cache = new IdempotencyCache(new ManualClock());
    let n = 0;
    const failing = async () => ({ status: 409, body: { n: ++n } });
    await cache.run('k', req, failing);
    expect(await cache.run('k', req, failing)).toEqual({ status: 409, body: { n: 2 } });
    await expect(cache.run('k', req, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await cache.run('k', req, async () => ({ status: 200, body: {} }));
    await expect(cache.run('k', { ...req, body: { a: 2 } }, failing)).rejects.toMatchObject({ code: 'LAB_AGENT_BAD_REQUEST' });
    await expect(cache.run('bad key', req, failing)).rejects.toMatchObject({ code: 'LAB_AGENT_BAD_REQUEST' });
    await expect(cache.run('x'.repeat(201), req, failing)).rejects.toThrow(/1 to 200/);
  });

  it('expires stored answers after the TTL and keeps at most maxEntries keys', async () => {
    const clock = new ManualClock();
    const cache = new IdempotencyCache(clock, { ttlMs: 1_000, maxEntries: 3 });
    let n = 0;
    const act = async () => ({ status: 201, body: { n: ++n } });
    await cache.run('a', req, act);
    clock.advance(1_000);
    expect(await cache.run('a', req, act)).toEqual({ status: 201, body: { n: 2 } });
    for (const k of ['b', 'c', 'd', 'e']) await cache.run(k, req, act);
    expect(cache.size).toBe(3);
    expect(await cache.run('e', req, act)).toEqual({ status: 201, body: { n: 6 } });
  });
});
