/**
 * The seeded draw of cm-unregister-late-delivery in a replay. When the device side unregisters while
 * notifications are still queued for the registration, the model delivers the first of them during the call
 * or discards them all, as a seeded draw decides (docs/reference/documented-vs-inferred.md#cm-unregister-late-delivery).
 * The draw is the model's free choice, not a prediction, so the comparison takes the outcome the trace shows
 * whenever the model allows it, whichever way this replay's seed drew, and checks what the trace shows against
 * the rule itself: at most one notification arrives during an unregister, and it is the first one queued.
 */
import { cmNotifyActionName, type CmNotificationLine, type CmUnregisterLine } from '../../device-side/index.js';
import type { ReplayPlan } from './replay-plan.js';
import type { ReplayedNotification, ReplayResult } from './trace-replayer.js';

/** The assumption id of the draw. */
export const LATE_DELIVERY = 'cm-unregister-late-delivery';

/** A notification as compared: one the replay delivered, or one the model's other draw delivers. */
export interface ComparedNotification {
  readonly registration: string;
  readonly action: number;
  /** The CM_NOTIFY_EVENT_DATA; null for the other draw's notification (the model discarded it, data and all). */
  readonly eventData: Uint8Array | null;
}

/** What one replayed unregister says about cm-unregister-late-delivery. */
export type LateDeliveryVerdict =
  | { readonly agreed: true }
  | { readonly agreed: false; readonly line: number; readonly what: string; readonly trace: string; readonly simulator: string };

/** A notification's short name, e.g. `REMOVECOMPLETE@r2`. */
export function notificationLabel(registration: string, action: number): string {
  return `${cmNotifyActionName(action).replace('CM_NOTIFY_ACTION_', '')}@${registration}`;
}

/**
 * The replayed notifications with each unregister's draw set to the trace's where the model allows it, and a
 * verdict per unregister where the draw mattered (something was queued, or the trace shows a late delivery).
 */
export function settleLateDeliveries(plan: ReplayPlan, replayed: ReplayResult): { notifications: ComparedNotification[]; verdicts: LateDeliveryVerdict[] } {
  const { lines, lineNumbers } = plan.trace;
  const removed = new Set<ReplayedNotification>();
  const inserted = new Map<number, ComparedNotification[]>();
  const verdicts: LateDeliveryVerdict[] = [];
  const recordedCount = (registration: string, action: number): number => lines.filter((l) => l.kind === 'cm' && l.registration === registration && l.action === action).length;
  const replayedCount = (registration: string, action: number): number => replayed.notifications.filter((n) => n.registration === registration && n.action === action).length;

  for (const u of replayed.unregisters) {
    const call = lines[u.index] as CmUnregisterLine;
    if (call.cr !== 0) continue; // the recorded call failed: nothing was unregistered there
    const r = u.registration;
    const late = lines
      .map((line, index) => ({ line, index }))
      .filter((x): x is { line: CmNotificationLine; index: number } => x.line.kind === 'cm' && x.line.registration === r && call.submitSeq < x.line.seq && x.line.seq < call.seq);
    const queued = [...(u.late === undefined ? [] : [u.late.action]), ...u.discarded];
    const what = `notifications during CM_Unregister_Notification(${r})`;
    const first = queued[0] === undefined ? 'nothing was queued' : `only the first one queued: ${notificationLabel(r, queued[0])}`;
    if (late.length > 1) {
      verdicts.push({ agreed: false, line: lineNumbers[late[1]!.index]!, what, trace: late.map((x) => notificationLabel(r, x.line.action)).join(', '), simulator: `at most one, ${first}` });
      continue;
    }
    const shown = late[0]?.line.action;
    if (shown !== undefined) {
      if (u.late?.action === shown) verdicts.push({ agreed: true });
      else if (queued[0] === undefined) {
        // Nothing was left to deliver: whether the replay delivered it before the call is the order's comparison.
      } else if (queued[0] !== shown) {
        verdicts.push({ agreed: false, line: lineNumbers[late[0]!.index]!, what, trace: notificationLabel(r, shown), simulator: first });
      } else {
        // This seed discarded it; the other draw delivers it during the call.
        if (replayedCount(r, shown) < recordedCount(r, shown)) inserted.set(u.at, [...(inserted.get(u.at) ?? []), { registration: r, action: shown, eventData: null }]);
        verdicts.push({ agreed: true });
      }
      continue;
    }
    if (u.late !== undefined) {
      // This seed delivered one the trace does not have: the other draw discards it.
      if (replayedCount(r, u.late.action) > recordedCount(r, u.late.action)) removed.add(u.late);
      verdicts.push({ agreed: true });
    } else if (queued.length > 0) verdicts.push({ agreed: true });
  }

  const notifications: ComparedNotification[] = [];
  replayed.notifications.forEach((n, i) => {
    notifications.push(...(inserted.get(i) ?? []));
    if (!removed.has(n)) notifications.push(n);
  });
  for (const [at, list] of inserted) if (at >= replayed.notifications.length) notifications.push(...list);
  return { notifications, verdicts };
}
