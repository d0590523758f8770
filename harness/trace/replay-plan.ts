/**
 * The plan of a trace replay: the device side's calls in the order they happened (every submission and
 * completion by its `seq`), and the host's and PnP's actions, derived from what the device saw, placed right
 * before the happening they caused:
 *
 * - bus events → the cable (Attach → plug, Detach → unplug), suspend and resume, a reset or configuration
 *   change outside enumeration, and each SetupPacket → the same control request from the host (the OUT data
 *   is what the device's next TRANSFER_OUT on EP0 received);
 * - bulk transfers → a host bulk OUT of the bytes a TRANSFER_OUT received, a host bulk IN of what a
 *   TRANSFER_IN sent;
 * - a halt that reads back cleared → the host's CLEAR_FEATURE(ENDPOINT_HALT), before the setup packet that
 *   asked the device to look;
 * - CM notifications → the interface arriving (power on), a query-remove, a surprise removal, a custom event;
 * - the calls a CM callback made before it returned (their submitSeq lies before the notification's
 *   returnSeq, format version 2) → made again inside the replayed callback, so that a CloseHandle in a
 *   DEVICEQUERYREMOVE callback is closed when the callback returns (docs/reference/documented-vs-inferred.md#cm-open-handle-veto).
 *
 * What the host did that left no trace on the device side (a transfer the device never saw, a stalled read)
 * cannot be derived; docs/reference/device-trace.md#replay lists the limits.
 */
import type { SetupPacket } from '../../core/index.js';
import {
  CM_NOTIFY_ACTION,
  IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
  IOCTL_GENERICUSBFN_GET_CLASS_INFO,
  IOCTL_GENERICUSBFN_GET_PIPE_STATE,
  IOCTL_GENERICUSBFN_SET_PIPE_STATE,
  IOCTL_GENERICUSBFN_TRANSFER_IN,
  IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT,
  IOCTL_GENERICUSBFN_TRANSFER_OUT,
  USBFN_NOTIFICATION_SIZE,
  WIN32_ERROR,
  decodeCmNotifyEventData,
  decodeUsbfnClassInformationPacket,
  decodeUsbfnNotification,
  fromHex,
  type DeviceTrace,
  type IoctlLine,
  type TraceLine,
  type UsbfnClassInformationPacket,
  type UsbfnNotification,
} from '../../device-side/index.js';

/** One point of the recorded order. `index` is the line's position in `trace.lines`. */
export type Happening =
  | { readonly kind: 'submit'; readonly seq: number; readonly index: number }
  | { readonly kind: 'complete'; readonly seq: number; readonly index: number }
  | { readonly kind: 'notify'; readonly seq: number; readonly index: number };

/** What the host (or PnP) does in the replay. */
export type HostAction =
  | { readonly kind: 'attach' | 'detach' | 'suspend' | 'resume' | 'resetPort' | 'powerOn' | 'queryRemove' | 'surpriseRemove' }
  | { readonly kind: 'control'; readonly setup: SetupPacket; readonly data: Uint8Array }
  | { readonly kind: 'bulkOut'; readonly endpoint: number; readonly data: Uint8Array; readonly zeroLengthPacket: boolean }
  | { readonly kind: 'bulkIn'; readonly endpoint: number; readonly length: number }
  | { readonly kind: 'clearHalt'; readonly endpoint: number; readonly wait: boolean }
  | { readonly kind: 'selectConfiguration'; readonly value: number }
  | { readonly kind: 'selectAlternate'; readonly interfaceNumber: number; readonly alternateSetting: number }
  | { readonly kind: 'customEvent'; readonly eventGuid: string; readonly data: Uint8Array; readonly nameOffset: number };

/** What was true on the device side when a line was submitted (for naming the assumption a divergence touches). */
export interface LineContext {
  /** The last setup packet the handle heard before this call. */
  readonly setup?: SetupPacket | undefined;
  /** Other handles open at an open's submission. */
  readonly otherHandlesOpen: number;
  /** The call's pipe is EP0. */
  readonly ep0: boolean;
  /** Bus events: the event was part of an enumeration (from Attach to the first Configured). */
  readonly enumeration: boolean;
}

