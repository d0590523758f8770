/**
 * Small statistics for benchmarks: every figure is the median of several runs, so one run disturbed by a
 * neighbour on the machine (GC, another process) does not decide it.
 */

/** The median of `values` (the mean of the middle two for an even count). @throws RangeError when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values: run the measurement at least once');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Runs `measure` `count` times in sequence and returns every result. @throws RangeError for count < 1. */
export async function repeat<T>(count: number, measure: (run: number) => Promise<T> | T): Promise<T[]> {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`repeat needs a positive run count, got ${count}`);
  const out: T[] = [];
  for (let i = 0; i < count; i++) out.push(await measure(i));
  return out;
}

/** The median of one numeric field over several run results. */
export function medianOf<T>(results: readonly T[], field: (r: T) => number): number {
  return median(results.map(field));
}

/** Wall milliseconds of `fn` (performance.now()). */
export async function wallMs(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
