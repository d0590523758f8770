/**
 * Compares a recorded device trace with what the simulator answered in its replay: the status, byte count and
 * output of every call, the order of the bus events of each handle and of the notifications of each
 * registration (missing, extra and moved ones; the late-delivery draw of each unregister set to the trace's
 * where the model allows it, late-delivery.ts), and files every comparison under the assumption id it
 * confirms or refutes (assumption-of.ts).
 */
import {
  CM_NOTIFY_ACTION,
  IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
  IOCTL_GENERICUSBFN_GET_CLASS_INFO,
  decodeCmNotifyEventData,
  decodeUsbfnClassInformationPacket,
  fromHex,
  toHex,
  WIN32_ERROR,
  type CmNotificationLine,
  type IoctlLine,
  type TraceLine,
  type UsbfnNotification,
} from '../../device-side/index.js';
import { busEventAssumption, ioctlAssumption, notificationAssumption, NO_ASSUMPTION, presenceAssumption, queryRemoveOutcomeAssumption, type ComparedField } from './assumption-of.js';
import { LATE_DELIVERY, notificationLabel, settleLateDeliveries } from './late-delivery.js';
import { eventOf, type ReplayPlan } from './replay-plan.js';
import type { CallOutcome, ReplayResult, ReplayStatus } from './trace-replayer.js';

const CM_QUERYREMOVE = CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEQUERYREMOVE;

/** The lines of calls (submitted, then completed). */
type TimedLine = Extract<TraceLine, { submitSeq: number }>;
const isTimed = (line: TraceLine): line is TimedLine => 'submitSeq' in line;

/** One way the replay differed from the trace. */
export interface Divergence {
  /** The assumption id (docs/reference/documented-vs-inferred.md), or `no-assumption`. */
  readonly id: string;
  /** The trace's line number, when one line is concerned. */
  readonly line: number | undefined;
  readonly kind: 'status' | 'bytesReturned' | 'output' | 'missingCompletion' | 'notReplayed' | 'eventOrder' | 'missingEvent' | 'extraEvent' | 'eventData' | 'lateDelivery';
  /** What was compared, e.g. `CONTROL_STATUS_HANDSHAKE_IN status`. */
  readonly what: string;
  /** The trace's value and the simulator's. */
  readonly trace: string;
  readonly simulator: string;
}

/** The comparisons of one assumption id. */
export interface AssumptionCheck {
  readonly id: string;
  agreed: number;
  readonly divergences: Divergence[];
}

class Checks {
  readonly byId = new Map<string, AssumptionCheck>();

  agree(id: string): void {
    this.#get(id).agreed++;
  }

  diverge(d: Divergence): void {
    this.#get(d.id).divergences.push(d);
  }

  #get(id: string): AssumptionCheck {
    let c = this.byId.get(id);
    if (c === undefined) this.byId.set(id, (c = { id, agreed: 0, divergences: [] }));
    return c;
  }
}

const statusText = (s: { win32?: number | undefined; win32Name?: string | undefined; cr?: number | undefined; crName?: string | undefined; error?: { code: string } | undefined }): string =>
  s.win32 !== undefined ? `${s.win32Name ?? 'WIN32'}(${s.win32})` : s.cr !== undefined ? `${s.crName ?? 'CR'}(${s.cr})` : s.error !== undefined ? s.error.code : 'no outcome';
const short = (name: string): string => name.replace('IOCTL_GENERICUSBFN_', '');
const eventText = (e: UsbfnNotification | undefined): string => (e === undefined ? 'undecodable' : JSON.stringify(e));

/** Every comparison of `trace` with `replayed`, grouped by assumption id (sorted: divergent groups first). */
export function compareReplay(plan: ReplayPlan, replayed: ReplayResult): AssumptionCheck[] {
  const checks = new Checks();
  const { trace } = plan;
  const lineNo = (index: number): number => trace.lineNumbers[index] ?? 0;
  const skippedHandles = new Set<number>();
  trace.lines.forEach((line, index) => {
    if (!isTimed(line)) return;
    if (line.kind === 'ioctl' && line.code === IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION && line.bytesReturned !== null) return; // compared as a sequence
    const outcome = replayed.calls.get(index);
    compareCall(line, index, lineNo(index), outcome, plan, checks, skippedHandles);
  });
  for (const handle of new Set(trace.lines.flatMap((l) => (l.kind === 'ioctl' ? [l.handle] : [])))) compareBusEvents(handle, plan, replayed, checks);
  compareNotifications(plan, replayed, checks);
  return [...checks.byId.values()].sort((a, b) => (b.divergences.length > 0 ? 1 : 0) - (a.divergences.length > 0 ? 1 : 0) || a.id.localeCompare(b.id));
}

