/**
 * Runs a {@link ReplayPlan} on a fresh simulation: the recorded device side's calls go to the simulator's
 * `SimUsbFnPort` in the recorded order, the derived host and PnP actions to its host and CM model, and what
 * the simulator answered is collected for the comparison. Every wait is bounded on the simulation's clock.
 */
import { HarnessError, Win32Error, ConfigRetError, withTimeout } from '../../core/index.js';
import {
  IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
  METHOD_IN_DIRECT,
  decodeMultiSz,
  fromHex,
  type CmNotifyListener,
  type CmRegistration,
  type IoctlLine,
  type UsbFnFile,
} from '../../device-side/index.js';
import { describeSetup, type UsbDeviceHandle } from '../../host-side/index.js';
import { createSimulation, type Simulation } from '../../simulator/index.js';
import type { HostAction, ReplayPlan } from './replay-plan.js';

/** How a replayed call ended. */
export type ReplayStatus =
  | { readonly win32: number; readonly win32Name: string }
  | { readonly cr: number; readonly crName: string }
  | { readonly error: { readonly code: string; readonly message: string } };

/** A replayed call: settled, still pending when the replay ended, or not replayed (its handle never opened). */
export type CallOutcome =
  | { readonly state: 'settled'; readonly status: ReplayStatus; readonly bytesReturned: number | null; readonly output: Uint8Array | null; readonly links?: number | undefined }
  | { readonly state: 'pending' }
  | { readonly state: 'skipped'; readonly why: string };

/** A BUS_EVENT_NOTIFICATION the simulator completed successfully, in completion order per handle. */
export interface ReplayedEvent {
  readonly bytesReturned: number;
  readonly output: Uint8Array;
}

/** A notification the simulator delivered to a replayed registration. */
export interface ReplayedNotification {
  /** The recorded registration's name it corresponds to. */
  readonly registration: string;
  readonly action: number;
  readonly eventData: Uint8Array;
  /** Delivered while the replayed CM_Unregister_Notification of its registration was running. */
  readonly duringUnregister?: true | undefined;
}

/**
 * A replayed CM_Unregister_Notification and what the model's seeded draw did with the notifications still
 * queued for the registration (docs/reference/documented-vs-inferred.md#cm-unregister-late-delivery).
 */
export interface ReplayedUnregister {
  /** The recorded cmUnregister line. */
  readonly index: number;
  readonly registration: string;
  /** How many notifications (of all registrations) the replay had delivered when it was called. */
  readonly at: number;
  /** The queued notification delivered during it (the draw said so), if any. */
  readonly late: ReplayedNotification | undefined;
  /** The actions of the queued notifications it discarded, in queue order. */
  readonly discarded: readonly number[];
}

export interface ReplayResult {
  /** By recorded line index: every call except successful BUS_EVENT_NOTIFICATIONs (those are in `busEvents`). */
  readonly calls: ReadonlyMap<number, CallOutcome>;
  /** By recorded handle. */
  readonly busEvents: ReadonlyMap<number, readonly ReplayedEvent[]>;
  /** Failed BUS_EVENT_NOTIFICATIONs by recorded handle: their Win32 errors in completion order. */
  readonly busEventFailures: ReadonlyMap<number, readonly number[]>;
  /** Every notification of every replayed registration, in delivery order, until the last recorded happening. */
  readonly notifications: readonly ReplayedNotification[];
  /** Every replayed CM_Unregister_Notification that resolved, in call order. */
  readonly unregisters: readonly ReplayedUnregister[];
  /** Host or PnP actions that failed (not divergences: context for reading the report). */
  readonly notes: readonly string[];
  readonly seed: number;
}

export interface ReplayOptions {
  /** Seed of the simulation. Default 1. */
  readonly seed?: number | undefined;
  /** Bound on waiting for one recorded completion or notification in the replay (simulated ms). Default 1000. */
  readonly waitMs?: number | undefined;
}

const HOST_TIMEOUT_MS = 60_000;

function statusOf(err: unknown): ReplayStatus {
  if (err instanceof Win32Error) return { win32: err.win32, win32Name: err.win32Name };
  if (err instanceof ConfigRetError) return { cr: err.cr, crName: err.crName };
  if (err instanceof HarnessError) return { error: { code: err.code, message: err.message } };
  return { error: { code: 'UNEXPECTED', message: err instanceof Error ? err.message : String(err) } };
}

