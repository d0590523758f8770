/**
 * The late-delivery draw (docs/reference/documented-vs-inferred.md#cm-unregister-late-delivery) in `trace
 * check`: traces recorded with and without a notification delivered during an unregister replay without a
 * divergence whichever way the replay's seed draws, and what the model cannot give is reported under that id.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDeviceTrace, type TraceLine } from '../../device-side/index.js';
import { editTrace as edited, recordRemovalTrace } from '../testing/index.js';
import { notificationLabel } from './late-delivery.js';
import { planReplay } from './replay-plan.js';
import { checkTrace, type TraceCheckReport } from './trace-check.js';
import { replay } from './trace-replayer.js';

type Cm = TraceLine & { kind: 'cm' };
type Unregister = TraceLine & { kind: 'cmUnregister' };

/** The notifications a trace shows delivered during their registration's CM_Unregister_Notification. */
function lateInTrace(text: string): string[] {
  const lines = parseDeviceTrace(text).lines;
  const calls = lines.filter((l): l is Unregister => l.kind === 'cmUnregister');
  return lines
    .filter((l): l is Cm => l.kind === 'cm' && calls.some((u) => u.registration === l.registration && u.submitSeq < l.seq && l.seq < u.seq))
    .map((l) => notificationLabel(l.registration, l.action));
}

const divergent = (r: TraceCheckReport) => r.checks.filter((c) => c.divergences.length > 0).map((c) => ({ id: c.id, divergences: c.divergences.map((d) => ({ kind: d.kind, what: d.what, trace: d.trace, simulator: d.simulator })) }));
const SEEDS = [1, 2, 3, 4, 5, 6];

// The surprise removal's REMOVECOMPLETE is still queued for the handle registration when the service unregisters
// it: recorded with seed 34 the model delivered it during the call, with seed 2 it discarded it.
let withLate: string;
let withoutLate: string;
beforeAll(async () => {
  withLate = await recordRemovalTrace(34);
  withoutLate = await recordRemovalTrace(2);
});

describe('the late-delivery draw in trace check (cm-unregister-late-delivery)', () => {
  it('the recordings show one late delivery and none', () => {
    expect(lateInTrace(withLate)).toEqual(['DEVICEREMOVECOMPLETE@r2']);
    expect(lateInTrace(withoutLate)).toEqual([]);
  });

  it.each([
    ['shows a late delivery', () => withLate],
    ['shows none', () => withoutLate],
  ])('a trace that %s replays without a divergence with every seed, the replays drawing both ways', async (_what, trace) => {
    const draws = new Set<boolean>();
    for (const seed of SEEDS) {
      const report = await checkTrace(trace(), { seed });
      expect(divergent(report), `replay seed ${seed}`).toEqual([]);
      expect(report.checks.find((c) => c.id === 'cm-unregister-late-delivery')?.agreed, `replay seed ${seed}`).toBeGreaterThanOrEqual(1);
      const replayed = await replay(planReplay(parseDeviceTrace(trace())), { seed });
      const r2 = replayed.unregisters.find((u) => u.registration === 'r2')!;
      expect(r2.late === undefined ? r2.discarded : [r2.late.action]).toHaveLength(1); // the REMOVECOMPLETE was queued
      draws.add(r2.late !== undefined);
    }
    // The seeds cover both outcomes, so both ways of settling the draw were exercised.
    expect(draws).toEqual(new Set([true, false]));
  });

  it.each([1, 2, 3])('two notifications during one unregister: refuted, reported once (replay seed %i)', async (seed) => {
    const report = await checkTrace(
      edited(withLate, (lines) => {
        // Room for one more line in the unregister's span: every seq times 3.
        for (const l of lines as unknown as Record<string, unknown>[]) for (const k of ['seq', 'submitSeq', 'returnSeq']) if (typeof l[k] === 'number') l[k] = l[k] * 3;
        const late = lines.find((l): l is Cm => l.kind === 'cm' && l.registration === 'r2')!;
        lines.splice(lines.indexOf(late) + 1, 0, { ...late, seq: late.returnSeq! + 1, returnSeq: late.returnSeq! + 2 });
      }),
      { seed },
    );
    expect(divergent(report)).toEqual([
      {
        id: 'cm-unregister-late-delivery',
        divergences: [
          {
            kind: 'lateDelivery',
            what: 'notifications during CM_Unregister_Notification(r2)',
            trace: 'DEVICEREMOVECOMPLETE@r2, DEVICEREMOVECOMPLETE@r2',
            simulator: 'at most one, only the first one queued: DEVICEREMOVECOMPLETE@r2',
          },
        ],
      },
    ]);
  });

  it.each([1, 2, 3])('a late delivery that is not the first one queued: refuted, reported once (replay seed %i)', async (seed) => {
    const report = await checkTrace(
      edited(withLate, (lines) => {
        const late = lines.find((l): l is Cm => l.kind === 'cm' && l.registration === 'r2')!;
        Object.assign(late, { action: 3, actionName: 'CM_NOTIFY_ACTION_DEVICEQUERYREMOVEFAILED' });
      }),
      { seed },
    );
    expect(divergent(report)).toEqual([
      {
        id: 'cm-unregister-late-delivery',
        divergences: [
          { kind: 'lateDelivery', what: 'notifications during CM_Unregister_Notification(r2)', trace: 'DEVICEQUERYREMOVEFAILED@r2', simulator: 'only the first one queued: DEVICEREMOVECOMPLETE@r2' },
        ],
      },
    ]);
  });
});