export interface ReplayPlan {
  readonly trace: DeviceTrace;
  readonly happenings: readonly Happening[];
  /** Actions to run before `happenings[i]`. */
  readonly before: ReadonlyMap<number, readonly HostAction[]>;
  /** Whether the function's device instance is present when the replay starts (else the first arrival powers it). */
  readonly poweredAtStart: boolean;
  /** The bus speed of the first Reset, for the simulated host port. */
  readonly speed: 'full' | 'high' | 'super';
  readonly context: ReadonlyMap<number, LineContext>;
  /** The bus event each completed BUS_EVENT_NOTIFICATION line carried. */
  readonly events: ReadonlyMap<number, UsbfnNotification>;
  /**
   * By notification line index: the lines of the calls its callback made before it returned, in the order
   * they were made (the innermost callback's, should callbacks nest).
   */
  readonly callbackCalls: ReadonlyMap<number, readonly number[]>;
  /** What the plan cannot derive from this trace (a version-1 trace does not say which calls a callback made). */
  readonly notes: readonly string[];
}

/** The USBFNPIPEID input of a pipe IOCTL (USBFNPIPEID, 4 bytes LE), if it has one. */
export function pipeOf(line: IoctlLine): number | undefined {
  if (line.input === null || line.input.length !== 8) return undefined;
  return new DataView(fromHex(line.input).buffer).getUint32(0, true);
}

/** The bus event of a successful BUS_EVENT_NOTIFICATION line (bytes past lpBytesReturned read as zero). */
export function eventOf(line: IoctlLine): UsbfnNotification | undefined {
  if (line.bytesReturned === null || line.output === null || line.bytesReturned < 4) return undefined;
  const buf = new Uint8Array(USBFN_NOTIFICATION_SIZE);
  buf.set(fromHex(line.output).subarray(0, USBFN_NOTIFICATION_SIZE));
  return decodeUsbfnNotification(buf);
}

/** The GET_CLASS_INFO a successful line returned. */
export function classInfoOf(line: IoctlLine): UsbfnClassInformationPacket | undefined {
  if (line.code !== IOCTL_GENERICUSBFN_GET_CLASS_INFO || line.output === null || line.bytesReturned === null || line.dataTruncated === true) return undefined;
  try {
    return decodeUsbfnClassInformationPacket(fromHex(line.output));
  } catch {
    return undefined;
  }
}

interface HandleState {
  info?: UsbfnClassInformationPacket | undefined;
  speed: 'full' | 'high' | 'super';
  ep0: number;
  setup?: SetupPacket | undefined;
  /** Pipes halted by SET_PIPE_STATE(TRUE), with the seq of that completion. */
  readonly halted: Map<number, number>;
  /** Setup-packet completions: happening position and seq. */
  readonly setups: { position: number; seq: number }[];
}

const A = CM_NOTIFY_ACTION;

/**
 * Builds the replay plan of a parsed trace.
 */
