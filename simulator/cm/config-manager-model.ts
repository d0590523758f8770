/**
 * The simulated Configuration Manager (issue 3 item 2; docs/simulator-cm.md): device instances and
 * their device interfaces, CM_Register_Notification registrations of the three filter types, the
 * interface lists of CM_Get_Device_Interface_List(_Size)W, and the PnP flows the device-side service
 * reacts to (arrival, query-remove with veto, remove-pending/complete, query-remove-failed, surprise
 * removal, custom events).
 *
 * Who calls what:
 * - the GenericUSBFn.sys model / `SimUsbFnPort` (simulator/usbfn) forwards the service's cfgmgr32 calls
 *   (`register`, `getInterfaceListSize`, `getInterfaceList`) and reports CreateFileW/CloseHandle
 *   (`openHandle`, `CmHandle.close`); it learns of removals through `onRemoved`;
 * - the simulation and scenario faults drive the topology (`addDevice`, `queryAndRemove`,
 *   `surpriseRemove`, `failQueryRemove`, `sendCustomEvent`, `dropNotifications`).
 *
 * Everything runs on the virtual clock: notifications are delivered from clock timers, never inside
 * the call that caused them, so a run is deterministic (no Date, no Math.random).
 *
 * @see docs/reference/configuration-manager.md (cfgmgr32, #callback: the callback rules);
 * docs/architecture.md#service-lifecycle steps 1–3 and 7
 * @see docs/simulator-cm.md
 */
import { type Clock, SimulatorError } from '../../core/index.js';
import {
  CM_NOTIFY_ACTION,
  CONFIGRET,
  configRetError,
  GUID_NULL,
  WIN32_ERROR,
  type CmNotifyListener,
  type InterfaceListQuery,
} from '../../device-side/index.js';
import type { SeededRandom } from '../clock/index.js';
import { SimCmHandle, type CmHandle } from './cm-handle.js';
import { EMPTY, handleEvent, instanceEvent, interfaceEvent } from './cm-event-data.js';
import { DropRules, type CmDeliveryLogEntry, type CmDropMatch, type CmLogEntry, type CmPnpLogEntry } from './cm-log.js';
import { fanOut, fanOutAndWait, type DeliveryResult } from './cm-fan-out.js';
import { SimCmRegistration, resolveCmFilter, type CmDeliveryContext, type CmFilter } from './cm-registration.js';
import { DeviceIncarnation, type InterfaceRecord } from './device-incarnation.js';
import { listInterfaceLinks, multiSzChars, writeMultiSz } from './interface-list.js';
import { RemovalListeners } from './removal-listeners.js';
import { canonicalGuid, instanceIdProblem, interfaceLinksFor, lookupKey } from './symbolic-link.js';

/** Construction options of {@link ConfigManagerModel}. */
export interface ConfigManagerModelOptions {
  /** The simulation's clock; every notification is delivered from one of its timers. */
  readonly clock: Clock;
  /** The simulation's seeded random source (used for notification latency jitter only). */
  readonly random: SeededRandom;
  /**
   * Virtual delay between a PnP event and each delivery of it, drawn uniformly from [min, max] per
   * delivery. Default 0: deliveries happen on the next clock turn at the same virtual instant.
   */
  readonly notificationLatencyMs?: { readonly min: number; readonly max: number } | undefined;
  /**
   * Probability (0..1, drawn from the seeded random source) that CM_Unregister_Notification with
   * notifications still queued for the registration delivers the first of them before it returns, as the
   * CM_Unregister_Notification remarks warn can happen. Default 0.5: seeds explore both orders.
   */
  readonly deliverDuringUnregister?: number | undefined;
}

/** One interface of a device given to {@link ConfigManagerModel.addDevice}. */
export interface CmInterfaceSpec {
  /** Braced device interface class GUID (the function's `InterfaceGUID`). */
  readonly classGuid: string;
  /** Optional reference string, appended to the symbolic link as `\<referenceString>`. */
  readonly referenceString?: string | undefined;
}

/** How a device left, as told to {@link ConfigManagerModel.onRemoved} listeners. */
export type CmRemovalKind = 'removed' | 'surprise';

