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

/** What {@link settleLateDeliveries} gives the notification comparison. */
export interface SettledNotifications {
  /** The replayed notifications, each unregister's draw set to the trace's where the model allows it. */
  readonly notifications: ComparedNotification[];
  /** One per unregister where the draw mattered (something was queued, or the trace shows a late delivery). */
  readonly verdicts: LateDeliveryVerdict[];
  /** Trace lines a divergent verdict already reports (the order comparison leaves them out). */
  readonly reported: ReadonlySet<number>;
}

/** Sets each replayed unregister's draw to the trace's where the model allows it, and checks the rest. */
export function settleLateDeliveries(plan: ReplayPlan, replayed: ReplayResult): SettledNotifications {
  const { lines, lineNumbers } = plan.trace;
  const removed = new Set<ReplayedNotification>();
  const inserted = new Map<number, ComparedNotification[]>();
  const verdicts: LateDeliveryVerdict[] = [];
  const reported = new Set<number>();
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
    const first = queued[0] === undefined ? 'nothing was queued' : `only the first one queued: ${notificationLabel(r, queued[0])}`;
    // This seed delivered one the trace does not have: the other draw discards it.
    const discardLate = (): void => {
      if (u.late !== undefined && replayedCount(r, u.late.action) > recordedCount(r, u.late.action)) removed.add(u.late);
    };
    // Whether the trace's first late delivery (if any) is one the model allows; neutral: the draw did not matter.
    let allowed = true;
    let neutral = false;
    const shown = late[0]?.line.action;
    if (shown === undefined) {
      discardLate();
      neutral = queued.length === 0;
    } else if (u.late?.action === shown) {
      // This seed drew as the trace shows.
    } else if (queued[0] === shown) {
      // This seed discarded it; the other draw delivers it during the call.
      if (replayedCount(r, shown) < recordedCount(r, shown)) inserted.set(u.at, [...(inserted.get(u.at) ?? []), { registration: r, action: shown, eventData: null }]);
    } else if (queued.length > 0) {
      allowed = false; // the model delivers only the first one queued, and that was another
      discardLate();
    } else {
      neutral = true; // nothing was left to deliver: whether the replay delivered it before the call is the order's comparison
    }
    const excess = allowed ? late.slice(1) : late;
    if (excess.length > 0) {
      for (const x of excess) reported.add(x.index);
      verdicts.push({
        agreed: false,
        line: lineNumbers[excess[0]!.index]!,
        what: `notifications during CM_Unregister_Notification(${r})`,
        trace: late.map((x) => notificationLabel(r, x.line.action)).join(', '),
        simulator: late.length > 1 ? `at most one, ${first}` : first,
      });
    } else if (!neutral) verdicts.push({ agreed: true });
  }

  const notifications: ComparedNotification[] = [];
  replayed.notifications.forEach((n, i) => {
    notifications.push(...(inserted.get(i) ?? []));
    if (!removed.has(n)) notifications.push(n);
  });
  for (const [at, list] of inserted) if (at >= replayed.notifications.length) notifications.push(...list);
  return { notifications, verdicts, reported };
}