export function planReplay(trace: DeviceTrace): ReplayPlan {
  const lines = trace.lines;
  const happenings: Happening[] = [];
  lines.forEach((line, index) => {
    if ('submitSeq' in line) {
      happenings.push({ kind: 'submit', seq: line.submitSeq, index });
      happenings.push({ kind: 'complete', seq: line.seq, index });
    } else if (line.kind === 'cm') happenings.push({ kind: 'notify', seq: line.seq, index });
  });
  happenings.sort((a, b) => a.seq - b.seq);
  const callbackCalls = callsInsideCallbacks(lines);
  const notes: string[] = [];
  if (trace.header.version < 2 && lines.some((l) => l.kind === 'cm')) {
    notes.push(
      `a version-${trace.header.version} trace does not record when a CM callback returned: the calls made after a notification are replayed after the replayed callback returned ` +
        '(a CloseHandle made inside a DEVICEQUERYREMOVE callback then counts as open: record the trace again with this usbfn-hil)',
    );
  }

  const before = new Map<number, HostAction[]>();
  const add = (position: number, action: HostAction): void => {
    const list = before.get(position) ?? [];
    // A clear placed before a setup runs before that setup's control request.
    if (action.kind === 'clearHalt') list.unshift(action);
    else list.push(action);
    before.set(position, list);
  };
  const context = new Map<number, LineContext>();
  const events = new Map<number, UsbfnNotification>();
  const handles = new Map<number, HandleState>();
  const state = (h: number): HandleState => {
    let s = handles.get(h);
    if (s === undefined) handles.set(h, (s = { speed: 'high', ep0: 0, halted: new Map(), setups: [] }));
    return s;
  };
  const openHandles = new Set<number>();
  let attached = false;
  let enumerating = false;
  let powered = poweredAtStartOf(lines);
  const poweredAtStart = powered;
  let speed: ReplayPlan['speed'] | undefined;
  let queryRemoved = false;

  const firstEvents = firstEventOfEachHandle(lines);
  happenings.forEach((h, position) => {
    const line = lines[h.index]!;
    if (h.kind === 'submit') {
      // The device was removed before this call was made (the notification may come later): remove it here.
      if ('win32' in line && line.win32 === WIN32_ERROR.ERROR_DEVICE_REMOVED && powered && !queryRemoved) {
        add(position, { kind: 'surpriseRemove' });
        powered = false;
      }
      if (line.kind === 'open') {
        context.set(h.index, { otherHandlesOpen: openHandles.size, ep0: false, enumeration: false });
        // The handle's first bus event is not Attach: the cable was in before it could hear one.
        const first = line.handle === null ? undefined : firstEvents.get(line.handle);
        if (!attached && first !== undefined && first !== 'attach' && first !== 'detach') {
          add(position, { kind: 'attach' });
          attached = true;
          enumerating = true;
        }
      }
      if (line.kind === 'ioctl') {
        const s = state(line.handle);
        const pipe = pipeOf(line);
        context.set(h.index, { setup: s.setup, otherHandlesOpen: 0, ep0: pipe === s.ep0, enumeration: enumerating });
        if (line.code === IOCTL_GENERICUSBFN_GET_PIPE_STATE && pipe !== undefined) planClear(line, pipe, s, position, add);
      }
      return;
    }
    if (h.kind === 'notify' && line.kind === 'cm') {
      const action = pnpAction(line.action, line.eventData, { powered, queryRemoved });
      if (action !== undefined) add(position, action);
      if (line.action === A.CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL) powered = true;
      if (line.action === A.CM_NOTIFY_ACTION_DEVICEQUERYREMOVE) queryRemoved = true;
      if (action?.kind === 'surpriseRemove') powered = false;
      return;
    }
    // A completion.
    if (line.kind === 'open' && line.handle !== null) openHandles.add(line.handle);
    if (line.kind === 'close') openHandles.delete(line.handle);
    if (line.kind !== 'ioctl' || line.bytesReturned === null) return;
    const s = state(line.handle);
    const pipe = pipeOf(line);
    if (line.code === IOCTL_GENERICUSBFN_GET_CLASS_INFO) {
      s.info = classInfoOf(line);
      const ep0 = [s.info?.fullSpeed, s.info?.highSpeed, s.info?.superSpeed].flatMap((c) => c?.pipes ?? []).find((p) => (p.epDesc.bEndpointAddress & 0x7f) === 0);
      s.ep0 = ep0?.pipeId ?? 0;
      return;
    }
    if (line.code === IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION) {
      const event = eventOf(line);
      if (event === undefined) return;
      events.set(h.index, event);
      context.set(h.index, { setup: s.setup, otherHandlesOpen: 0, ep0: false, enumeration: enumerating || event.type === 'attach' || (!attached && event.type !== 'detach') });
      switch (event.type) {
        case 'attach':
          if (!attached) add(position, { kind: 'attach' });
          attached = true;
          enumerating = true;
          return;
        case 'reset': {
          const sp = event.busSpeed === 3 ? 'super' : event.busSpeed === 1 || event.busSpeed === 0 ? 'full' : 'high';
          speed ??= sp;
          s.speed = sp;
          if (!attached) {
            add(position, { kind: 'attach' });
            attached = true;
            enumerating = true;
          } else if (!enumerating) add(position, { kind: 'resetPort' });
          return;
        }
        case 'configured':
          if (!attached) {
            add(position, { kind: 'attach' });
            attached = true;
          } else if (!enumerating) add(position, { kind: 'selectConfiguration', value: event.configurationValue });
          enumerating = false;
          return;
        case 'unConfigured':
          if (!enumerating) add(position, { kind: 'selectConfiguration', value: 0 });
          return;
        case 'detach':
          add(position, { kind: 'detach' });
          attached = false;
          enumerating = false;
          return;
        case 'suspend':
        case 'resume':
          add(position, { kind: event.type });
          return;
        case 'setInterface':
          add(position, { kind: 'selectAlternate', interfaceNumber: event.interfaceNumber, alternateSetting: event.alternateInterfaceNumber });
          return;
        case 'setupPacket':
          s.setup = event.setupPacket;
          s.setups.push({ position, seq: h.seq });
          add(position, { kind: 'control', setup: event.setupPacket, data: outData(lines, line.handle, h.seq, s.ep0, event.setupPacket) });
          return;
        default:
          return;
      }
    }
    if (pipe === undefined || pipe === s.ep0) return;
    const endpoint = endpointOf(s, pipe);
    if (line.code === IOCTL_GENERICUSBFN_SET_PIPE_STATE) {
      if (line.outputData === '01') s.halted.set(pipe, h.seq);
      else s.halted.delete(pipe);
      return;
    }
    if (endpoint === undefined) return;
    const mps = maxPacketOf(s, pipe);
    if (line.code === IOCTL_GENERICUSBFN_TRANSFER_OUT) {
      const n = line.bytesReturned;
      const data = new Uint8Array(n);
      if (line.output !== null) data.set(fromHex(line.output).subarray(0, n));
      // The transfer ended before its buffer was full on an exact multiple: a ZLP ended it.
      const zlp = n % mps === 0 && (line.outputSize ?? 0) > n;
      add(position, { kind: 'bulkOut', endpoint, data, zeroLengthPacket: zlp });
    } else if (line.code === IOCTL_GENERICUSBFN_TRANSFER_IN || line.code === IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT) {
      const n = line.bytesReturned;
      const trailingZlp = n === 0 || (line.code === IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT && n % mps === 0);
      add(position, { kind: 'bulkIn', endpoint, length: trailingZlp ? n + mps : n });
    }
  });
  return { trace, happenings, before, poweredAtStart, speed: speed ?? 'high', context, events, callbackCalls, notes };
}