/**
 * A model of Configuration Manager for one simulated machine.
 *
 * @example
 * const cm = new ConfigManagerModel({ clock, random });
 * const reg = cm.register({ type: 'deviceInterface', classGuid: GUID }, (action, data) => 0);
 * const [link] = cm.addDevice('USBFN\\LOOPBACK\\5&1a2b3c&0&0', [{ classGuid: GUID }]);
 * await clock.idle(); // the ARRIVAL callback has run
 */
export class ConfigManagerModel {
  readonly #clock: Clock;
  readonly #random: SeededRandom;
  readonly #latency: { readonly min: number; readonly max: number };
  /** Live registrations in registration order (fan-out order). */
  readonly #regs = new Set<SimCmRegistration>();
  /** Every interface ever added, by lookupKey(symbolic link), in first-added order (list order). */
  readonly #interfaces = new Map<string, InterfaceRecord>();
  /** The current incarnation of each instance ID ever added, by lookupKey(instance ID). */
  readonly #devices = new Map<string, DeviceIncarnation>();
  readonly #removedListeners = new RemovalListeners<CmRemovalKind>();
  readonly #drops = new DropRules();
  readonly #log: CmLogEntry[] = [];
  readonly #ctx: CmDeliveryContext;
  /** PnP operations run one at a time, in call order, like the PnP manager's event queue. */
  #ops: Promise<unknown> = Promise.resolve();
  #nextRegId = 1;
  #nextHandleId = 1;

  constructor(options: ConfigManagerModelOptions) {
    this.#clock = options.clock;
    this.#random = options.random;
    const lat = options.notificationLatencyMs ?? { min: 0, max: 0 };
    if (!(Number.isFinite(lat.min) && Number.isFinite(lat.max) && lat.min >= 0 && lat.max >= lat.min)) {
      throw new SimulatorError(
        'SIM_BAD_OPTION',
        `notificationLatencyMs {min: ${lat.min}, max: ${lat.max}} is invalid: use finite 0 <= min <= max`,
      );
    }
    this.#latency = lat;
    const late = options.deliverDuringUnregister ?? 0.5;
    if (!(late >= 0 && late <= 1)) {
      throw new SimulatorError('SIM_BAD_OPTION', `deliverDuringUnregister ${late} is not a probability: use 0..1`);
    }
    this.#ctx = {
      clock: this.#clock,
      nextLatencyMs: () => this.#nextLatencyMs(),
      consumeDrop: (action) => this.#drops.consume(action),
      record: (entry) => {
        this.#log.push({ kind: 'delivery', seq: this.#log.length, timeMs: this.#clock.now(), ...entry });
      },
      forget: (reg) => {
        this.#regs.delete(reg);
      },
      deliverOneDuringUnregister: () => late > 0 && (late >= 1 || this.#random.next() < late),
    };
  }

  /** Every delivery (delivered, dropped, discarded) and PnP operation so far, in order, with virtual time. */
  get log(): readonly CmLogEntry[] {
    return this.#log;
  }

  /** The delivery records of the log, optionally only those of one registration. */
  deliveries(registrationId?: string): CmDeliveryLogEntry[] {
    const out: CmDeliveryLogEntry[] = [];
    for (const e of this.#log) {
      if (e.kind === 'delivery' && (registrationId === undefined || e.registrationId === registrationId)) out.push(e);
    }
    return out;
  }