const OK: ReplayStatus = { win32: 0, win32Name: 'ERROR_SUCCESS' };
const CR_OK: ReplayStatus = { cr: 0, crName: 'CR_SUCCESS' };

/** Replays `plan` on a new simulation and collects what it answered. */
export async function replay(plan: ReplayPlan, options: ReplayOptions = {}): Promise<ReplayResult> {
  const seed = options.seed ?? 1;
  const waitMs = options.waitMs ?? 1000;
  const sim = createSimulation({ seed, attached: false, powered: plan.poweredAtStart, speed: plan.speed });
  const r = new Replayer(plan, sim, waitMs);
  try {
    await r.run();
  } finally {
    await r.cleanUp();
  }
  return { ...r.result(), seed };
}

class Replayer {
  readonly #plan: ReplayPlan;
  readonly #sim: Simulation;
  readonly #waitMs: number;
  readonly #files = new Map<number, UsbFnFile>();
  readonly #registrations = new Map<string, CmRegistration>();
  readonly #pending = new Map<number, Promise<unknown>>();
  readonly #calls = new Map<number, CallOutcome>();
  readonly #busEvents = new Map<number, ReplayedEvent[]>();
  readonly #busEventFailures = new Map<number, number[]>();
  readonly #notifications = new Map<string, ReplayedNotification[]>();
  readonly #notificationOrder: ReplayedNotification[] = [];
  /** The recorded notification lines of each registration, in order (the replay answers the same). */
  readonly #recordedLines = new Map<string, number[]>();
  /** Lines already submitted (a call made inside a replayed callback is not made again at its place). */
  readonly #submitted = new Set<number>();
  /** Registrations whose replayed CM_Unregister_Notification is running, and those where it resolved. */
  readonly #unregistering = new Set<string>();
  readonly #unregistered = new Set<string>();
  readonly #unregisters: ReplayedUnregister[] = [];
  /** Set once the recorded happenings were replayed: what the clean-up causes is not the trace's. */
  #ended = false;
  readonly #notes: string[] = [];
  readonly #hostWork: Promise<unknown>[] = [];
  readonly #waiters: (() => void)[] = [];
  #host: UsbDeviceHandle | undefined;
  /** The last interface-list size the replay got (its ListW asks for that many WCHARs). */
  #listChars = 1;
  /** Recorded successful bus events seen so far, per handle. */
  readonly #recordedEvents = new Map<number, number>();
  /** Recorded notifications seen so far, per registration. */
  readonly #recordedNotifications = new Map<string, number>();

  constructor(plan: ReplayPlan, sim: Simulation, waitMs: number) {
    this.#plan = plan;
    this.#sim = sim;
    this.#waitMs = waitMs;
    plan.trace.lines.forEach((line, index) => {
      if (line.kind === 'cm') this.#recordedLines.set(line.registration, [...(this.#recordedLines.get(line.registration) ?? []), index]);
    });
  }

