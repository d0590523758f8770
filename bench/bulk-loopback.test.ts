import { afterEach, describe, expect, it, vi } from 'vitest';
import { CopyLoop, MiB, WORKING_SET_BUFFERS } from './bulk-loopback.js';
import { openBenchWorld } from './sim-world.js';

describe('the bulk loopback baseline', () => {
  afterEach(() => vi.restoreAllMocks());

  it(`copies through as many 1 MiB buffers as the loopback cycles through in steady state (${WORKING_SET_BUFFERS})`, async () => {
    await using world = await openBenchWorld({ timeoutMs: 60_000 });
    // Steady state: the pattern is cached and the receive pool holds its buffers.
    expect((await world.agent.loopbackPipelined(MiB, 16, 4)).ok).toBe(true);
    const set = vi.spyOn(Uint8Array.prototype, 'set');
    const compare = vi.spyOn(Buffer, 'compare');
    const r = await world.agent.loopbackPipelined(MiB, 32, 4);
    const touched = new Set<ArrayBufferLike>();
    const note = (a: unknown): void => {
      if (a instanceof Uint8Array && a.byteLength >= MiB) touched.add(a.buffer);
    };
    const big = (a: unknown): boolean => a instanceof Uint8Array && a.byteLength >= MiB;
    const copies = set.mock.calls.map(([src], i) => [set.mock.contexts[i], src] as const).filter(([, src]) => big(src));
    const compares = compare.mock.calls.filter(([a]) => big(a));
    // The middle of the run (its first and last transfers fill and drain the pipeline: other buffers).
    for (const [dst, src] of copies.slice(16, 48)) {
      note(dst);
      note(src);
    }
    for (const [a, b] of compares.slice(8, 24)) {
      note(a);
      note(b);
    }
    expect(r.ok).toBe(true);
    // Every byte went through the copies and the compare (3 passes of 1 MiB per transfer) ...
    expect(copies).toHaveLength(2 * 32);
    expect(compares).toHaveLength(32);
    // ... on this many distinct buffers.
    expect(touched.size).toBe(WORKING_SET_BUFFERS);
  });

  it('rotates round its ring, copying whole buffers, and goes on where the last call stopped', () => {
    const loop = new CopyLoop(3, 16);
    const set = vi.spyOn(Uint8Array.prototype, 'set');
    expect(loop.copyMs(40)).toBeGreaterThanOrEqual(0); // 40 bytes: 3 whole buffers
    loop.copyMs(16);
    // [destination, source] as indexes in the ring (buffers compared by identity).
    const at = (b: unknown): number => loop.buffers.indexOf(b as Uint8Array);
    expect(set.mock.calls.map(([src], i) => [at(set.mock.contexts[i]), at(src)])).toEqual([
      [1, 0],
      [2, 1],
      [0, 2],
      [1, 0],
    ]);
    expect(() => new CopyLoop(1)).toThrow(RangeError);
  });
});
