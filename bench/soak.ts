/**
 * soak: 100,000 verified loopback transfers of 64–512 bytes (every length in that range, exact multiples of
 * the packet size included), one at a time through the full simulated path; heap growth between a
 * warmed-up start and the end, each measured after a forced GC (run node with --expose-gc).
 */
import { openBenchWorld } from './sim-world.js';
import { median, repeat } from './stats.js';

export const SOAK_TRANSFERS = 100_000;

export interface SoakFigures {
  readonly transfers: number;
  /** Median over runs of the growth of V8 heapUsed + external (ArrayBuffers) memory. */
  readonly heapGrowthBytes: number;
  /** Median wall transfers per second (for information). */
  readonly perSecond: number;
  readonly runs: number;
}

type Gc = () => void;

function settledMemory(gc: Gc): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** @throws Error without --expose-gc, or when a transfer is not byte-exact. */
export async function measureSoak(options: { runs: number; transfers?: number }): Promise<SoakFigures> {
  const gc = (globalThis as { gc?: Gc }).gc;
  if (gc === undefined) throw new Error('the soak needs a forced GC: run node with --expose-gc (npm run bench does)');
  const transfers = options.transfers ?? SOAK_TRANSFERS;
  const runs = await repeat(options.runs, async () => {
    const world = await openBenchWorld();
    try {
      const run = async (count: number, from: number): Promise<void> => {
        for (let i = from; i < from + count; i++) {
          const length = 64 + (i % 449); // 64 … 512
          const r = await world.agent.loopback(length, { seed: i & 7 });
          if (!r.ok) throw new Error(`soak transfer ${i} (${length} B) was not byte-exact: ${JSON.stringify(r)}`);
        }
      };
      await run(5_000, 0); // warm-up: JIT, pools, log rings filled
      const before = settledMemory(gc);
      const t0 = performance.now();
      await run(transfers, 5_000);
      const perSecond = transfers / ((performance.now() - t0) / 1000);
      const growth = settledMemory(gc) - before;
      return { growth, perSecond };
    } finally {
      await world.close();
    }
  });
  return {
    transfers,
    heapGrowthBytes: median(runs.map((r) => r.growth)),
    perSecond: median(runs.map((r) => r.perSecond)),
    runs: options.runs,
  };
}