  #settle(index: number, outcome: CallOutcome): void {
    this.#calls.set(index, outcome);
    this.#changed();
  }

  result(): Omit<ReplayResult, 'seed'> {
    for (const index of this.#pending.keys()) if (!this.#calls.has(index)) this.#settle(index, { state: 'pending' });
    return { calls: this.#calls, busEvents: this.#busEvents, busEventFailures: this.#busEventFailures, notifications: this.#notificationOrder, unregisters: this.#unregisters, notes: this.#notes };
  }

  async run(): Promise<void> {
    const { happenings, before, trace } = this.#plan;
    for (let position = 0; position < happenings.length; position++) {
      for (const action of before.get(position) ?? []) await this.#act(action);
      const h = happenings[position]!;
      const line = trace.lines[h.index]!;
      if (h.kind === 'submit') this.#submit(h.index);
      else if (h.kind === 'notify' && line.kind === 'cm') {
        const n = (this.#recordedNotifications.get(line.registration) ?? 0) + 1;
        this.#recordedNotifications.set(line.registration, n);
        // An unregistered registration hears nothing more: no need to wait.
        await this.#until(() => (this.#notifications.get(line.registration)?.length ?? 0) >= n || this.#unregistered.has(line.registration));
      } else if (line.kind === 'ioctl' && line.code === IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION && line.bytesReturned !== null) {
        const n = (this.#recordedEvents.get(line.handle) ?? 0) + 1;
        this.#recordedEvents.set(line.handle, n);
        await this.#until(() => (this.#busEvents.get(line.handle)?.length ?? 0) >= n);
      } else if (!(line.kind === 'ioctl' && line.code === IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION)) {
        await this.#until(() => this.#calls.has(h.index) || !this.#pending.has(h.index));
      }
    }
    // Let what is still in flight settle (a completion the simulator gives later than the device did).
    await this.#until(() => [...this.#pending.keys()].every((i) => this.#calls.has(i) || isBusEventLine(this.#plan.trace.lines[i]!)));
    this.#ended = true;
  }

  async cleanUp(): Promise<void> {
    for (const [, file] of this.#files) if (file.isOpen) await file.close().catch(() => undefined);
    for (const [, reg] of this.#registrations) await reg.unregister().catch(() => undefined);
    await this.#host?.close().catch(() => undefined);
    await Promise.allSettled(this.#hostWork);
    await this.#sim.dispose();
  }

  /** Waits (bounded, simulated time) until `done()` holds; a timeout is not an error (the comparison reports what is missing). */
  async #until(done: () => boolean): Promise<void> {
    const clock = this.#sim.clock;
    const deadline = clock.now() + this.#waitMs;
    while (!done()) {
      const left = deadline - clock.now();
      if (left <= 0) return;
      const changed = new Promise<void>((resolve) => this.#waiters.push(resolve));
      await withTimeout(clock, changed, 'replay step', left).catch(() => undefined);
    }
  }

  /** Something the replay waits for happened: wake the waiter. */
  #changed(): void {
    const waiters = this.#waiters.splice(0);
    for (const w of waiters) w();
  }

  /** Makes the call of line `index` (once: a call a replayed callback made is not made again at its place). */
  #submit(index: number): void {
    if (this.#submitted.has(index)) return;
    this.#submitted.add(index);
    const line = this.#plan.trace.lines[index]!;
    const track = (p: Promise<unknown>): void => {
      this.#pending.set(index, p);
      p.catch(() => undefined);
    };
    switch (line.kind) {
      case 'open': {
        const link = this.#sim.function().symbolicLink ?? '\\\\?\\USBFN#NOT-PRESENT';
        track(
          this.#sim.port.open(link).then(
            (file) => {
              this.#settle(index, { state: 'settled', status: OK, bytesReturned: null, output: null });
              // A handle the device never had would change what follows: keep only the recorded ones.
              if (line.handle === null) return file.close();
              this.#files.set(line.handle, file);
              return undefined;
            },
            (err: unknown) => void this.#settle(index, { state: 'settled', status: statusOf(err), bytesReturned: null, output: null }),
          ),
        );
        return;
      }
      case 'close': {
        const file = this.#files.get(line.handle);
        if (file === undefined) return void this.#settle(index, { state: 'skipped', why: `handle ${line.handle} is not open in the simulator` });
        track(file.close().then(
          () => void this.#settle(index, { state: 'settled', status: OK, bytesReturned: null, output: null }),
          (err: unknown) => void this.#settle(index, { state: 'settled', status: statusOf(err), bytesReturned: null, output: null }),
        ));
        return;
      }
      case 'ioctl':
        return this.#ioctl(index, line, track);
      case 'cmRegister': {
        const name = line.registration ?? `failed@${index}`;
        const listener = this.#listener(name);
        const port = this.#sim.port;
        let registering: Promise<CmRegistration>;
        if (line.filter === 'deviceHandle') {
          const file = this.#files.get(Number(line.target));
          if (file === undefined) return void this.#settle(index, { state: 'skipped', why: `handle ${String(line.target)} is not open in the simulator` });
          registering = port.watchHandle(file, listener);
        } else if (line.filter === 'deviceInterface') registering = port.watchInterfaces(String(line.target), listener);
        else registering = port.watchInstance(this.#sim.function().instanceId, listener);
        track(registering.then(
          (reg) => {
            this.#settle(index, { state: 'settled', status: CR_OK, bytesReturned: null, output: null });
            if (line.registration === null) return reg.unregister();
            this.#registrations.set(name, reg);
            return undefined;
          },
          (err: unknown) => void this.#settle(index, { state: 'settled', status: statusOf(err), bytesReturned: null, output: null }),
        ));
        return;
      }
      case 'cmUnregister': {
        const name = line.registration;
        const reg = this.#registrations.get(name);
        if (reg === undefined) return void this.#settle(index, { state: 'skipped', why: `registration ${name} does not exist in the simulator` });
        this.#registrations.delete(name);
        const at = this.#notificationOrder.length;
        this.#unregistering.add(name);
        const done = (): void => {
          this.#unregistering.delete(name);
          this.#unregistered.add(name);
        };
        track(reg.unregister().then(
          () => {
            done();
            // What the model's draw did with the notifications still queued for it (cm-unregister-late-delivery).
            const log = this.#sim.cm.deliveries(reg.id);
            const late = this.#notificationOrder.slice(at).find((n) => n.registration === name && n.duringUnregister === true);
            this.#unregisters.push({ index, registration: name, at, late, discarded: log.filter((e) => e.outcome === 'discarded').map((e) => e.action) });
            this.#settle(index, { state: 'settled', status: CR_OK, bytesReturned: null, output: null });
          },
          (err: unknown) => {
            done();
            this.#settle(index, { state: 'settled', status: statusOf(err), bytesReturned: null, output: null });
          },
        ));
        return;
      }
      case 'cmCall': {
        const query = { interfaceClassGuid: line.interfaceClassGuid, ...(line.deviceInstanceId === undefined ? {} : { deviceInstanceId: this.#sim.function().instanceId }), ...(line.flags === undefined ? {} : { flags: line.flags }) };
        const settled = (status: ReplayStatus, links?: number): void => void this.#settle(index, { state: 'settled', status, bytesReturned: null, output: null, links });
        if (line.api === 'CM_Get_Device_Interface_List_SizeW') {
          track(this.#sim.port.getInterfaceListSize(query).then((n) => {
            this.#listChars = n;
            settled(CR_OK);
          }, (err: unknown) => settled(statusOf(err))));
        } else {
          track(this.#sim.port.getInterfaceList(query, this.#listChars).then((b) => settled(CR_OK, decodeMultiSz(b).length), (err: unknown) => settled(statusOf(err))));
        }
        return;
      }
      default:
        return;
    }
  }

  #ioctl(index: number, line: IoctlLine, track: (p: Promise<unknown>) => void): void {
    const file = this.#files.get(line.handle);
    if (file === undefined) {
      this.#settle(index, { state: 'skipped', why: `handle ${line.handle} is not open in the simulator` });
      return;
    }
    const input = line.input === null ? null : fromHex(line.input);
    let output: Uint8Array | null = null;
    if (line.outputSize !== null) {
      output = new Uint8Array(line.outputSize);
      if (line.outputData !== undefined) output.set(fromHex(line.outputData).subarray(0, line.outputSize));
    }
    const busEvent = line.code === IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION;
    const inDirect = (line.code & 3) === METHOD_IN_DIRECT;
    track(
      file.ioctl(line.code, input, output, {}).then(
        (n) => {
          if (busEvent) {
            const list = this.#busEvents.get(line.handle) ?? [];
            list.push({ bytesReturned: n, output: output!.slice(0, Math.min(n, output!.length)) });
            this.#busEvents.set(line.handle, list);
            this.#changed();
          } else {
            this.#settle(index, { state: 'settled', status: OK, bytesReturned: n, output: output === null || inDirect ? null : output.slice(0, Math.min(n, output.length)) });
          }
        },
        (err: unknown) => {
          const status = statusOf(err);
          if (busEvent) {
            const list = this.#busEventFailures.get(line.handle) ?? [];
            list.push('win32' in status ? status.win32 : -1);
            this.#busEventFailures.set(line.handle, list);
          }
          this.#settle(index, { state: 'settled', status, bytesReturned: null, output: output === null || inDirect ? null : output.slice() });
        },
      ),
    );
  }

  /**
   * A registration's listener: records what the simulator delivered and answers what the device answered, the
   * nth notification as the nth recorded one. When the recorded callback of the same action made calls before
   * it returned, the replayed one makes them too, before it returns (a CloseHandle in a DEVICEQUERYREMOVE
   * callback then counts as closed, docs/reference/documented-vs-inferred.md#cm-open-handle-veto).
   */
  #listener(name: string): CmNotifyListener {
    return (action, eventData) => {
      if (this.#ended) return 0;
      const list = this.#notifications.get(name) ?? [];
      const n: ReplayedNotification = { registration: name, action, eventData: eventData.slice(), ...(this.#unregistering.has(name) ? { duringUnregister: true as const } : {}) };
      list.push(n);
      this.#notifications.set(name, list);
      this.#notificationOrder.push(n);
      this.#changed();
      const index = this.#recordedLines.get(name)?.[list.length - 1];
      const recorded = index === undefined ? undefined : this.#plan.trace.lines[index];
      if (recorded?.kind !== 'cm') return 0;
      if (recorded.action === action) for (const call of this.#plan.callbackCalls.get(index!) ?? []) this.#submit(call);
      return recorded.result ?? 0;
    };
  }

  async #act(action: HostAction): Promise<void> {
    const sim = this.#sim;
    const note = (err: unknown): void => void this.#notes.push(`${action.kind}: ${err instanceof Error ? err.message : String(err)}`);
    const later = (p: Promise<unknown>): void => void this.#hostWork.push(p.catch(note));
    switch (action.kind) {
      case 'attach':
        return sim.attach();
      case 'detach':
        await this.#host?.close().catch(() => undefined);
        this.#host = undefined;
        return sim.detach();
      case 'suspend':
        return sim.bus.suspend();
      case 'resume':
        return sim.bus.resume();
      case 'powerOn':
        return sim.powerOn();
      case 'queryRemove':
        return later(sim.cm.queryAndRemove(sim.function().instanceId));
      case 'surpriseRemove':
        return later(sim.powerOff());
      case 'customEvent':
        return later(sim.cm.sendCustomEvent(sim.function().instanceId, action.eventGuid, action.data, action.nameOffset));
      default:
        break;
    }
    const host = await this.#hostHandle().catch((err: unknown) => {
      note(err);
      return undefined;
    });
    if (host === undefined) return;
    const opts = { timeoutMs: HOST_TIMEOUT_MS };
    switch (action.kind) {
      case 'control': {
        let setup: ReturnType<typeof describeSetup>;
        try {
          setup = describeSetup(action.setup);
        } catch (err) {
          return note(err);
        }
        return later(setup.direction === 'in' ? host.controlIn(setup, setup.length, opts) : host.controlOut(setup, action.data, opts));
      }
      case 'bulkOut':
        return later(host.bulkOut(action.endpoint, action.data, { ...opts, zeroLengthPacket: action.zeroLengthPacket }));
      case 'bulkIn':
        return later(host.bulkIn(action.endpoint, action.length, opts));
      case 'clearHalt': {
        const clear = host.clearHalt(action.endpoint, opts);
        if (action.wait) await withTimeout(sim.clock, clear, 'CLEAR_FEATURE(ENDPOINT_HALT)', this.#waitMs).catch(note);
        else later(clear);
        return;
      }
      case 'selectConfiguration':
        return later(host.selectConfiguration(action.value, opts));
      case 'selectAlternate':
        return later(host.selectAlternate(action.interfaceNumber, action.alternateSetting, opts));
      case 'resetPort':
        return later(host.reset(opts));
    }
  }

  /** The host's handle to the function, opened (and its interface claimed) on first use after each attach. */
  async #hostHandle(): Promise<UsbDeviceHandle> {
    if (this.#host !== undefined) return this.#host;
    const sim = this.#sim;
    const info = await sim.host.waitForDevice({}, { timeoutMs: this.#waitMs });
    const handle = await sim.host.open(info, { timeoutMs: this.#waitMs });
    for (const i of info.interfaces) await handle.claimInterface(i.interfaceNumber).catch(() => undefined);
    this.#host = handle;
    return handle;
  }
}

function isBusEventLine(line: { kind: string; code?: number }): boolean {
  return line.kind === 'ioctl' && line.code === IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION;
}
