/**
 * The shape of `reports/bench.json` (issue 7, exactly these fields; bytes and seconds as named) and the
 * targets every figure is judged against.
 *
 * @see bench/README.md; docs/simulator-link.md#bus-time-model
 */

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

/** One judged figure. */
export interface Verdict {
  readonly figure: string;
  readonly value: string;
  readonly target: string;
  readonly pass: boolean;
}

const mb = (bytesPerSecond: number, digits = 1): string => `${(bytesPerSecond / 1e6).toFixed(digits)} MB/s`;

/** Judges every figure of `report` against {@link TARGETS}. */
export function judge(report: BenchReport): Verdict[] {
  const b = report.bulkLoopback;
  const within = (value: number, limit: number): boolean => value <= limit && value >= limit * (1 - BUS_MODEL_TOLERANCE);
  return [
    { figure: 'bulkLoopback.bytesPerSecond', value: mb(b.bytesPerSecond, 0), target: `≥ ${mb(TARGETS.bulkBytesPerSecond, 0)}`, pass: b.bytesPerSecond >= TARGETS.bulkBytesPerSecond },
    { figure: 'bulkLoopback.copyLoopBytesPerSecond', value: mb(b.copyLoopBytesPerSecond, 0), target: '(baseline)', pass: true },
    { figure: 'bulkLoopback.ratio', value: b.ratio.toFixed(3), target: `≥ ${TARGETS.bulkRatio}`, pass: b.ratio >= TARGETS.bulkRatio },
    {
      figure: 'controlTransfers.perSecond',
      value: Math.round(report.controlTransfers.perSecond).toLocaleString('en-US'),
      target: `≥ ${TARGETS.controlPerSecond.toLocaleString('en-US')}`,
      pass: report.controlTransfers.perSecond >= TARGETS.controlPerSecond,
    },
    {
      figure: `suite.wallSeconds (${report.suite.scenarios} scenarios)`,
      value: `${report.suite.wallSeconds.toFixed(2)} s`,
      target: `≤ ${TARGETS.suiteWallSeconds} s`,
      pass: report.suite.wallSeconds <= TARGETS.suiteWallSeconds,
    },
    {
      figure: 'suite.medianScenarioMs',
      value: `${report.suite.medianScenarioMs.toFixed(1)} ms`,
      target: `≤ ${TARGETS.suiteMedianScenarioMs} ms`,
      pass: report.suite.medianScenarioMs <= TARGETS.suiteMedianScenarioMs,
    },
    {
      figure: `virtualTimeout.wallMs (${report.virtualTimeout.timeoutMs / 1000} s timeout)`,
      value: `${report.virtualTimeout.wallMs.toFixed(1)} ms`,
      target: `≤ ${TARGETS.virtualTimeoutWallMs} ms`,
      pass: report.virtualTimeout.wallMs <= TARGETS.virtualTimeoutWallMs,
    },
    {
      figure: `soak.heapGrowthBytes (${report.soak.transfers.toLocaleString('en-US')} transfers)`,
      value: `${(report.soak.heapGrowthBytes / 1e6).toFixed(2)} MB`,
      target: `≤ ${TARGETS.soakHeapGrowthBytes / 1e6} MB`,
      pass: report.soak.heapGrowthBytes <= TARGETS.soakHeapGrowthBytes,
    },
    {
      figure: 'busModel.highSpeedBytesPerSecond',
      value: mb(report.busModel.highSpeedBytesPerSecond, 3),
      target: `${mb(HIGH_SPEED_BULK_LIMIT * (1 - BUS_MODEL_TOLERANCE), 3)} … ${mb(HIGH_SPEED_BULK_LIMIT, 3)}`,
      pass: within(report.busModel.highSpeedBytesPerSecond, HIGH_SPEED_BULK_LIMIT),
    },
    {
      figure: 'busModel.fullSpeedBytesPerSecond',
      value: mb(report.busModel.fullSpeedBytesPerSecond, 4),
      target: `${mb(FULL_SPEED_BULK_LIMIT * (1 - BUS_MODEL_TOLERANCE), 4)} … ${mb(FULL_SPEED_BULK_LIMIT, 4)}`,
      pass: within(report.busModel.fullSpeedBytesPerSecond, FULL_SPEED_BULK_LIMIT),
    },
  ];
}
