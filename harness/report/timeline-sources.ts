/**
 * Adapters from each world's records to {@link TimelineItem}s: the usbmon capture (host URBs, both
 * worlds), the device event log (the service, both worlds), and the simulator's driver and Configuration
 * Manager logs (sim; in lab the device trace carries the same facts).
 */
import { hex, USB_DT, USB_REQUEST, type HarnessErrorJSON } from '../../core/index.js';
import type { DeviceLogEntry } from '../../device-side/index.js';
import type { CmLogEntry, DriverLogEntry, UrbEvent } from '../../simulator/index.js';
import type { TimelineItem, TimelineMark } from './timeline-model.js';

/** Linux errno values usbmon reports in a completion's status. */
const ERRNO_NAME: Readonly<Record<number, string>> = {
  [-2]: 'ENOENT',
  [-19]: 'ENODEV',
  [-32]: 'EPIPE',
  [-71]: 'EPROTO',
  [-75]: 'EOVERFLOW',
  [-104]: 'ECONNRESET',
  [-108]: 'ESHUTDOWN',
  [-110]: 'ETIMEDOUT',
  [-121]: 'EREMOTEIO',
};

const REQUEST_NAME = new Map<number, string>(Object.entries(USB_REQUEST).map(([name, code]) => [code, name]));
const DESCRIPTOR_NAME = new Map<number, string>(Object.entries(USB_DT).map(([name, code]) => [code, name]));

/** A control URB in words: the standard request by name, anything else by its fields. */
function describeSetup(s: Uint8Array): string {
  const bmRequestType = s[0]!;
  const bRequest = s[1]!;
  const wValue = s[2]! | (s[3]! << 8);
  const wIndex = s[4]! | (s[5]! << 8);
  const wLength = s[6]! | (s[7]! << 8);
  const type = (bmRequestType >> 5) & 3;
  const name = type === 0 ? REQUEST_NAME.get(bRequest) : undefined;
  if (name === 'GET_DESCRIPTOR') {
    const dt = DESCRIPTOR_NAME.get(wValue >> 8) ?? hex(wValue >> 8);
    return `GET_DESCRIPTOR(${dt}${(wValue & 0xff) === 0 ? '' : ` ${wValue & 0xff}`}, ${wLength})`;
  }
  if (name !== undefined) return `${name}(${wValue})`;
  const kind = ['standard', 'class', 'vendor', 'reserved'][type]!;
  const dir = (bmRequestType & 0x80) !== 0 ? 'IN' : 'OUT';
  return `${kind} ${dir} ${hex(bRequest)} wValue ${hex(wValue, 4)} wIndex ${wIndex} wLength ${wLength}`;
}

function describeUrb(submit: UrbEvent): string {
  if (submit.transferType === 'control' && submit.setup !== undefined && submit.setup.length >= 8) return describeSetup(submit.setup);
  const dir = (submit.endpoint & 0x80) !== 0 ? 'IN' : 'OUT';
  return `${submit.transferType} ${dir} ${hex(submit.endpoint)}`;
}

function urbMark(complete: UrbEvent | undefined): TimelineMark {
  if (complete === undefined) return 'info';
  if (complete.status === -32) return 'stall';
  if (complete.status === -104 || complete.status === -2) return 'cancelled';
  if (complete.status !== 0 && complete.status !== -121) return 'error';
  if (complete.length === 0) return 'zlp';
  if (complete.status === -121) return 'short';
  return 'ok';
}

/**
 * Host URBs from usbmon events: one span per URB from submission to completion. A URB that never
 * completed within the capture ends at the capture's last event and is marked so.
 */