function compareCall(line: TimedLine, index: number, lineNumber: number, outcome: CallOutcome | undefined, plan: ReplayPlan, checks: Checks, skippedHandles: Set<number>): void {
  const context = plan.context.get(index);
  const what =
    line.kind === 'ioctl'
      ? short(line.name)
      : line.kind === 'cmCall'
        ? line.api
        : line.kind === 'open'
          ? `CreateFileW${(context?.otherHandlesOpen ?? 0) > 0 ? ' while another handle is open' : ''}`
          : line.kind;
  const idOf = (field: ComparedField, sim?: ReplayStatus): string => {
    const win32 = [line.win32, sim !== undefined && 'win32' in sim ? sim.win32 : undefined];
    switch (line.kind) {
      case 'ioctl':
        return ioctlAssumption(line, context, field, win32);
      case 'open':
        return (context?.otherHandlesOpen ?? 0) > 0 ? 'drv-exclusive-open' : NO_ASSUMPTION;
      case 'cmUnregister':
        return 'cm-second-unregister';
      case 'cmRegister':
        return 'cm-register-failures';
      default:
        return NO_ASSUMPTION;
    }
  };
  if (outcome === undefined || outcome.state === 'skipped') {
    const handle = 'handle' in line && typeof line.handle === 'number' ? line.handle : undefined;
    if (handle !== undefined && skippedHandles.has(handle)) return;
    if (handle !== undefined) skippedHandles.add(handle);
    const openLine = plan.trace.lines.findIndex((l) => l.kind === 'open' && l.handle === handle);
    const id = openLine >= 0 && (plan.context.get(openLine)?.otherHandlesOpen ?? 0) > 0 ? 'drv-exclusive-open' : idOf('status');
    checks.diverge({ id, line: lineNumber, kind: 'notReplayed', what, trace: statusText(line), simulator: outcome?.state === 'skipped' ? `not replayed: ${outcome.why}` : 'not replayed' });
    return;
  }
  if (outcome.state === 'pending') {
    checks.diverge({ id: idOf('completion'), line: lineNumber, kind: 'missingCompletion', what, trace: `completed with ${statusText(line)}`, simulator: 'still pending when the replay ended' });
    return;
  }
  const sim = outcome.status;
  const sameStatus = statusText(line) === statusText(sim as Parameters<typeof statusText>[0]);
  if (!sameStatus) {
    checks.diverge({ id: idOf('status', sim), line: lineNumber, kind: 'status', what: `${what} status`, trace: statusText(line), simulator: statusText(sim as Parameters<typeof statusText>[0]) });
    return;
  }
  checks.agree(idOf('status', sim));
  if (line.kind === 'cmCall' && line.links !== undefined && outcome.links !== undefined) {
    if (line.links.length === outcome.links) checks.agree(NO_ASSUMPTION);
    else checks.diverge({ id: NO_ASSUMPTION, line: lineNumber, kind: 'output', what: `${what} interfaces`, trace: `${line.links.length}`, simulator: `${outcome.links}` });
  }
  if (line.kind !== 'ioctl' || line.bytesReturned === null) return;
  if (line.bytesReturned === outcome.bytesReturned) checks.agree(idOf('bytesReturned'));
  else checks.diverge({ id: idOf('bytesReturned'), line: lineNumber, kind: 'bytesReturned', what: `${what} bytesReturned`, trace: String(line.bytesReturned), simulator: String(outcome.bytesReturned) });
  if (line.output === null || outcome.output === null) return;
  const [traceOut, simOut] = comparableOutput(line, outcome.output);
  if (traceOut === simOut) checks.agree(idOf('output'));
  else checks.diverge({ id: idOf('output'), line: lineNumber, kind: 'output', what: `${what} output`, trace: traceOut, simulator: simOut });
}

/** What is compared of an output: GET_CLASS_INFO's pipes (names and GUIDs belong to the configuration), else the bytes. */
function comparableOutput(line: IoctlLine, sim: Uint8Array): [string, string] {
  if (line.code === IOCTL_GENERICUSBFN_GET_CLASS_INFO) {
    const pipes = (bytes: Uint8Array): string => {
      try {
        const i = decodeUsbfnClassInformationPacket(bytes);
        return (['fullSpeed', 'highSpeed', 'superSpeed'] as const).map((s) => `${s}: ${i[s].pipes.map((p) => `${p.pipeId}=0x${p.epDesc.bEndpointAddress.toString(16)}/${p.epDesc.wMaxPacketSize}`).join(' ')}`).join('; ');
      } catch {
        return `undecodable (${bytes.length} bytes)`;
      }
    };
    return [pipes(fromHex(line.output!)), pipes(sim)];
  }
  const recorded = line.output!;
  const replayed = toHex(sim);
  // A cut recording compares its prefix only.
  return line.dataTruncated === true ? [recorded, replayed.slice(0, recorded.length)] : [recorded, replayed];
}