/** The calls each callback made before it returned: a submitSeq between the notification's seq and its returnSeq. */
function callsInsideCallbacks(lines: readonly TraceLine[]): Map<number, number[]> {
  const callbacks = lines
    .map((line, index) => ({ line, index }))
    .filter((x): x is { line: TraceLine & { kind: 'cm'; returnSeq: number }; index: number } => x.line.kind === 'cm' && x.line.returnSeq !== undefined)
    .sort((a, b) => b.line.seq - a.line.seq); // innermost (latest entered) first
  const calls = lines
    .map((line, index) => ({ line, index }))
    .filter((x): x is { line: Extract<TraceLine, { submitSeq: number }>; index: number } => 'submitSeq' in x.line)
    .sort((a, b) => a.line.submitSeq - b.line.submitSeq);
  const out = new Map<number, number[]>();
  for (const { line, index } of calls) {
    const cb = callbacks.find((c) => c.line.seq < line.submitSeq && line.submitSeq < c.line.returnSeq);
    if (cb !== undefined) out.set(cb.index, [...(out.get(cb.index) ?? []), index]);
  }
  return out;
}

/** The type of the first bus event each handle heard. */
function firstEventOfEachHandle(lines: readonly TraceLine[]): Map<number, string> {
  const first = new Map<number, { seq: number; type: string }>();
  for (const line of lines) {
    if (line.kind !== 'ioctl' || line.code !== IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION) continue;
    const event = eventOf(line);
    if (event === undefined) continue;
    const had = first.get(line.handle);
    if (had === undefined || line.seq < had.seq) first.set(line.handle, { seq: line.seq, type: event.type });
  }
  return new Map([...first].map(([h, e]) => [h, e.type]));
}