  /** Deliveries whose callback misbehaved (SIM_BAD_CALLBACK_RESULT, SIM_CALLBACK_THREW, SIM_UNREGISTER_IN_CALLBACK). */
  callbackErrors(): SimulatorError[] {
    const out: SimulatorError[] = [];
    for (const e of this.#log) if (e.kind === 'delivery' && e.error !== undefined) out.push(e.error);
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Topology

  /**
   * A device instance appears with its device interfaces (enabled at once: listable and openable
   * when this returns). Notifies, asynchronously and in this order: DEVICEINSTANCE registrations
   * (DEVICEINSTANCEENUMERATED), DEVICEINTERFACE registrations (DEVICEINTERFACEARRIVAL per interface),
   * DEVICEINSTANCE registrations (DEVICEINSTANCESTARTED).
   *
   * ASSUMPTION(cm-arrival-order): ordering between filter types is not documented; interfaces arrive
   * between ENUMERATED and STARTED, because a driver enables its interfaces while starting.
   *
   * @returns the symbolic links, in the order of `interfaces`.
   * @throws SimulatorError SIM_BAD_INSTANCE_ID, SIM_BAD_GUID, SIM_BAD_REFERENCE_STRING, SIM_DUPLICATE_INTERFACE
   * for bad arguments; SIM_DEVICE_EXISTS when the instance is already present (remove it first).
   */
  addDevice(instanceId: string, interfaces: readonly CmInterfaceSpec[]): string[] {
    const problem = instanceIdProblem(instanceId);
    if (problem !== undefined) {
      throw new SimulatorError('SIM_BAD_INSTANCE_ID', `addDevice('${instanceId}'): bad device instance ID: ${problem}`, {
        instanceId,
      });
    }
    const instanceKey = lookupKey(instanceId);
    const previous = this.#devices.get(instanceKey);
    if (previous !== undefined && previous.state !== 'removed') {
      throw new SimulatorError(
        'SIM_DEVICE_EXISTS',
        `addDevice('${instanceId}'): that device instance is already present (${previous.state}); ` +
          'await its removal (queryAndRemove / surpriseRemove) before adding it again',
        { instanceId },
      );
    }
    const records: InterfaceRecord[] = [];
    for (const { classGuid, symbolicLink, key } of interfaceLinksFor(instanceId, interfaces)) {
      let rec = this.#interfaces.get(key);
      if (rec === undefined) {
        rec = { symbolicLink, classGuid, instanceId, instanceKey, enabledBy: undefined };
        this.#interfaces.set(key, rec);
      }
      records.push(rec);
    }
    const inc = new DeviceIncarnation(instanceId, instanceKey, (previous?.generation ?? 0) + 1, records);
    for (const rec of records) rec.enabledBy = inc;
    this.#devices.set(instanceKey, inc);
    this.#logPnp('add', instanceId, 'added', `generation ${inc.generation}, ${records.length} interface(s)`);

    fanOut(this.#instanceRegs(instanceKey), CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEINSTANCEENUMERATED, instanceId, instanceEvent(instanceId));
    for (const rec of records) {
      fanOut(
        this.#interfaceRegs(rec.classGuid),
        CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL,
        rec.symbolicLink,
        interfaceEvent(rec),
      );
    }
    fanOut(this.#instanceRegs(instanceKey), CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEINSTANCESTARTED, instanceId, instanceEvent(instanceId));
    return records.map((r) => r.symbolicLink);
  }

  /** True when the interface behind `symbolicLink` is present (compared case-insensitively). */
  hasInterface(symbolicLink: string): boolean {
    const rec = this.#interfaces.get(lookupKey(symbolicLink));
    return rec?.enabledBy !== undefined && rec.enabledBy.state === 'present';
  }

  /** The device instance ID a known symbolic link belongs to (present or not), or `undefined`. */
  deviceOf(symbolicLink: string): string | undefined {
    return this.#interfaces.get(lookupKey(symbolicLink))?.instanceId;
  }

  /** True when `instanceId` is present (added and not being removed). */
  isPresent(instanceId: string): boolean {
    return this.#devices.get(lookupKey(instanceId))?.state === 'present';
  }

  // -------------------------------------------------------------------------------------------
  // Removal flows (serialized: each starts after the previous one finished)

  /**
   * The PnP query-remove flow (a user's "eject", a driver update, a scenario fault):
   * 1. DEVICEQUERYREMOVE to every DEVICEHANDLE registration of the device; callbacks may veto with
   *    ERROR_CANCELLED, and are expected to close their handle otherwise (docs/architecture.md#service-lifecycle step 7);
   * 2. vetoed by a callback, or a handle on the device still open afterwards → DEVICEQUERYREMOVEFAILED to
   *    every DEVICEHANDLE registration of the device → `'vetoed'`, the device stays;
   * 3. otherwise DEVICEREMOVEPENDING → the interfaces go (DEVICEINTERFACEREMOVAL) → DEVICEREMOVECOMPLETE →
   *    DEVICEINSTANCEREMOVED → `'removed'`.
   * Each stage starts once every delivery of the previous one was made.
   *
   * An open handle vetoes the removal ("You must close all handles to the device or the device removal will
   * fail": MS Learn, DBT_DEVICEQUERYREMOVE remarks).
   * ASSUMPTION(cm-open-handle-veto): the open handles are counted when the last DEVICEQUERYREMOVE callback
   * returns: a handle its callback closed synchronously is closed; one closed after an `await` (a microtask
   * the callback started) is still open and vetoes.
   * ASSUMPTION(cm-query-remove-failed-recipients): QUERYREMOVEFAILED goes to every DEVICEHANDLE
   * registration of the device, including the one that vetoed.
   *
   * @throws SimulatorError SIM_NO_SUCH_DEVICE when the instance is not present.
   */
  queryAndRemove(instanceId: string): Promise<'removed' | 'vetoed'> {
    return this.#enqueueOp(async () => {
      const inc = this.#presentDevice('queryAndRemove', instanceId);
      // The open handles are counted the moment the last callback returns: only what a callback closed
      // synchronously counts as closed (a close after an `await` comes too late, as on Windows).
      let open: CmHandle[] = [];
      const results = await fanOutAndWait(
        this.#handleRegs(inc),
        CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEQUERYREMOVE,
        inc.instanceId,
        handleEvent(GUID_NULL, 0, EMPTY),
        () => (open = [...inc.openHandles]),
      );
      const vetoer = results.find((r) => r.result === WIN32_ERROR.ERROR_CANCELLED);
      if (vetoer !== undefined || open.length > 0) {
        const why =
          vetoer !== undefined
            ? `${vetoer.registrationId} returned ERROR_CANCELLED`
            : `handle(s) ${open.map((h) => `#${h.id} (${h.symbolicLink})`).join(', ')} still open after DEVICEQUERYREMOVE`;
        await this.#tellHandles(inc, CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEQUERYREMOVEFAILED);
        this.#logPnp('queryRemove', inc.instanceId, 'vetoed', why);
        return 'vetoed';
      }
      inc.state = 'removing';
      await this.#tellHandles(inc, CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEREMOVEPENDING);
      await this.#finishRemoval(inc, 'removed');
      this.#logPnp('queryRemove', inc.instanceId, 'removed', undefined);
      return 'removed';
    });
  }

  /**
   * Surprise removal (unplug, driver crash): no query. The device is gone at once (its interfaces stop
   * being listed and openable, `onRemoved` listeners hear `'surprise'`, handles left open become
   * stale), then DEVICEINTERFACEREMOVAL → DEVICEREMOVECOMPLETE → DEVICEINSTANCEREMOVED.
   * ASSUMPTION(cm-remove-without-query): DEVICEREMOVECOMPLETE comes with no DEVICEQUERYREMOVE or
   * DEVICEREMOVEPENDING before it (nothing was asked).
   * ASSUMPTION(cm-removal-order): interface removal is notified before DEVICEREMOVECOMPLETE, as in the
   * query-remove flow.
   *
   * @throws SimulatorError SIM_NO_SUCH_DEVICE when the instance is not present.
   */
  surpriseRemove(instanceId: string): Promise<void> {
    return this.#enqueueOp(async () => {
      const inc = this.#presentDevice('surpriseRemove', instanceId);
      inc.state = 'removing';
      await this.#finishRemoval(inc, 'surprise');
      this.#logPnp('surpriseRemove', inc.instanceId, 'removed', undefined);
    });
  }