/** Longest common subsequence of two key lists: the matched index pairs. */
function lcs(a: readonly string[], b: readonly string[]): [number, number][] {
  const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) dp[i]![j] = a[i] === b[j] ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
  const pairs: [number, number][] = [];
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    if (a[i] === b[j]) pairs.push([i++, j++]);
    else if (dp[i + 1]![j]! >= dp[i]![j + 1]!) i++;
    else j++;
  }
  return pairs;
}

/**
 * Aligns two sequences by key; matched pairs are compared by `match`, the rest reported as moved (the same key
 * is unmatched on both sides), missing (only in the trace) or extra (only in the simulator).
 */
function alignSequences<R, S>(
  recorded: readonly R[],
  replayed: readonly S[],
  keyR: (r: R) => string,
  keyS: (s: S) => string,
  report: { match(r: R, s: S): void; moved(r: R, position: number, simulatorPosition: number): void; missing(r: R): void; extra(s: S, position: number): void },
): void {
  const pairs = lcs(recorded.map(keyR), replayed.map(keyS));
  const matchedR = new Set(pairs.map(([i]) => i));
  const matchedS = new Set(pairs.map(([, j]) => j));
  for (const [i, j] of pairs) report.match(recorded[i]!, replayed[j]!);
  const leftS = replayed.map((s, j) => ({ s, j })).filter(({ j }) => !matchedS.has(j));
  recorded.forEach((r, i) => {
    if (matchedR.has(i)) return;
    const k = leftS.findIndex(({ s }) => keyS(s) === keyR(r));
    if (k >= 0) {
      report.moved(r, i, leftS[k]!.j);
      leftS.splice(k, 1);
    } else report.missing(r);
  });
  for (const { s, j } of leftS) report.extra(s, j);
}

function compareBusEvents(handle: number, plan: ReplayPlan, replayed: ReplayResult, checks: Checks): void {
  const { trace } = plan;
  const recorded = trace.lines
    .map((line, index) => ({ line, index }))
    .filter((x): x is { line: IoctlLine; index: number } => x.line.kind === 'ioctl' && x.line.handle === handle && x.line.code === IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION && x.line.bytesReturned !== null)
    .map(({ line, index }) => ({ line, lineNumber: trace.lineNumbers[index]!, event: plan.events.get(index) ?? eventOf(line), enumeration: plan.context.get(index)?.enumeration ?? false }));
  const sim = (replayed.busEvents.get(handle) ?? []).map((e) => ({ ...e, event: decodeEvent(e.output) }));
  const key = (e: UsbfnNotification | undefined): string => e?.type ?? 'undecodable';
  alignSequences(recorded, sim, (r) => key(r.event), (s) => key(s.event), {
    match: (r, s) => {
      const id = busEventAssumption(r.event, r.enumeration);
      if (r.line.bytesReturned === s.bytesReturned) checks.agree('drv-bytes-returned');
      else checks.diverge({ id: 'drv-bytes-returned', line: r.lineNumber, kind: 'bytesReturned', what: `BUS_EVENT_NOTIFICATION (${key(r.event)}) bytesReturned`, trace: String(r.line.bytesReturned), simulator: String(s.bytesReturned) });
      if (eventText(r.event) === eventText(s.event)) checks.agree(id);
      else checks.diverge({ id, line: r.lineNumber, kind: 'eventData', what: `bus event ${key(r.event)}`, trace: eventText(r.event), simulator: eventText(s.event) });
    },
    moved: (r, i, j) => checks.diverge({ id: busEventAssumption(r.event, r.enumeration), line: r.lineNumber, kind: 'eventOrder', what: `bus event ${key(r.event)} order`, trace: `event ${i + 1} of ${recorded.length} (${recorded.map((x) => key(x.event)).join(', ')})`, simulator: `event ${j + 1} of ${sim.length} (${sim.map((x) => key(x.event)).join(', ')})` }),
    missing: (r) => checks.diverge({ id: busEventAssumption(r.event, r.enumeration), line: r.lineNumber, kind: 'missingEvent', what: `bus event ${key(r.event)}`, trace: eventText(r.event), simulator: 'not delivered' }),
    extra: (s, j) => {
      const enumeration = !sim.slice(0, j).some((x) => x.event?.type === 'configured');
      checks.diverge({ id: busEventAssumption(s.event, enumeration), line: undefined, kind: 'extraEvent', what: `bus event ${key(s.event)} (handle ${handle})`, trace: 'not in the trace', simulator: eventText(s.event) });
    },
  });
}

