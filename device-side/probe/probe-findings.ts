/**
 * What the device probe saw, and what it settles: one verdict per inferred behaviour, by its id in
 * docs/reference/documented-vs-inferred.md, and the driver settings the observations call for
 * (docs/win32-backend.md#driver-settings). Pure functions of the observations, so each verdict is testable
 * without a device.
 */
import type { ProbeFinding } from '../../core/index.js';
import { WIN32_ERROR } from '../abi/index.js';
import type { UsbFnDriverSettings, ZeroLengthInSetting } from '../driver-settings.js';

const ERROR_ACCESS_DENIED = WIN32_ERROR.ERROR_ACCESS_DENIED;

/** One BUS_EVENT_NOTIFICATION completion as the probe saw it. */
export interface ObservedBusEvent {
  readonly type: string;
  readonly bytesReturned: number;
  /** A Reset's bus speed (`full`, `high`, `super`, …). */
  readonly speed?: string | undefined;
  /** The 12-byte buffer after completion (it was filled with 0xCC before the request). */
  readonly raw: string;
}

/** One attempt at a status handshake for a no-data request. */
export interface HandshakeAttempt {
  readonly direction: 'in' | 'out';
  /** `ok`, the Win32 error name, or `timeout` (still pending after the probe's bound; then cancelled). */
  readonly outcome: string;
}

/** One attempt at a 0-byte TRANSFER_IN. */
export interface ZeroLengthAttempt {
  readonly variant: ZeroLengthInSetting;
  /** `ok` (with bytesReturned), the Win32 error name, or `timeout`. */
  readonly outcome: string;
  readonly bytesReturned?: number | undefined;
}

/** Everything the device probe records for its verdicts. */
export interface DeviceObservations {
  /** GET_CLASS_INFO before ACTIVATE_USB_BUS: lpBytesReturned, or the Win32 error name. */
  classInfoBytesReturned?: number | undefined;
  classInfoError?: string | undefined;
  /** PipeArr entries of every speed. */
  pipes?: readonly { readonly speed: string; readonly pipeId: number; readonly endpointAddress: number; readonly attributes: number }[];
  /** Bus events from the first one to Configured, in completion order. */
  readonly enumerationEvents: ObservedBusEvent[];
  /** Every bus event, in completion order. */
  readonly busEvents: ObservedBusEvent[];
  /** The USBFNPIPEID the probe used for EP0. */
  ep0PipeId?: number | undefined;
  /** No-data requests: which direction was asked for first, and every attempt. */
  readonly noData: { readonly first: 'in' | 'out'; readonly attempts: HandshakeAttempt[] }[];
  /** IN data stage: bytes asked for and the TRANSFER_IN outcome. */
  inData?: { readonly length: number; readonly outcome: string } | undefined;
  /** OUT data stage: bytes asked for, received, and whether they were the pattern. */
  outData?: { readonly length: number; readonly received: number; readonly matches: boolean; readonly outcome: string } | undefined;
  /** The 0-byte TRANSFER_IN attempts, in order. */
  readonly zeroLength: ZeroLengthAttempt[];
  /** SET_PIPE_STATE(TRUE) then GET_PIPE_STATE; GET_PIPE_STATE after the host cleared the halt. */
  halt?: { readonly setOutcome: string; readonly stateAfterSet: boolean | undefined; stateAfterClear?: boolean | undefined } | undefined;
  /** The second CreateFileW while the first handle is open: 0 when it succeeded, else the Win32 error. */
  secondOpen?: { readonly win32: number; readonly win32Name: string } | undefined;
}

/** An empty set of observations. */
export function newObservations(): DeviceObservations {
  return { enumerationEvents: [], busEvents: [], noData: [], zeroLength: [] };
}

const notSettled = (id: string, why: string): ProbeFinding => ({ id, verdict: 'not-settled', observed: why });

