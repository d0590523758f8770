/**
 * Warm-up until steady: a benchmark runs batches until two in a row are within {@link WARMUP_SETTLED} of the
 * fastest batch so far (at least {@link WARMUP_MIN_BATCHES}, at most {@link WARMUP_MAX_BATCHES}).
 *
 * Why not a fixed count: JIT tiering of the whole simulated path (~100 hot functions, deopts and
 * re-optimisation while V8's compiler thread competes for the second core) and V8's heap sizing take a number
 * of transfers that depends on the machine and on what else runs on it. With a fixed 2,000-transfer warm-up the
 * first measured control-transfer run was 30–60 % slower than the later ones on a loaded 2-core VM
 * (bench/README.md); for bulk the same happened with 512 transfers.
 */

export const WARMUP_MIN_BATCHES = 8;
export const WARMUP_MAX_BATCHES = 16;
export const WARMUP_SETTLED = 0.05;

/**
 * Whether a warm-up may stop after these batch times (ms, oldest first): two settled batches in a row,
 * within the batch-count bounds. Pure, for tests.
 */
export function warmupDone(batchMs: readonly number[], minBatches = WARMUP_MIN_BATCHES): boolean {
  const n = batchMs.length;
  if (n >= WARMUP_MAX_BATCHES) return true;
  if (n < minBatches) return false;
  const best = Math.min(...batchMs);
  const settled = (ms: number): boolean => ms <= best * (1 + WARMUP_SETTLED);
  return settled(batchMs[n - 1]!) && settled(batchMs[n - 2]!);
}

/**
 * Runs `batch` until {@link warmupDone} (with at least `minBatches`); returns how many batches ran.
 * @throws whatever `batch` throws (a batch that is not byte-exact is a bug, not a slow batch).
 */
export async function warmUntilSteady(batch: () => Promise<void>, minBatches = WARMUP_MIN_BATCHES): Promise<number> {
  const batchMs: number[] = [];
  while (!warmupDone(batchMs, minBatches)) {
    const t0 = performance.now();
    await batch();
    batchMs.push(performance.now() - t0);
  }
  return batchMs.length;
}
