/**
 * bulkLoopback: 1 MiB transfers, 4 queued, through the full simulated path (HostAgent bulk OUT → SimUsbHost
 * → bus → UFX → GenericUSBFn model → SimUsbFnPort → UsbFnClient → service → loopback function
 * TRANSFER_OUT → TRANSFER_IN → back to a host bulk IN), every byte verified; wall bytes per second. The
 * baseline, in the same run: a plain loop copying as many bytes between two 1 MiB buffers (Uint8Array.set).
 */
import { openBenchWorld } from './sim-world.js';
import { median, repeat } from './stats.js';

export const MiB = 1024 * 1024;

/**
 * Warm-up, in batches of {@link WARMUP_BATCH} transfers, until the loopback runs at its steady speed: JIT
 * tiering (the whole path has ~100 hot functions) and V8's heap sizing (new-space growth, the first
 * mark-compact) take several thousand 1 MiB transfers; with the former fixed 512-transfer warm-up the
 * first measured runs were still 10–30 % slower than the later ones. A batch counts as settled when its
 * time is within {@link WARMUP_SETTLED} of the fastest batch so far; the warm-up ends after two settled
 * batches in a row (at least {@link WARMUP_MIN_BATCHES}, at most {@link WARMUP_MAX_BATCHES}).
 */
export const WARMUP_BATCH = 1024;
export const WARMUP_MIN_BATCHES = 8;
export const WARMUP_MAX_BATCHES = 16;
export const WARMUP_SETTLED = 0.05;

export interface BulkLoopbackFigures {
  readonly transferBytes: number;
  readonly queued: number;
  /** Median over runs. */
  readonly bytesPerSecond: number;
  /** Median over runs. */
  readonly copyLoopBytesPerSecond: number;
  /** Median of the per-run ratios loopback / copy. */
  readonly ratio: number;
  readonly runs: number;
  readonly transfersPerRun: number;
  /** Transfers run before the measured runs (see {@link WARMUP_BATCH}). */
  readonly warmupTransfers: number;
}

/**
 * Whether a warm-up may stop after these batch times (ms, oldest first): two settled batches in a row,
 * within the batch-count bounds. Pure, for tests.
 */
export function warmupDone(batchMs: readonly number[]): boolean {
  const n = batchMs.length;
  if (n >= WARMUP_MAX_BATCHES) return true;
  if (n < WARMUP_MIN_BATCHES) return false;
  const best = Math.min(...batchMs);
  const settled = (ms: number): boolean => ms <= best * (1 + WARMUP_SETTLED);
  return settled(batchMs[n - 1]!) && settled(batchMs[n - 2]!);
}

/** Copies `bytes` (a multiple of 1 MiB) between two 1 MiB buffers; returns bytes per second. */
export function copyLoop(bytes: number, a: Uint8Array, b: Uint8Array): number {
  const t0 = performance.now();
  for (let done = 0; done < bytes; done += a.length) b.set(a);
  return bytes / ((performance.now() - t0) / 1000);
}

/**
 * @throws Error when a run does not come back byte-exact (a simulator or agent bug, not a slow run).
 */
export async function measureBulkLoopback(options: { runs: number; transfersPerRun: number; queued?: number }): Promise<BulkLoopbackFigures> {
  const queued = options.queued ?? 4;
  const world = await openBenchWorld({ timeoutMs: 60_000 });
  const a = new Uint8Array(MiB).fill(0x5a);
  const b = new Uint8Array(MiB);
  try {
    // Warm-up: JIT, heap sizing, the receive-buffer pool and the pattern cache.
    const batchMs: number[] = [];
    while (!warmupDone(batchMs)) {
      const t0 = performance.now();
      const r = await world.agent.loopbackPipelined(MiB, WARMUP_BATCH, queued);
      batchMs.push(performance.now() - t0);
      if (!r.ok) throw new Error(`bulk loopback warm-up was not byte-exact: ${JSON.stringify(r)}`);
    }
    copyLoop(64 * MiB, a, b);
    const results = await repeat(options.runs, async () => {
      const t0 = performance.now();
      const r = await world.agent.loopbackPipelined(MiB, options.transfersPerRun, queued);
      const wall = (performance.now() - t0) / 1000;
      if (!r.ok) throw new Error(`bulk loopback run was not byte-exact: ${JSON.stringify(r)}`);
      const loop = r.bytesRead / wall;
      const copy = copyLoop(r.bytesRead, a, b);
      return { loop, copy, ratio: loop / copy };
    });
    return {
      transferBytes: MiB,
      queued,
      bytesPerSecond: median(results.map((r) => r.loop)),
      copyLoopBytesPerSecond: median(results.map((r) => r.copy)),
      ratio: median(results.map((r) => r.ratio)),
      runs: options.runs,
      transfersPerRun: options.transfersPerRun,
      warmupTransfers: batchMs.length * WARMUP_BATCH,
    };
  } finally {
    await world.close();
  }
}
