/**
 * `runDeviceProbe`: the device half of first light (`usbfn-hil device probe`, docs/first-light.md). On the
 * Windows device, over any {@link UsbFnPort}, it walks Microsoft's flow one raw IOCTL at a time and prints
 * each with its buffers, byte counts and status (the device trace, also written to a file):
 *
 * 1. find the function's interface (list, else wait for its arrival) and CreateFileW it;
 * 2. GET_CLASS_INFO before ACTIVATE_USB_BUS, with the raw PipeArr (drv-early-ioctls, drv-bytes-returned, drv-pipe-ids);
 * 3. ACTIVATE_USB_BUS, then BUS_EVENT_NOTIFICATIONs outstanding while the operator plugs the cable: every
 *    event with its raw 12 bytes and lpBytesReturned until Configured (drv-bytes-returned, drv-enumeration-events);
 * 4. the host probe's requests, one device step each (core/probe-protocol.ts): no-data requests answered
 *    HANDSHAKE_IN first and HANDSHAKE_OUT first (drv-no-data-handshake), an IN and an OUT data stage on EP0
 *    (drv-pipe-ids), a 0-byte TRANSFER_IN (link-zero-length-in), a halt and its clear, a second
 *    CreateFileW (drv-exclusive-open), and REPORT, which returns the findings to the host and ends the probe.
 *
 * One deadline bounds the whole probe; every step's outcome lands in the result, also when the probe stops
 * early. The result names each assumption with its verdict and the driver settings the observations call for.
 */
import { AbortedError, HarnessError, TimeoutError, untilAborted, UsageError, withTimeout, type HarnessErrorJSON, type ProbeFinding, type SetupPacket } from '../../core/index.js';
import {
  CM_NOTIFY_ACTION,
  IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS,
  IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
  IOCTL_GENERICUSBFN_GET_CLASS_INFO,
  USBFN_CLASS_INFORMATION_PACKET_SIZE,
  USBFN_NOTIFICATION_SIZE,
  busSpeedName,
  decodeCmNotifyEventData,
  decodeUsbfnClassInformationPacket,
  decodeUsbfnNotification,
  normalizeGuid,
  type UsbfnClassInformationPacket,
  type UsbfnNotification,
} from '../abi/index.js';
import type { UsbFnDriverSettings } from '../driver-settings.js';
import { listInterfaces } from '../list-interfaces.js';
import { resolveEp0PipeId } from '../service/index.js';
import { PrintingTraceSink, recordingPort, TeeTraceSink, toHex, type RecordingUsbFnPort, type TraceSink } from '../trace/index.js';
import type { CmRegistration, UsbFnFile, UsbFnPort } from '../usbfn-port.js';
import { newObservations, probeFindings, recommendedSettings, type DeviceObservations, type ObservedBusEvent } from './probe-findings.js';
import { ProbeResponder } from './probe-responder.js';

/** Options of {@link runDeviceProbe}. */
export interface DeviceProbeOptions {
  readonly port: UsbFnPort;
  /** The function's InterfaceGUID (the USBFN registry configuration). */
  readonly interfaceClassGuid: string;
  /** Where the probe's lines go (the terminal). */
  readonly print: (line: string) => void;
  /** Also write the device trace here (e.g. a JsonLinesFileSink); it is closed at the end. */
  readonly trace?: TraceSink | undefined;
  /** The trace header's backend. Default: the port's class name. */
  readonly backend?: string | undefined;
  /** One deadline for the whole probe, plugging the cable and the host probe included. Default 180 s. */
  readonly timeoutMs?: number | undefined;
  /** Bound on one handshake attempt before the other direction is tried. Default 1000 ms. */
  readonly attemptTimeoutMs?: number | undefined;
  /** Bound on one 0-byte TRANSFER_IN. Default 10 s. */
  readonly zeroLengthTimeoutMs?: number | undefined;
  /** BUS_EVENT_NOTIFICATION requests kept outstanding. Default 4. */
  readonly busEventDepth?: number | undefined;
  /** What to tell the operator to run on the host, e.g. `usbfn-hil probe --vid 0x1209 --pid 0x0001`. */
  readonly hostCommand?: string | undefined;
}

/** The JSON result of a device probe (docs/first-light.md#the-result-file). */
export interface DeviceProbeResult {
  readonly format: 'usbfn-hil-probe-result';
  readonly version: 1;
  /** True when the host's REPORT request was answered: every step ran. */
  readonly complete: boolean;
  readonly startedAt: string;
  readonly symbolicLink: string | undefined;
  /** One verdict per assumption id. */
  readonly findings: readonly ProbeFinding[];
  /** The driver settings the observations call for (docs/win32-backend.md#driver-settings). */
  readonly recommendedSettings: Partial<UsbFnDriverSettings>;
  readonly observations: DeviceObservations;
  /** What stopped the probe early. */
  readonly error?: HarnessErrorJSON | undefined;
}