function decodeEvent(output: Uint8Array): UsbfnNotification | undefined {
  return eventOf({ bytesReturned: output.length, output: toHex(output) } as IoctlLine);
}

/**
 * All notifications in delivery order, across registrations (the order between filter types is an assumption
 * too), after the late-delivery draws were set to the trace's where the model allows it.
 */
function compareNotifications(plan: ReplayPlan, replayed: ReplayResult, checks: Checks): void {
  const { trace } = plan;
  const recorded = trace.lines
    .map((line, index) => ({ line, index }))
    .filter((x): x is { line: CmNotificationLine; index: number } => x.line.kind === 'cm')
    .map(({ line, index }) => ({ line, index, lineNumber: trace.lineNumbers[index]! }));
  const { notifications: sim, verdicts, reported } = settleLateDeliveries(plan, replayed);
  for (const v of verdicts) {
    if (v.agreed) checks.agree(LATE_DELIVERY);
    else checks.diverge({ id: LATE_DELIVERY, line: v.line, kind: 'lateDelivery', what: v.what, trace: v.trace, simulator: v.simulator });
  }
  // The outcome of a query-remove no callback vetoed rests on when the open handles were counted.
  const queryRemove = {
    asked: recorded.some((r) => r.line.action === CM_QUERYREMOVE),
    vetoedByCallback: recorded.some((r) => r.line.action === CM_QUERYREMOVE && r.line.result === WIN32_ERROR.ERROR_CANCELLED),
  };
  // Late deliveries the model cannot give are reported once, under cm-unregister-late-delivery.
  const compared = recorded.filter((r) => !reported.has(r.index));
  const label = notificationLabel;
  const order = (list: readonly string[]): string => list.join(', ');
  alignSequences(compared, sim, (r) => `${r.line.registration}:${r.line.action}`, (s) => `${s.registration}:${s.action}`, {
    match: (r, s) => {
      checks.agree(notificationAssumption(r.line.action, 'order'));
      const outcome = queryRemoveOutcomeAssumption(r.line.action, queryRemove);
      if (outcome !== undefined) checks.agree(outcome);
      if (s.eventData === null) return; // the other draw's notification: the model discarded its data
      const [a, b] = [comparableEventData(r.line.eventData), comparableEventData(toHex(s.eventData))];
      const id = notificationAssumption(r.line.action, 'data');
      if (a === b) checks.agree(id);
      else checks.diverge({ id, line: r.lineNumber, kind: 'eventData', what: `${r.line.actionName} event data`, trace: a, simulator: b });
    },
    moved: (r, i, j) =>
      checks.diverge({
        id: notificationAssumption(r.line.action, 'order'),
        line: r.lineNumber,
        kind: 'eventOrder',
        what: `${label(r.line.registration, r.line.action)} order`,
        trace: `notification ${i + 1} of ${compared.length} (${order(compared.map((x) => label(x.line.registration, x.line.action)))})`,
        simulator: `notification ${j + 1} of ${sim.length} (${order(sim.map((x) => label(x.registration, x.action)))})`,
      }),
    missing: (r) => checks.diverge({ id: presenceAssumption(r.line.action, queryRemove), line: r.lineNumber, kind: 'missingEvent', what: label(r.line.registration, r.line.action), trace: 'delivered', simulator: 'not delivered' }),
    extra: (s) => checks.diverge({ id: presenceAssumption(s.action, queryRemove), line: undefined, kind: 'extraEvent', what: label(s.registration, s.action), trace: 'not in the trace', simulator: 'delivered' }),
  });
}

/** The event data as compared: a symbolic link or instance ID belongs to the machine, so only the rest counts. */
function comparableEventData(hex: string): string {
  try {
    const e = decodeCmNotifyEventData(fromHex(hex));
    if (e.filterType === 'deviceInterface') return `interface class ${e.classGuid}`;
    if (e.filterType === 'deviceInstance') return 'device instance';
    return `EventGuid ${e.eventGuid}, NameOffset ${e.nameOffset}, DataSize ${e.data.length}, Data ${toHex(e.data) || '-'}`;
  } catch (err) {
    return `undecodable: ${(err as Error).message}`;
  }
}
