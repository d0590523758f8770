import { describe, expect, it } from 'vitest';
import { TIMERS_PER_TURN, VirtualClock } from './virtual-clock.js';
import { withTimeout, TimeoutError } from '../../core/index.js';
import { SeededRandom } from './seeded-random.js';

describe('VirtualClock', () => {
  it('fires timers in time order, then insertion order, advancing virtual time only', async () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    clock.setTimer(30, () => order.push(`b@${clock.now()}`));
    clock.setTimer(10, () => order.push(`a@${clock.now()}`));
    clock.setTimer(30, () => order.push(`c@${clock.now()}`));
    const cancelled = clock.setTimer(20, () => order.push('never'));
    cancelled.cancel();
    await clock.idle();
    expect(order).toEqual(['a@10', 'b@30', 'c@30']);
    expect(clock.now()).toBe(30);
  });

  it('lets the microtasks of one timer run before the next timer fires', async () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    clock.setTimer(5, () => {
      void Promise.resolve().then(() => order.push('microtask of first'));
      order.push('first');
    });
    clock.setTimer(5, () => order.push('second'));
    await clock.idle();
    expect(order).toEqual(['first', 'microtask of first', 'second']);
  });

  it('times out a 30-second wait in virtual time', async () => {
    const clock = new VirtualClock();
    const never = new Promise<never>(() => undefined);
    const wall = performance.now();
    await expect(withTimeout(clock, never, 'bulk IN', 30_000)).rejects.toBeInstanceOf(TimeoutError);
    expect(clock.now()).toBe(30_000);
    expect(performance.now() - wall).toBeLessThan(1_000);
  });

  it('prunes cancelled timers so a long run of cancelled timeouts does not grow the heap, keeping the firing order', async () => {
    const clock = new VirtualClock();
    const order: number[] = [];
    for (let i = 0; i < 10; i++) clock.setTimer(100 - i, () => order.push(100 - i));
    for (let i = 0; i < 20_000; i++) clock.setTimer(5_000 + i, () => order.push(-1)).cancel();
    expect(clock.pendingCount).toBeLessThan(2_100);
    clock.setTimer(95, () => order.push(95.5));
    await clock.idle();
    expect(order).toEqual([91, 92, 93, 94, 95, 95.5, 96, 97, 98, 99, 100]);
    expect(clock.now()).toBe(100);
  });

  it('takes a cancelled timer out of the heap at once, wherever it sits, keeping the (time, insertion) order', async () => {
    const clock = new VirtualClock();
    const rnd = new SeededRandom(7);
    const fired: number[] = [];
    const timers: { id: number; at: number; cancel(): void }[] = [];
    for (let id = 0; id < 500; id++) {
      const at = rnd.nextUint32() % 50; // many equal times: insertion order decides
      const t = clock.setTimer(at, () => fired.push(id));
      timers.push({ id, at, cancel: () => t.cancel() });
    }
    const cancelled = new Set<number>();
    for (const t of timers) {
      if (rnd.nextUint32() % 3 === 0) {
        t.cancel();
        t.cancel(); // twice is harmless
        cancelled.add(t.id);
      }
    }
    expect(clock.pendingCount).toBe(500 - cancelled.size);
    const expected = timers
      .filter((t) => !cancelled.has(t.id))
      .sort((a, b) => a.at - b.at || a.id - b.id)
      .map((t) => t.id);
    await clock.idle();
    expect(fired).toEqual(expected);
    expect(clock.pendingCount).toBe(0);
  });

  it('ignores cancel() of a timer that already fired', async () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    const first = clock.setTimer(1, () => order.push('first'));
    clock.setTimer(2, () => {
      first.cancel();
      order.push('second');
    });
    clock.setTimer(3, () => order.push('third'));
    await clock.idle();
    expect(order).toEqual(['first', 'second', 'third']);
  });

  it('runs a timer\'s promise chain to its end, however many hops, before the next timer fires', async () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    clock.setTimer(5, () => {
      void (async () => {
        for (let i = 0; i < 50; i++) await Promise.resolve();
        order.push('end of the first timer\'s chain');
      })();
    });
    clock.setTimer(5, () => order.push('second'));
    await clock.idle();
    expect(order).toEqual(['end of the first timer\'s chain', 'second']);
  });

  it('gives real I/O an event-loop turn at least every TIMERS_PER_TURN timers', async () => {
    const clock = new VirtualClock();
    const timers = 10 * TIMERS_PER_TURN;
    let fired = 0;
    const next = (): void => {
      fired++;
      if (fired < timers) clock.setTimer(1, next);
    };
    clock.setTimer(1, next);
    // A real event-loop turn (what an I/O callback or a real timer gets) notes how far the simulation got.
    const seen: number[] = [];
    const turn = (): void => {
      seen.push(fired);
      if (fired < timers) setImmediate(turn);
    };
    setImmediate(turn);
    await clock.idle();
    expect(fired).toBe(timers);
    // Turns came while the timers ran, never more than TIMERS_PER_TURN timers apart...
    expect(seen.length).toBeGreaterThanOrEqual(timers / TIMERS_PER_TURN);
    for (let i = 1; i < seen.length; i++) expect(seen[i]! - seen[i - 1]!).toBeLessThanOrEqual(TIMERS_PER_TURN);
    // ...but not one per timer (each turn is a system call).
    expect(seen.length).toBeLessThan(timers / 4);
  });

  it('rejects a non-finite delay', () => {
    expect(() => new VirtualClock().setTimer(Number.NaN, () => undefined)).toThrow(/SIM_BAD_DELAY/);
  });
});