export function urbItems(events: readonly UrbEvent[]): TimelineItem[] {
  const submits = new Map<number, UrbEvent>();
  const out: TimelineItem[] = [];
  let lastUs = 0;
  for (const e of events) lastUs = Math.max(lastUs, e.timeUs);
  for (const e of events) {
    if (e.kind === 'S') {
      submits.set(e.urbId, e);
      continue;
    }
    const s = submits.get(e.urbId);
    submits.delete(e.urbId);
    const startUs = s?.timeUs ?? e.timeUs;
    const what = s === undefined ? `${e.transferType} ${hex(e.endpoint)}` : describeUrb(s);
    const status = e.status === 0 ? 'ok' : (ERRNO_NAME[e.status] ?? String(e.status));
    const mark = e.kind === 'E' ? 'error' : urbMark(e);
    out.push({
      lane: 'host',
      startMs: startUs / 1000,
      endMs: e.timeUs / 1000,
      label: `${what}${mark === 'zlp' ? ' ZLP' : ` ${e.length} B`}${status === 'ok' ? '' : ` ${status}`}`,
      detail: `URB ${e.urbId}: ${what}, requested ${s?.length ?? '?'} B, ${e.kind === 'E' ? 'submission error' : 'completed'} with ${e.length} B, status ${e.status} (${status})`,
      mark,
    });
  }
  for (const s of submits.values()) {
    out.push({
      lane: 'host',
      startMs: s.timeUs / 1000,
      endMs: lastUs / 1000,
      label: `${describeUrb(s)} (pending)`,
      detail: `URB ${s.urbId} was still pending when the capture ended`,
      mark: 'info',
    });
  }
  return out;
}

function errorText(e: HarnessErrorJSON | undefined): string | undefined {
  return e === undefined ? undefined : `${e.code}: ${e.message}`;
}

/** The device-side service's event log: bus events on the bus lane, everything else on the service lane. */
export function deviceLogItems(entries: readonly DeviceLogEntry[]): TimelineItem[] {
  return entries.map((e) => {
    const d = e.detail ?? {};
    const onBus = e.kind === 'busEvent';
    const label = onBus ? String(d['event'] ?? d['type'] ?? 'busEvent') : e.kind;
    const detail = [JSON.stringify(d), errorText(e.error)].filter((x) => x !== undefined && x !== '{}').join(' — ');
    const mark: TimelineMark = e.level === 'error' ? 'error' : e.level === 'warn' ? 'cancelled' : 'info';
    return { lane: onBus ? 'bus' : 'service', startMs: e.timeMs, label, detail: detail === '' ? undefined : detail, mark };
  });
}

/** The simulated driver's log: IOCTLs as spans (submission → completion) on the driver lane. */
export function driverLogItems(entries: readonly DriverLogEntry[]): TimelineItem[] {
  const out: TimelineItem[] = [];
  for (const e of entries) {
    if (e.kind !== 'ioctl') continue;
    const name = e.ioctl.replace(/^IOCTL_GENERICUSBFN_/, '');
    const pipe = e.pipe === undefined ? '' : ` pipe ${e.pipe}`;
    const isTransfer = name.startsWith('TRANSFER_');
    const mark: TimelineMark =
      e.win32 === 995 ? 'cancelled' : e.win32 !== 0 ? 'error' : isTransfer && e.bytesReturned === 0 ? 'zlp' : 'ok';
    out.push({
      lane: 'driver',
      startMs: e.submittedMs,
      endMs: e.timeMs,
      label: `${name}${pipe}${isTransfer ? ` ${e.bytesReturned} B` : ''}${e.win32 === 0 ? '' : ` ${e.outcome}`}`,
      detail: `${e.ioctl} on handle ${e.handle}${pipe}: buffer ${e.bytes} B, returned ${e.bytesReturned} B, ${e.outcome}`,
      mark,
    });
  }
  return out;
}

/** The simulated Configuration Manager's log: deliveries and PnP operations as instants. */
export function cmLogItems(entries: readonly CmLogEntry[]): TimelineItem[] {
  return entries.map((e) => {
    if (e.kind === 'pnp') {
      return {
        lane: 'cm',
        startMs: e.timeMs,
        label: `${e.op} → ${e.outcome}`,
        detail: `${e.op} ${e.instanceId}: ${e.outcome}${e.detail === undefined ? '' : ` (${e.detail})`}`,
        mark: e.outcome === 'vetoed' ? 'cancelled' : 'info',
      } satisfies TimelineItem;
    }
    const action = e.actionName.replace(/^CM_NOTIFY_ACTION_/, '');
    return {
      lane: 'cm',
      startMs: e.timeMs,
      label: `${action}${e.outcome === 'delivered' ? '' : ` (${e.outcome})`}`,
      detail: `${e.actionName} to ${e.filterType} registration ${e.registrationId} for ${e.target}: ${e.outcome}` +
        (e.effectiveResult === 1223 ? ', vetoed (ERROR_CANCELLED)' : '') +
        (e.error === undefined ? '' : `, ${e.error.message}`),
      mark: e.outcome === 'dropped' ? 'error' : e.outcome === 'discarded' ? 'cancelled' : 'info',
    } satisfies TimelineItem;
  });
}