  /**
   * DEVICEQUERYREMOVEFAILED to the device's DEVICEHANDLE registrations without a prior DEVICEQUERYREMOVE
   * to them (another component's query was vetoed; issue 3 test list "query-remove-failed without query").
   * The device stays.
   * @throws SimulatorError SIM_NO_SUCH_DEVICE when the instance is not present.
   */
  failQueryRemove(instanceId: string): Promise<void> {
    return this.#enqueueOp(async () => {
      const inc = this.#presentDevice('failQueryRemove', instanceId);
      await this.#tellHandles(inc, CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEQUERYREMOVEFAILED);
      this.#logPnp('failQueryRemove', inc.instanceId, 'sent', undefined);
    });
  }

  /**
   * A custom event (IoReportTargetDeviceChange(Asynchronous) by a driver): DEVICECUSTOMEVENT with
   * `eventGuid`, `data` and `nameOffset` to the device's DEVICEHANDLE registrations. `data` is copied.
   *
   * @param nameOffset byte offset of a NUL-terminated WCHAR string inside `data`, or -1 for none
   * (CM_NOTIFY_EVENT_DATA.u.DeviceHandle.NameOffset, docs/reference/structs.md#cm-notify-event-data).
   * @throws SimulatorError SIM_BAD_GUID / SIM_BAD_ARGUMENT for bad arguments, SIM_NO_SUCH_DEVICE when
   * the instance is not present.
   */
  sendCustomEvent(instanceId: string, eventGuid: string, data: Uint8Array, nameOffset = -1): Promise<void> {
    const guid = canonicalGuid(eventGuid);
    if (guid === undefined) {
      return Promise.reject(
        new SimulatorError('SIM_BAD_GUID', `sendCustomEvent: event GUID '${eventGuid}' is not a braced GUID`, {
          eventGuid,
        }),
      );
    }
    if (!Number.isInteger(nameOffset) || nameOffset < -1 || nameOffset >= Math.max(data.length, 1)) {
      return Promise.reject(
        new SimulatorError(
          'SIM_BAD_ARGUMENT',
          `sendCustomEvent: nameOffset ${nameOffset} must be -1 (no name) or a byte offset inside the ${data.length}-byte data`,
          { nameOffset },
        ),
      );
    }
    const payload = data.slice();
    return this.#enqueueOp(async () => {
      const inc = this.#presentDevice('sendCustomEvent', instanceId);
      await fanOutAndWait(
        this.#handleRegs(inc),
        CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICECUSTOMEVENT,
        inc.instanceId,
        handleEvent(guid, nameOffset, payload),
      );
      this.#logPnp('customEvent', inc.instanceId, 'sent', `event ${guid}, ${payload.length} byte(s)`);
    });
  }

  /**
   * Calls `listener` each time `instanceId` is removed (`'removed'` after a successful query-remove,
   * `'surprise'` for a surprise removal), at the moment the device leaves, before the interface-removal
   * notifications. For the GenericUSBFn.sys model: fail the I/O of stale handles. Persists across replugs.
   * @returns a function that removes the listener.
   */
  onRemoved(instanceId: string, listener: (how: CmRemovalKind) => void): () => void {
    return this.#removedListeners.add(lookupKey(instanceId), listener);
  }

  // -------------------------------------------------------------------------------------------
  // Handles

  /**
   * The GenericUSBFn.sys model reports a successful CreateFileW on `symbolicLink`. Access rights and
   * sharing are the driver model's business; this only tracks the handle for query-remove and
   * DEVICEHANDLE registrations.
   * @returns the handle, or `undefined` when the interface is not present (unknown, removed, or its
   * device is being removed): the port then fails CreateFileW with ERROR_FILE_NOT_FOUND.
   */
  openHandle(symbolicLink: string): CmHandle | undefined {
    const rec = this.#interfaces.get(lookupKey(symbolicLink));
    const inc = rec?.enabledBy;
    if (inc === undefined || inc.state !== 'present') return undefined;
    return new SimCmHandle(this.#nextHandleId++, symbolicLink, inc);
  }

  // -------------------------------------------------------------------------------------------
  // Registrations

  /**
   * CM_Register_Notification. The registration sees only events after this call (no history, docs/reference/configuration-manager.md#no-history):
   * register first, then list (the documented race makes an interface arriving in between show up
   * in both).
   *
   * @throws ConfigRetError (api `CM_Register_Notification`):
   * CR_INVALID_DATA for a malformed class GUID or instance ID, or a handle that was already closed;
   * CR_NO_SUCH_DEVINST for a handle whose device was removed.
   * ASSUMPTION(cm-register-failures): the docs only say "a CR_ code"; those codes are the model's choice.
   * @throws SimulatorError SIM_FOREIGN_HANDLE for a handle not made by this model, SIM_BAD_ARGUMENT
   * for a listener that is not a function.
   */
  register(filter: CmFilter, listener: CmNotifyListener): SimCmRegistration {
    if (typeof listener !== 'function') {
      throw new SimulatorError('SIM_BAD_ARGUMENT', 'register: the listener must be a function (PCM_NOTIFY_CALLBACK)');
    }
    const match = resolveCmFilter(filter);
    const reg = new SimCmRegistration(`cm-reg-${this.#nextRegId++}`, match, listener, this.#ctx);
    this.#regs.add(reg);
    return reg;
  }

  // -------------------------------------------------------------------------------------------
  // Interface lists (CM_Get_Device_Interface_List_SizeW / CM_Get_Device_Interface_ListW)

  /**
   * CM_Get_Device_Interface_List_SizeW: the buffer size in WCHARs the list needs, including every
   * link's NUL and the final NUL. An empty list needs 1 (ASSUMPTION(cm-empty-list)).
   * @throws ConfigRetError CR_INVALID_FLAG, CR_INVALID_DATA, CR_INVALID_DEVICE_ID, CR_NO_SUCH_DEVINST
   * (see {@link getInterfaceList}).
   */
  getInterfaceListSize(query: InterfaceListQuery): number {
    return multiSzChars(listInterfaceLinks('CM_Get_Device_Interface_List_SizeW', query, this.#interfaces.values(), this.#devices));
  }

  /**
   * CM_Get_Device_Interface_ListW into a buffer of `bufferChars` WCHARs: the raw REG_MULTI_SZ
   * (UTF-16LE, `bufferChars * 2` bytes, zero-filled after the list).
   *
   * Filtering: by class GUID; by `deviceInstanceId` when given (case-insensitive); PRESENT (flags 0)
   * lists interfaces of present devices, ALL_DEVICES (flags 1) also those of removed devices.
   * Order: the order interfaces were first added.
   *
   * ASSUMPTION(cm-list-argument-errors): from ReactOS's reimplementation, not authoritative: unknown flag bits →
   * CR_INVALID_FLAG; a malformed class GUID → CR_INVALID_DATA; a malformed instance ID →
   * CR_INVALID_DEVICE_ID; an instance ID never added → CR_NO_SUCH_DEVINST.
   *
   * @throws ConfigRetError CR_BUFFER_SMALL when `bufferChars` is smaller than the list (*CM pages*: the list
   * grew after the size query; callers loop size → list).
   * @throws SimulatorError SIM_BAD_ARGUMENT when `bufferChars` is not a ULONG.
   */
  getInterfaceList(query: InterfaceListQuery, bufferChars: number): Uint8Array {
    const api = 'CM_Get_Device_Interface_ListW';
    if (!Number.isInteger(bufferChars) || bufferChars < 0 || bufferChars > 0xffffffff) {
      throw new SimulatorError('SIM_BAD_ARGUMENT', `${api}: BufferLen ${bufferChars} is not a ULONG count of WCHARs`, {
        bufferChars,
      });
    }
    const links = listInterfaceLinks(api, query, this.#interfaces.values(), this.#devices);
    const needed = multiSzChars(links);
    if (bufferChars < needed) {
      throw configRetError(api, CONFIGRET.CR_BUFFER_SMALL, {
        target: query.interfaceClassGuid,
        detail: `the list needs ${needed} WCHARs, the buffer holds ${bufferChars}; query the size again and retry (the list may have grown)`,
      });
    }
    return writeMultiSz(links, bufferChars);
  }

  // -------------------------------------------------------------------------------------------
  // Faults

  /**
   * Fault "dropped notification (no history, low memory)": the next `count` (default 1) deliveries
   * matching `action` (any when absent) are lost: the callback is not called and the log records
   * `dropped`. Rules are consumed in the order they were added.
   * ASSUMPTION(cm-dropped-query-remove): a dropped DEVICEQUERYREMOVE counts as not vetoed.
   */
  dropNotifications(match: CmDropMatch = {}): void {
    const count = match.count ?? 1;
    if (!Number.isInteger(count) || count < 1) {
      throw new SimulatorError('SIM_BAD_ARGUMENT', `dropNotifications: count ${count} must be a positive integer`);
    }
    this.#drops.add(match);
  }

  /** Drop faults not yet consumed. */
  get pendingDrops(): number {
    return this.#drops.pending;
  }

  /** Removes every injected fault (the rig calls this after each test; docs/architecture.md#faults-as-overrides). */
  clearFaults(): void {
    this.#drops.clear();
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  #nextLatencyMs(): number {
    const { min, max } = this.#latency;
    return max > min ? min + this.#random.next() * (max - min) : min;
  }

  #enqueueOp<T>(run: () => Promise<T>): Promise<T> {
    // ASSUMPTION(cm-serialized-pnp): PnP operations are processed one at a time, like the PnP manager's event queue.
    const p = this.#ops.then(run);
    // Keep the queue going whatever this operation did; the caller gets `p` itself.
    this.#ops = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  #presentDevice(op: string, instanceId: string): DeviceIncarnation {
    const inc = this.#devices.get(lookupKey(instanceId));
    if (inc === undefined || inc.state !== 'present') {
      throw new SimulatorError(
        'SIM_NO_SUCH_DEVICE',
        `${op}('${instanceId}'): ` +
          (inc === undefined ? 'no such device instance was added' : `the device is ${inc.state}`) +
          '; add it with addDevice() first',
        { instanceId },
      );
    }
    return inc;
  }

  /**
   * The device leaves: interfaces disabled, listeners told, then interface/complete/instance notifications.
   * ASSUMPTION(cm-removal-order): the docs give no cross-filter order; INTERFACEREMOVAL → REMOVECOMPLETE →
   * INSTANCEREMOVED, each stage after every delivery of the previous one.
   */
  async #finishRemoval(inc: DeviceIncarnation, how: CmRemovalKind): Promise<void> {
    for (const rec of inc.interfaces) if (rec.enabledBy === inc) rec.enabledBy = undefined;
    inc.state = 'removed';
    const listenerErrors = this.#removedListeners.tell(inc.instanceKey, how);
    for (const rec of inc.interfaces) {
      await fanOutAndWait(
        this.#interfaceRegs(rec.classGuid),
        CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEINTERFACEREMOVAL,
        rec.symbolicLink,
        interfaceEvent(rec),
      );
    }
    await this.#tellHandles(inc, CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEREMOVECOMPLETE);
    await fanOutAndWait(
      this.#instanceRegs(inc.instanceKey),
      CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEINSTANCEREMOVED,
      inc.instanceId,
      instanceEvent(inc.instanceId),
    );
    if (listenerErrors.length > 0) {
      throw new SimulatorError(
        'SIM_LISTENER_THREW',
        `an onRemoved listener of ${inc.instanceId} threw (${listenerErrors.length} in all); the removal itself completed`,
        { instanceId: inc.instanceId },
        { cause: listenerErrors[0] },
      );
    }
  }

  *#interfaceRegs(classGuid: string): Iterable<SimCmRegistration> {
    for (const r of this.#regs) {
      if (r.match.type === 'deviceInterface' && (r.match.classGuid === '*' || r.match.classGuid === classGuid)) yield r;
    }
  }

  *#instanceRegs(instanceKey: string): Iterable<SimCmRegistration> {
    for (const r of this.#regs) {
      if (r.match.type === 'deviceInstance' && (r.match.instanceKey === '*' || r.match.instanceKey === instanceKey)) {
        yield r;
      }
    }
  }

  *#handleRegs(inc: DeviceIncarnation): Iterable<SimCmRegistration> {
    for (const r of this.#regs) if (r.match.type === 'deviceHandle' && r.match.incarnation === inc) yield r;
  }

  /** An action without payload to the device's DEVICEHANDLE registrations, once every delivery was made. */
  #tellHandles(inc: DeviceIncarnation, action: number): Promise<DeliveryResult[]> {
    return fanOutAndWait(this.#handleRegs(inc), action, inc.instanceId, handleEvent(GUID_NULL, 0, EMPTY));
  }

  #logPnp(op: CmPnpLogEntry['op'], instanceId: string, outcome: string, detail: string | undefined): void {
    this.#log.push({ kind: 'pnp', seq: this.#log.length, timeMs: this.#clock.now(), op, instanceId, outcome, detail });
  }
}