/** GET_CLASS_INFO returns 748 bytes and every BUS_EVENT_NOTIFICATION 12. */
function bytesReturned(o: DeviceObservations): ProbeFinding {
  const id = 'drv-bytes-returned';
  if (o.classInfoBytesReturned === undefined && o.busEvents.length === 0) return notSettled(id, 'neither GET_CLASS_INFO nor a bus event completed');
  const counts = [...new Set(o.busEvents.map((e) => e.bytesReturned))];
  const ok = (o.classInfoBytesReturned === undefined || o.classInfoBytesReturned === 748) && counts.every((n) => n === 12);
  const observed = `GET_CLASS_INFO lpBytesReturned ${o.classInfoBytesReturned ?? 'n/a'}; BUS_EVENT_NOTIFICATION lpBytesReturned ${counts.length === 0 ? 'n/a' : counts.join(', ')} over ${o.busEvents.length} events`;
  return { id, verdict: ok ? 'confirmed' : 'refuted', observed };
}

/** GET_CLASS_INFO is accepted before ACTIVATE_USB_BUS. */
function earlyIoctls(o: DeviceObservations): ProbeFinding {
  const id = 'drv-early-ioctls';
  if (o.classInfoError !== undefined) return { id, verdict: 'refuted', observed: `GET_CLASS_INFO before ACTIVATE_USB_BUS failed with ${o.classInfoError}` };
  if (o.classInfoBytesReturned === undefined) return notSettled(id, 'GET_CLASS_INFO did not complete');
  return { id, verdict: 'confirmed', observed: 'GET_CLASS_INFO before ACTIVATE_USB_BUS succeeded' };
}

/** PipeArr omits EP0, interface endpoints are PipeIds 1..n, and EP0 replies on pipe 0 work. */
function pipeIds(o: DeviceObservations): ProbeFinding {
  const id = 'drv-pipe-ids';
  if (o.pipes === undefined) return notSettled(id, 'GET_CLASS_INFO did not complete');
  const ep0 = o.pipes.filter((p) => (p.endpointAddress & 0x7f) === 0);
  const perSpeed = new Map<string, number[]>();
  for (const p of o.pipes) if ((p.endpointAddress & 0x7f) !== 0) perSpeed.set(p.speed, [...(perSpeed.get(p.speed) ?? []), p.pipeId]);
  const oneToN = [...perSpeed.values()].every((ids) => ids.every((pid, i) => pid === i + 1));
  const ep0Worked = o.noData.some((r) => r.attempts.some((a) => a.outcome === 'ok')) || o.inData?.outcome === 'ok';
  const list = o.pipes.map((p) => `${p.speed} 0x${p.endpointAddress.toString(16).padStart(2, '0')}→${p.pipeId}`).join(', ');
  const observed = `PipeArr ${list || '(empty)'}; EP0 ${ep0.length === 0 ? 'not listed' : `listed as PipeId ${ep0[0]!.pipeId}`}; control replies on pipe ${o.ep0PipeId ?? 0} ${ep0Worked ? 'worked' : 'not confirmed'}`;
  if (!ep0Worked) return { id, verdict: 'not-settled', observed };
  return { id, verdict: ep0.length === 0 && oneToN ? 'confirmed' : 'refuted', observed };
}

/** Either handshake direction is accepted for a no-data request. */
function noDataHandshake(o: DeviceObservations): ProbeFinding {
  const id = 'drv-no-data-handshake';
  if (o.noData.length === 0) return notSettled(id, 'no no-data request arrived');
  const firstOk = (dir: 'in' | 'out'): boolean | undefined => {
    const r = o.noData.find((x) => x.first === dir);
    return r === undefined ? undefined : r.attempts[0]?.outcome === 'ok';
  };
  const describe = o.noData.map((r) => `${r.first.toUpperCase()} first: ${r.attempts.map((a) => `HANDSHAKE_${a.direction.toUpperCase()} ${a.outcome}`).join(', then ')}`).join('; ');
  const inOk = firstOk('in');
  const outOk = firstOk('out');
  if (inOk === undefined || outOk === undefined) return { id, verdict: 'not-settled', observed: `${describe} (both directions must be tried first once)` };
  return { id, verdict: inOk && outOk ? 'confirmed' : 'refuted', observed: describe };
}

