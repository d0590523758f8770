/**
 * The shape of `reports/bench.json` (issue 7, exactly these fields; bytes and seconds as named) and the
 * targets every figure is judged against.
 *
 * @see bench/README.md; docs/simulator-link.md#bus-time-model
 */
import { atLeast, atMost, exact, row, type Row } from './verdict.js';

/** reports/bench.json. */
export interface BenchReport {
  readonly bulkLoopback: {
    readonly transferBytes: number;
    readonly queued: number;
    readonly bytesPerSecond: number;
    readonly copyLoopBytesPerSecond: number;
    readonly ratio: number;
  };
  readonly controlTransfers: { readonly perSecond: number };
  readonly suite: { readonly scenarios: number; readonly wallSeconds: number; readonly medianScenarioMs: number };
  readonly virtualTimeout: { readonly timeoutMs: number; readonly wallMs: number };
  readonly soak: { readonly transfers: number; readonly heapGrowthBytes: number };
  readonly busModel: { readonly highSpeedBytesPerSecond: number; readonly fullSpeedBytesPerSecond: number };
}

/** USB 2.0 bulk ceilings the bus model must approach and never exceed (USB 2.0 §5.8.4, Tables 5-9 and 5-10). */
export const HIGH_SPEED_BULK_LIMIT = 53_248_000; // 13 × 512 B per 125 µs microframe
export const FULL_SPEED_BULK_LIMIT = 1_216_000; // 19 × 64 B per 1 ms frame
/** How far below the ceiling the bus model may be. */
export const BUS_MODEL_TOLERANCE = 0.02;

/** The targets of issue 7. */
export const TARGETS = {
  bulkBytesPerSecond: 1e9,
  bulkRatio: 0.25,
  controlPerSecond: 50_000,
  suiteWallSeconds: 20,
  suiteMedianScenarioMs: 20,
  virtualTimeoutWallMs: 50,
  soakHeapGrowthBytes: 10e6,
} as const;

const mb = (bytesPerSecond: number, digits = 1): string => `${(bytesPerSecond / 1e6).toFixed(digits)} MB/s`;

/**
 * Judges every figure of `report` against {@link TARGETS}: timed figures with their headroom (bench/verdict.ts:
 * `thin` below a 15 % margin); the copy baseline is not judged; the bus model is a band around the USB 2.0
 * ceiling (pass or FAIL).
 */
export function judge(report: BenchReport): Row[] {
  const b = report.bulkLoopback;
  const within = (value: number, limit: number): boolean => value <= limit && value >= limit * (1 - BUS_MODEL_TOLERANCE);
  const t = TARGETS;
  return [
    row('bulkLoopback.bytesPerSecond', mb(b.bytesPerSecond, 0), `≥ ${mb(t.bulkBytesPerSecond, 0)}`, atLeast(b.bytesPerSecond, t.bulkBytesPerSecond)),
    ['bulkLoopback.copyLoopBytesPerSecond', mb(b.copyLoopBytesPerSecond, 0), '(baseline)', '—', 'pass'],
    row('bulkLoopback.ratio', b.ratio.toFixed(3), `≥ ${t.bulkRatio}`, atLeast(b.ratio, t.bulkRatio)),
    row(
      'controlTransfers.perSecond',
      Math.round(report.controlTransfers.perSecond).toLocaleString('en-US'),
      `≥ ${t.controlPerSecond.toLocaleString('en-US')}`,
      atLeast(report.controlTransfers.perSecond, t.controlPerSecond),
    ),
    row(
      `suite.wallSeconds (${report.suite.scenarios} scenarios)`,
      `${report.suite.wallSeconds.toFixed(2)} s`,
      `≤ ${t.suiteWallSeconds} s`,
      atMost(report.suite.wallSeconds, t.suiteWallSeconds),
    ),
    row('suite.medianScenarioMs', `${report.suite.medianScenarioMs.toFixed(1)} ms`, `≤ ${t.suiteMedianScenarioMs} ms`, atMost(report.suite.medianScenarioMs, t.suiteMedianScenarioMs)),
    row(
      `virtualTimeout.wallMs (${report.virtualTimeout.timeoutMs / 1000} s timeout)`,
      `${report.virtualTimeout.wallMs.toFixed(1)} ms`,
      `≤ ${t.virtualTimeoutWallMs} ms`,
      atMost(report.virtualTimeout.wallMs, t.virtualTimeoutWallMs),
    ),
    row(
      `soak.heapGrowthBytes (${report.soak.transfers.toLocaleString('en-US')} transfers)`,
      `${(report.soak.heapGrowthBytes / 1e6).toFixed(2)} MB`,
      `≤ ${t.soakHeapGrowthBytes / 1e6} MB`,
      atMost(report.soak.heapGrowthBytes, t.soakHeapGrowthBytes),
    ),
    row(
      'busModel.highSpeedBytesPerSecond',
      mb(report.busModel.highSpeedBytesPerSecond, 3),
      `${mb(HIGH_SPEED_BULK_LIMIT * (1 - BUS_MODEL_TOLERANCE), 3)} … ${mb(HIGH_SPEED_BULK_LIMIT, 3)}`,
      exact(within(report.busModel.highSpeedBytesPerSecond, HIGH_SPEED_BULK_LIMIT)),
    ),
    row(
      'busModel.fullSpeedBytesPerSecond',
      mb(report.busModel.fullSpeedBytesPerSecond, 4),
      `${mb(FULL_SPEED_BULK_LIMIT * (1 - BUS_MODEL_TOLERANCE), 4)} … ${mb(FULL_SPEED_BULK_LIMIT, 4)}`,
      exact(within(report.busModel.fullSpeedBytesPerSecond, FULL_SPEED_BULK_LIMIT)),
    ),
  ];
}