const FILL = 0xcc;

/** A bus event as decoded and as observed. */
interface QueuedEvent {
  readonly event: UsbfnNotification;
  readonly observed: ObservedBusEvent;
}

/** A queue of bus events with one waiting consumer. */
class EventQueue {
  readonly #items: QueuedEvent[] = [];
  #waiter: ((e: QueuedEvent) => void) | undefined;

  push(e: QueuedEvent): void {
    const w = this.#waiter;
    if (w !== undefined) {
      this.#waiter = undefined;
      w(e);
    } else this.#items.push(e);
  }

  next(): Promise<QueuedEvent> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve) => (this.#waiter = resolve));
  }
}

/**
 * Runs the device probe; resolves with its result (also when it stopped early: then `complete` is false and
 * `error` says why). Only bad options throw.
 * @throws UsageError INVALID_ARGUMENT for a bad GUID or timeout.
 */
export async function runDeviceProbe(options: DeviceProbeOptions): Promise<DeviceProbeResult> {
  const guid = normalizeGuid(options.interfaceClassGuid);
  const timeoutMs = options.timeoutMs ?? 180_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError('INVALID_ARGUMENT', `probe timeout ${timeoutMs} ms: give a positive number of ms`);
  const print = options.print;
  const sink = new TeeTraceSink(new PrintingTraceSink((l) => print(`  ${l}`)), ...(options.trace === undefined ? [] : [options.trace]));
  const port = recordingPort(options.port, sink, { backend: options.backend });
  const clock = port.clock;
  const startedAt = new Date().toISOString();
  const o = newObservations();
  const stop = new AbortController();
  const deadline = clock.setTimer(timeoutMs, () => stop.abort(new TimeoutError('device probe', timeoutMs, 'plug the cable and run the host probe within the deadline, or give a longer --timeout')));
  const step = (text: string): void => {
    print(`\n${text}`);
    port.note(text);
  };
  let link: string | undefined;
  let file: UsbFnFile | undefined;
  const registrations: CmRegistration[] = [];
  let complete = false;
  let error: unknown;
  try {
    step(`step 1: find the interface ${guid} and open it`);
    link = await findInterface(port, guid, stop.signal, registrations, print);
    file = await port.open(link);
    registrations.push(await port.watchHandle(file, (action, data) => onHandleEvent(action, data, file, stop, print)));

    step('step 2: GET_CLASS_INFO before ACTIVATE_USB_BUS (settles drv-early-ioctls, drv-bytes-returned, drv-pipe-ids: is EP0 in PipeArr?)');
    const info = await classInfo(file, o, stop.signal, print);
    const ep0 = resolveEp0PipeId('auto', info);
    o.ep0PipeId = ep0.pipeId;
    print(`EP0 pipe id: ${ep0.pipeId} (${ep0.source === 'PipeArr' ? 'listed in PipeArr' : 'PipeArr does not list EP0: pipe 0'})`);

    step('step 3: ACTIVATE_USB_BUS');
    await file.ioctl(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, null, null, { signal: stop.signal });

    step(
      `step 4: bus events (settles drv-bytes-returned, drv-enumeration-events). NOW PLUG THE CABLE into the host PC and run ` +
        `\`${options.hostCommand ?? 'usbfn-hil probe --vid <VID> --pid <PID>'}\` there (waiting up to ${Math.round(timeoutMs / 1000)} s in all)`,
    );
    const events = new EventQueue();
    let speed: string | undefined;
    let configured = false;
    pumpBusEvents(file, options.busEventDepth ?? 4, o, events, stop, print);
    const responder = new ProbeResponder({
      port,
      file,
      symbolicLink: link,
      clock,
      observations: o,
      ep0PipeId: ep0.pipeId,
      pipeFor: (address) => pipeFor(info, speed, address),
      signal: stop.signal,
      attemptTimeoutMs: options.attemptTimeoutMs ?? 1000,
      zeroLengthTimeoutMs: options.zeroLengthTimeoutMs ?? 10_000,
      print,
      report: () => new TextEncoder().encode(JSON.stringify({ findings: probeFindings(o), recommendedSettings: recommendedSettings(o) })),
    });
    while (!responder.done) {
      const { event, observed } = await untilAborted(events.next(), stop.signal, (reason) => new AbortedError('the next bus event', reason));
      if (!configured) o.enumerationEvents.push(observed);
      if (event.type === 'reset') speed = busSpeedName(event.busSpeed);
      if (event.type === 'configured' && !configured) {
        configured = true;
        step(`step 5: configured at ${speed ?? 'an unknown'} speed; answering the host probe's requests`);
      }
      if (event.type === 'setupPacket') await answer(responder, event.setupPacket, print);
    }
    complete = true;
    step('done: the host has the report');
  } catch (err) {
    error = stop.signal.aborted ? stop.signal.reason : err;
    print(`\nthe probe stopped: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    deadline.cancel();
    if (!stop.signal.aborted) stop.abort(new UsageError('PROBE_DONE', 'the probe finished'));
    await cleanUp(port, file, registrations, print);
  }
  const result: DeviceProbeResult = {
    format: 'usbfn-hil-probe-result',
    version: 1,
    complete,
    startedAt,
    symbolicLink: link,
    findings: probeFindings(o),
    recommendedSettings: recommendedSettings(o),
    observations: o,
    ...(error === undefined ? {} : { error: errorJson(error) }),
  };
  printFindings(result, print);
  await port.finish();
  return result;
}

function errorJson(err: unknown): HarnessErrorJSON {
  return err instanceof HarnessError ? err.toJSON() : { name: err instanceof Error ? err.name : 'unknown', code: 'UNEXPECTED', message: err instanceof Error ? err.message : String(err), data: {} };
}

/** The listed interface, or the first one that arrives (registered before listing again: no race). */
async function findInterface(port: UsbFnPort, guid: string, signal: AbortSignal, registrations: CmRegistration[], print: (l: string) => void): Promise<string> {
  const listed = await listInterfaces(port, { interfaceClassGuid: guid });
  if (listed[0] !== undefined) return listed[0];
  print(`no interface ${guid} yet: waiting for it to arrive (is the USBFN configuration in the registry, with this InterfaceGUID?)`);
  let arrived: ((link: string) => void) | undefined;
  const arrival = new Promise<string>((resolve) => (arrived = resolve));
  registrations.push(
    await port.watchInterfaces(guid, (action, data) => {
      if (action === CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL) {
        const ev = decodeCmNotifyEventData(data);
        if (ev.filterType === 'deviceInterface') arrived?.(ev.symbolicLink);
      }
      return 0;
    }),
  );
  const again = await listInterfaces(port, { interfaceClassGuid: guid });
  if (again[0] !== undefined) return again[0];
  // The probe's deadline is that signal.
  return untilAborted(arrival, signal, (reason) => new AbortedError(`interface ${guid} arrival`, reason));
}

/** QUERYREMOVE: close the handle (an open handle vetoes the removal) and stop; a removal stops the probe. */
function onHandleEvent(action: number, _data: Uint8Array, file: UsbFnFile | undefined, stop: AbortController, print: (l: string) => void): number {
  const A = CM_NOTIFY_ACTION;
  if (action === A.CM_NOTIFY_ACTION_DEVICEQUERYREMOVE || action === A.CM_NOTIFY_ACTION_DEVICEREMOVEPENDING || action === A.CM_NOTIFY_ACTION_DEVICEREMOVECOMPLETE) {
    print('the device is being removed: closing the handle and stopping');
    stop.abort(new UsageError('DEVICE_REMOVED', 'the function was removed during the probe (a query-remove or removal notification arrived)'));
    if (file?.isOpen) void file.close().catch(() => undefined);
  }
  return 0;
}

/** GET_CLASS_INFO with its raw bytes and PipeArr. */
async function classInfo(file: UsbFnFile, o: DeviceObservations, signal: AbortSignal, print: (l: string) => void): Promise<UsbfnClassInformationPacket> {
  const out = new Uint8Array(USBFN_CLASS_INFORMATION_PACKET_SIZE);
  let n: number;
  try {
    n = await file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, null, out, { signal });
  } catch (err) {
    o.classInfoError = err instanceof HarnessError ? String(err.data['win32Name'] ?? err.code) : String(err);
    throw err;
  }
  o.classInfoBytesReturned = n;
  const info = decodeUsbfnClassInformationPacket(out);
  o.pipes = (['fullSpeed', 'highSpeed', 'superSpeed'] as const).flatMap((speed) =>
    info[speed].pipes.map((p) => ({ speed: speed.replace('Speed', ''), pipeId: p.pipeId, endpointAddress: p.epDesc.bEndpointAddress, attributes: p.epDesc.bmAttributes })),
  );
  print(`GET_CLASS_INFO: lpBytesReturned ${n} (sizeof 748); interface '${info.interfaceName}' ${info.interfaceGuid}`);
  for (const p of o.pipes) print(`  PipeArr ${p.speed}: PipeId ${p.pipeId} = endpoint 0x${p.endpointAddress.toString(16).padStart(2, '0')} bmAttributes 0x${p.attributes.toString(16)}`);
  return info;
}

/** The USBFNPIPEID of `address` at `speed` (high when no Reset told the speed yet). */
function pipeFor(info: UsbfnClassInformationPacket, speed: string | undefined, address: number): number | undefined {
  const ci = speed === 'super' ? info.superSpeed : speed === 'full' || speed === 'low' ? info.fullSpeed : info.highSpeed;
  return ci.pipes.find((p) => p.epDesc.bEndpointAddress === address)?.pipeId;
}

/** Keeps `depth` BUS_EVENT_NOTIFICATIONs outstanding; each buffer is filled with 0xCC first, to see what the driver wrote. */
function pumpBusEvents(file: UsbFnFile, depth: number, o: DeviceObservations, events: EventQueue, stop: AbortController, print: (l: string) => void): void {
  const arm = (buffer: Uint8Array): void => {
    if (stop.signal.aborted) return;
    buffer.fill(FILL);
    file.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, buffer, { signal: stop.signal }).then(
      (n) => {
        const raw = toHex(buffer);
        let event: UsbfnNotification;
        try {
          // Decode what the driver reported; with a short count, the bytes past it as the driver left them.
          event = decodeUsbfnNotification(n >= 4 && n <= USBFN_NOTIFICATION_SIZE ? buffer : buffer.subarray(0, n));
        } catch (err) {
          o.busEvents.push({ type: 'undecodable', bytesReturned: n, raw });
          print(`bus event with lpBytesReturned ${n} cannot be decoded: ${(err as Error).message}`);
          arm(buffer);
          return;
        }
        const observed = { type: event.type, bytesReturned: n, raw, ...(event.type === 'reset' ? { speed: busSpeedName(event.busSpeed) } : {}) };
        o.busEvents.push(observed);
        const note = n === USBFN_NOTIFICATION_SIZE ? '' : `  ← lpBytesReturned ${n}, not 12`;
        print(`bus event ${event.type}${'busSpeed' in event ? ` (speed ${busSpeedName(event.busSpeed)})` : ''}${note}`);
        events.push({ event, observed });
        arm(buffer);
      },
      (err: unknown) => {
        if (stop.signal.aborted) return;
        print(`BUS_EVENT_NOTIFICATION failed: ${err instanceof Error ? err.message : String(err)}`);
        stop.abort(err);
      },
    );
  };
  for (let i = 0; i < depth; i++) arm(new Uint8Array(USBFN_NOTIFICATION_SIZE));
}

/** One setup packet; a failed step is printed and recorded, and the probe goes on with the next request. */
async function answer(responder: ProbeResponder, setup: SetupPacket, print: (l: string) => void): Promise<void> {
  print(
    `setup packet bmRequestType 0x${setup.bmRequestType.toString(16).padStart(2, '0')} bRequest 0x${setup.bRequest.toString(16).padStart(2, '0')} ` +
      `wValue 0x${setup.wValue.toString(16)} wIndex 0x${setup.wIndex.toString(16)} wLength ${setup.wLength}`,
  );
  try {
    await responder.answer(setup);
  } catch (err) {
    print(`the step for bRequest 0x${setup.bRequest.toString(16)} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function cleanUp(port: RecordingUsbFnPort, file: UsbFnFile | undefined, registrations: CmRegistration[], print: (l: string) => void): Promise<void> {
  try {
    if (file?.isOpen) await withTimeout(port.clock, file.close(), 'CloseHandle', 10_000);
  } catch (err) {
    print(`closing the handle failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  for (const reg of registrations) await reg.unregister().catch((err: unknown) => print(`unregistering ${reg.id} failed: ${err instanceof Error ? err.message : String(err)}`));
}

function printFindings(result: DeviceProbeResult, print: (l: string) => void): void {
  print(`\nfindings (docs/reference/documented-vs-inferred.md)${result.complete ? '' : ' — the probe did not finish: some are not settled'}:`);
  for (const f of result.findings) print(`  ${f.verdict.padEnd(11)} ${f.id}: ${f.observed}`);
  print(`recommended driver settings: ${JSON.stringify(result.recommendedSettings)}`);
}