/** A 0-byte TRANSFER_IN (no buffer) goes out as one ZLP. */
function zeroLengthIn(o: DeviceObservations): ProbeFinding {
  const id = 'link-zero-length-in';
  const first = o.zeroLength[0];
  if (first === undefined) return notSettled(id, 'no 0-byte TRANSFER_IN was asked for');
  const observed = o.zeroLength.map((a) => `${a.variant}: ${a.outcome}${a.bytesReturned === undefined ? '' : ` (${a.bytesReturned} bytes)`}`).join(', ');
  return { id, verdict: first.variant === 'null-buffer' && first.outcome === 'ok' && first.bytesReturned === 0 ? 'confirmed' : 'refuted', observed };
}

/** The device is exclusive: a second CreateFileW while a handle is open fails with ERROR_ACCESS_DENIED (5). */
function exclusiveOpen(o: DeviceObservations): ProbeFinding {
  const id = 'drv-exclusive-open';
  if (o.secondOpen === undefined) return notSettled(id, 'the second open was not tried');
  const observed = o.secondOpen.win32 === 0 ? 'a second CreateFileW succeeded' : `a second CreateFileW failed with ${o.secondOpen.win32Name}(${o.secondOpen.win32})`;
  return { id, verdict: o.secondOpen.win32 === ERROR_ACCESS_DENIED ? 'confirmed' : 'refuted', observed };
}

/**
 * From cable insertion: Attach, then the resets of the host's port init, then Configured. The simulated host
 * enumerates as Linux usbcore does: below SuperSpeed a reset, GET_DESCRIPTOR(64), a second reset and
 * SET_ADDRESS; at SuperSpeed one reset (docs/simulator-link.md#enumeration).
 */
function enumerationEvents(o: DeviceObservations): ProbeFinding {
  const id = 'drv-enumeration-events';
  const seen = o.enumerationEvents.map((e) => e.type);
  if (!seen.includes('configured')) return notSettled(id, `the host did not configure the device (events: ${seen.join(', ') || 'none'})`);
  const speed = o.enumerationEvents.find((e) => e.type === 'reset')?.speed;
  const expected = ['attach', ...(speed === 'super' ? ['reset'] : ['reset', 'reset']), 'configured'];
  const observed = `events up to Configured: ${seen.join(', ')}${speed === undefined ? '' : ` (${speed} speed)`}`;
  return { id, verdict: seen.join(',') === expected.join(',') ? 'confirmed' : 'refuted', observed };
}

/** The verdicts, in the order the probe walks its steps. */
export function probeFindings(o: DeviceObservations): ProbeFinding[] {
  return [earlyIoctls(o), bytesReturned(o), pipeIds(o), enumerationEvents(o), noDataHandshake(o), zeroLengthIn(o), exclusiveOpen(o)];
}

/** The driver settings the observations call for; a setting the probe could not settle is left out. */
export function recommendedSettings(o: DeviceObservations): Partial<UsbFnDriverSettings> {
  const out: { -readonly [K in keyof UsbFnDriverSettings]?: UsbFnDriverSettings[K] } = {};
  const counts = o.busEvents.map((e) => e.bytesReturned);
  if (counts.length > 0) out.busEventBytes = counts.every((n) => n === 12) ? 'strict' : 'tolerant';
  const ep0 = o.pipes?.find((p) => (p.endpointAddress & 0x7f) === 0);
  if (o.pipes !== undefined) out.ep0PipeId = ep0 === undefined ? 'auto' : ep0.pipeId;
  const worked = (dir: 'in' | 'out'): boolean => o.noData.some((r) => r.attempts.some((a) => a.direction === dir && a.outcome === 'ok'));
  const refused = (dir: 'in' | 'out'): boolean => o.noData.some((r) => r.attempts.some((a) => a.direction === dir && a.outcome !== 'ok'));
  if (worked('in') && !refused('in')) out.statusHandshake = 'in';
  else if (worked('out') && !refused('out')) out.statusHandshake = 'out';
  else if (worked('in') || worked('out')) out.statusHandshake = 'auto';
  const zlp = o.zeroLength.find((a) => a.outcome === 'ok');
  if (zlp !== undefined) out.zeroLengthIn = zlp.variant;
  return out;
}