describe('SeededRandom', () => {
  it('reproduces the same sequence from the same seed and differs across seeds', () => {
    const a = new SeededRandom(3);
    const b = new SeededRandom(3);
    const c = new SeededRandom(4);
    const sa = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(sa);
  });

  it('rejects seeds outside 32 bits', () => {
    expect(() => new SeededRandom(-1)).toThrow(RangeError);
    expect(() => new SeededRandom(2 ** 32)).toThrow(RangeError);
  });
});

describe('VirtualClock.idle', () => {
  it('waits for timers set by promise chains of the last timer, however many hops they take', async () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    clock.setTimer(10, () => {
      void (async () => {
        for (let i = 0; i < 20; i++) await Promise.resolve();
        clock.setTimer(5, () => order.push(`late@${clock.now()}`));
      })();
    });
    await clock.idle();
    expect(order).toEqual(['late@15']);
  });
});

describe('VirtualClock({ realTime: true })', () => {
  const wallSince = (t0: number): number => performance.now() - t0;

  it('fires each timer once wall time reaches it, in (time, insertion) order', async () => {
    const clock = new VirtualClock({ realTime: true });
    const t0 = performance.now();
    const fired: { name: string; at: number; wall: number }[] = [];
    const note = (name: string) => () => fired.push({ name, at: clock.now(), wall: wallSince(t0) });
    clock.setTimer(30, note('b'));
    clock.setTimer(10, note('a'));
    clock.setTimer(30, note('c'));
    await clock.idle();
    expect(fired.map((f) => f.name)).toEqual(['a', 'b', 'c']);
    // Never early on the wall clock (0.5 ms slack for the two clocks' reads), and now() follows wall time.
    expect(fired[0]!.wall).toBeGreaterThanOrEqual(10 - 0.5);
    expect(fired[1]!.wall).toBeGreaterThanOrEqual(30 - 0.5);
    expect(fired[0]!.at).toBeGreaterThanOrEqual(10);
    expect(fired[2]!.at).toBeGreaterThanOrEqual(30);
  });

  it('advances now() with wall time while idle instead of standing still', async () => {
    const clock = new VirtualClock({ realTime: true });
    const before = clock.now();
    await new Promise((resolve) => setTimeout(resolve, 25));
    expect(clock.now() - before).toBeGreaterThanOrEqual(24);
    // A pure virtual clock stands still in the same situation.
    const virtual = new VirtualClock();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(virtual.now()).toBe(0);
  });

  it('times a wait out after its wall time, not at once', async () => {
    const clock = new VirtualClock({ realTime: true });
    const t0 = performance.now();
    await expect(withTimeout(clock, new Promise<never>(() => undefined), 'bulk IN', 40)).rejects.toBeInstanceOf(TimeoutError);
    expect(wallSince(t0)).toBeGreaterThanOrEqual(40 - 0.5);
  });

  it('fires a timer set later but due earlier than the armed one at its own time', async () => {
    const clock = new VirtualClock({ realTime: true });
    const t0 = performance.now();
    const order: string[] = [];
    let earlyWall = 0;
    const late = clock.setTimer(400, () => order.push('late'));
    clock.setTimer(10, () => {
      earlyWall = wallSince(t0);
      order.push('early');
      late.cancel();
    });
    await clock.idle();
    expect(order).toEqual(['early']);
    expect(earlyWall).toBeGreaterThanOrEqual(10 - 0.5);
    expect(earlyWall).toBeLessThan(300);
  });

  it('reports idle promptly when its only timer is cancelled', async () => {
    const clock = new VirtualClock({ realTime: true });
    const t0 = performance.now();
    const t = clock.setTimer(5_000, () => undefined);
    const idle = clock.idle();
    t.cancel();
    await idle;
    expect(wallSince(t0)).toBeLessThan(1_000);
    expect(clock.pendingCount).toBe(0);
  });
});
