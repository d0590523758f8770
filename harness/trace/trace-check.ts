/**
 * `checkTrace`: replays a recorded device trace against the simulator and reports every divergence (status,
 * bytes returned, output bytes, event order, missing and extra events), grouped by the assumption id
 * (docs/reference/documented-vs-inferred.md) it confirms or refutes. What `usbfn-hil trace check` runs.
 *
 * @see docs/reference/device-trace.md#trace-check
 */
import { parseDeviceTrace, type DeviceTrace, type TraceHeader } from '../../device-side/index.js';
import { NO_ASSUMPTION } from './assumption-of.js';
import { planReplay } from './replay-plan.js';
import { compareReplay, type AssumptionCheck } from './trace-compare.js';
import { replay, type ReplayOptions } from './trace-replayer.js';

/** What {@link checkTrace} found. */
export interface TraceCheckReport {
  readonly header: TraceHeader;
  /** Lines of the trace after the header. */
  readonly lines: number;
  /** False when the trace has no end line (the recording was cut off). */
  readonly finished: boolean;
  readonly seed: number;
  /** Every assumption id the comparisons touched, the divergent ones first. */
  readonly checks: readonly AssumptionCheck[];
  /** Divergences in all. */
  readonly divergences: number;
  /** What the replay could not derive from the trace, and host or PnP actions of the replay that failed (context for the divergences). */
  readonly notes: readonly string[];
}

/**
 * Replays `trace` (JSON Lines text, or a parsed trace) on a fresh simulation and compares.
 * @throws UsageError TRACE_INVALID when the text is not a valid device trace.
 */
export async function checkTrace(trace: string | DeviceTrace, options: ReplayOptions = {}): Promise<TraceCheckReport> {
  const parsed = typeof trace === 'string' ? parseDeviceTrace(trace) : trace;
  const plan = planReplay(parsed);
  const replayed = await replay(plan, options);
  const checks = compareReplay(plan, replayed);
  return {
    header: parsed.header,
    lines: parsed.lines.length,
    finished: parsed.finished,
    seed: replayed.seed,
    checks,
    divergences: checks.reduce((n, c) => n + c.divergences.length, 0),
    notes: [...plan.notes, ...replayed.notes],
  };
}

/** The report as lines of text: one line per assumption id, then each divergence under it. */
export function formatTraceCheck(report: TraceCheckReport, source: string): string[] {
  const h = report.header;
  const out = [`trace check of ${source}: ${report.lines} lines from backend ${h.backend} (${h.os}), replayed on the simulator with seed ${report.seed}`];
  if (!report.finished) out.push('  note: the trace has no end line (the recording was cut off); calls it never saw complete are not compared');
  const width = Math.max(...report.checks.map((c) => c.id.length), 12);
  for (const c of report.checks) {
    const label = c.id === NO_ASSUMPTION ? '(no assumption id)' : c.id;
    const total = c.agreed + c.divergences.length;
    if (c.divergences.length === 0) {
      out.push(`  ✔ ${label.padEnd(width)}  ${c.agreed} check${c.agreed === 1 ? '' : 's'} agree${c.id === NO_ASSUMPTION ? '' : ' (confirmed)'}`);
      continue;
    }
    out.push(`  ✘ ${label.padEnd(width)}  ${c.divergences.length} of ${total} check${total === 1 ? '' : 's'} diverge${c.id === NO_ASSUMPTION ? '' : ' (refuted)'}`);
    for (const d of c.divergences) {
      out.push(`      ${d.line === undefined ? '' : `line ${d.line}: `}${d.what}: trace ${d.trace}; simulator ${d.simulator}`);
    }
  }
  for (const n of report.notes) out.push(`  note: ${n}`);
  const refuted = report.checks.filter((c) => c.divergences.length > 0).map((c) => c.id);
  out.push(report.divergences === 0 ? 'result: the trace and the simulator agree' : `result: ${report.divergences} divergence${report.divergences === 1 ? '' : 's'} (${refuted.join(', ')})`);
  return out;
}