/** The function is present at the start unless the first interface list of the trace was empty. */
function poweredAtStartOf(lines: readonly TraceLine[]): boolean {
  const list = lines.find((l) => l.kind === 'cmCall' && l.api === 'CM_Get_Device_Interface_ListW' && l.links !== undefined);
  return list === undefined || (list.kind === 'cmCall' && (list.links?.length ?? 0) > 0);
}

function pnpAction(action: number, eventDataHex: string, now: { powered: boolean; queryRemoved: boolean }): HostAction | undefined {
  switch (action) {
    case A.CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL:
    case A.CM_NOTIFY_ACTION_DEVICEINSTANCEENUMERATED:
      return now.powered ? undefined : { kind: 'powerOn' };
    case A.CM_NOTIFY_ACTION_DEVICEQUERYREMOVE:
      return now.queryRemoved ? undefined : { kind: 'queryRemove' };
    case A.CM_NOTIFY_ACTION_DEVICEREMOVEPENDING:
    case A.CM_NOTIFY_ACTION_DEVICEREMOVECOMPLETE:
    case A.CM_NOTIFY_ACTION_DEVICEINTERFACEREMOVAL:
      return now.powered && !now.queryRemoved ? { kind: 'surpriseRemove' } : undefined;
    case A.CM_NOTIFY_ACTION_DEVICECUSTOMEVENT: {
      const ev = decodeCmNotifyEventData(fromHex(eventDataHex));
      return ev.filterType === 'deviceHandle' ? { kind: 'customEvent', eventGuid: ev.eventGuid, data: ev.data, nameOffset: ev.nameOffset } : undefined;
    }
    default:
      return undefined;
  }
}

/** The OUT data of a setup: what the handle's next TRANSFER_OUT on EP0 received, before the next setup. */
function outData(lines: readonly TraceLine[], handle: number, afterSeq: number, ep0: number, setup: SetupPacket): Uint8Array {
  if ((setup.bmRequestType & 0x80) !== 0 || setup.wLength === 0) return new Uint8Array(0);
  const data = new Uint8Array(setup.wLength);
  const next = lines
    .filter((l): l is IoctlLine => l.kind === 'ioctl' && l.handle === handle && l.submitSeq > afterSeq)
    .sort((a, b) => a.submitSeq - b.submitSeq)
    .find((l) => l.code === IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION ? false : l.code === IOCTL_GENERICUSBFN_TRANSFER_OUT && pipeOf(l) === ep0);
  if (next?.output != null && next.bytesReturned !== null) data.set(fromHex(next.output).subarray(0, Math.min(next.bytesReturned, setup.wLength)));
  return data;
}

/**
 * A GET_PIPE_STATE that reads FALSE on a pipe the device halted: the host cleared the halt in between. The
 * clear goes before the setup packet that asked the device to look (EP0 is idle then), else right before
 * the GET_PIPE_STATE (not waited for: a control transfer may still be on EP0).
 */
function planClear(line: IoctlLine, pipe: number, s: HandleState, position: number, add: (position: number, action: HostAction) => void): void {
  const haltedAt = s.halted.get(pipe);
  if (haltedAt === undefined || line.output === '01') return;
  if (line.output !== null && line.output !== '00') return;
  const endpoint = endpointOf(s, pipe);
  if (endpoint === undefined) return;
  s.halted.delete(pipe);
  const setup = [...s.setups].reverse().find((x) => x.seq > haltedAt && x.position < position);
  if (setup !== undefined) add(setup.position, { kind: 'clearHalt', endpoint, wait: true });
  else add(position, { kind: 'clearHalt', endpoint, wait: false });
}

function endpointOf(s: HandleState, pipe: number): number | undefined {
  const ci = s.speed === 'super' ? s.info?.superSpeed : s.speed === 'full' ? s.info?.fullSpeed : s.info?.highSpeed;
  return ci?.pipes.find((p) => p.pipeId === pipe)?.epDesc.bEndpointAddress;
}

function maxPacketOf(s: HandleState, pipe: number): number {
  const ci = s.speed === 'super' ? s.info?.superSpeed : s.speed === 'full' ? s.info?.fullSpeed : s.info?.highSpeed;
  const mps = (ci?.pipes.find((p) => p.pipeId === pipe)?.epDesc.wMaxPacketSize ?? 512) & 0x7ff;
  return mps === 0 ? 512 : mps;
}
