/**
 * One simulated CM_Register_Notification registration: its filter, its callback, and the queue
 * that delivers notifications to it one at a time on the virtual clock.
 *
 * Delivery rules (*CM pages*: CM_Register_Notification / CM_Unregister_Notification remarks;
 * docs/reference/configuration-manager.md#callback):
 * - asynchronous: a notification is never delivered inside the call that caused it; it is scheduled
 *   on the clock (`setTimer`, zero or configured latency). ASSUMPTION(cm-worker-thread), ASSUMPTION(cm-latency);
 * - serialized per registration: the next callback of a registration starts only after the previous one
 *   returned, and one virtual-clock turn later, so the microtasks a callback started run in between.
 *   ASSUMPTION(cm-callbacks-serialized): the remarks say only that unregistering waits for callbacks in
 *   progress; with koffi every callback runs on the one JavaScript thread anyway;
 * - callbacks return ERROR_SUCCESS, or ERROR_CANCELLED to veto a DEVICEQUERYREMOVE; anything else is
 *   recorded as SIM_BAD_CALLBACK_RESULT and treated as ERROR_SUCCESS; a callback that throws is recorded as
 *   SIM_CALLBACK_THREW and treated as ERROR_SUCCESS (koffi makes a throwing JS callback return 0,
 *   docs/reference/configuration-manager.md#koffi-callbacks).
 */
import { type Clock, SimulatorError } from '../../core/index.js';
import {
  CM_NOTIFY_ACTION,
  cmNotifyActionName,
  configRetError,
  CONFIGRET,
  WIN32_ERROR,
  type CmCallbackResult,
  type CmNotifyListener,
  type CmRegistration,
} from '../../device-side/index.js';
import type { CmDeliveryLogEntry, CmFilterType } from './cm-log.js';
import { SimCmHandle, type CmHandle } from './cm-handle.js';
import type { DeviceIncarnation } from './device-incarnation.js';
import { canonicalGuid, instanceIdProblem, lookupKey } from './symbolic-link.js';

/** CM_NOTIFY_ACTION_DEVICEQUERYREMOVE (docs/reference/configuration-manager.md#callback-return): the only action a callback may veto. */
const ACTION_QUERYREMOVE = CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEQUERYREMOVE;

/**
 * A CM_NOTIFY_FILTER as the model takes it (docs/reference/structs.md#cm-notify-filter), one variant per FilterType/Flags pair:
 * - `{ type: 'deviceInterface', classGuid }`: arrivals/removals of interfaces of one class;
 * - `{ type: 'deviceInterface', allInterfaceClasses: true }`: CM_NOTIFY_FILTER_FLAG_ALL_INTERFACE_CLASSES;
 * - `{ type: 'deviceHandle', handle }`: query-remove, remove-pending/complete, query-remove-failed and
 *   custom events of the device behind an open handle;
 * - `{ type: 'deviceInstance', instanceId }`: enumerated/started/removed of one device instance;
 * - `{ type: 'deviceInstance', allDeviceInstances: true }`: CM_NOTIFY_FILTER_FLAG_ALL_DEVICE_INSTANCES.
 */
export type CmFilter =
  | { readonly type: 'deviceInterface'; readonly classGuid: string }
  | { readonly type: 'deviceInterface'; readonly allInterfaceClasses: true }
  | { readonly type: 'deviceHandle'; readonly handle: CmHandle }
  | { readonly type: 'deviceInstance'; readonly instanceId: string }
  | { readonly type: 'deviceInstance'; readonly allDeviceInstances: true };

/**
 * What a registration matches, resolved at registration time: a canonical class GUID or instance key,
 * `'*'` for the ALL_* flags, or the device incarnation a handle was opened on.
 */
export type CmMatch =
  | { readonly type: 'deviceInterface'; readonly classGuid: string | '*' }
  | { readonly type: 'deviceHandle'; readonly incarnation: DeviceIncarnation }
  | { readonly type: 'deviceInstance'; readonly instanceKey: string | '*' };

/** What a registration needs from the model that owns it. */
export interface CmDeliveryContext {
  readonly clock: Clock;
  /** Latency of the next delivery in virtual ms (drawn from the seeded random source). */
  nextLatencyMs(): number;
  /** True (and one fault consumed) when this delivery is to be lost. */
  consumeDrop(action: number): boolean;
  /** Appends a delivery record to the model's log (seq and time are stamped by the model). */
  record(entry: Omit<CmDeliveryLogEntry, 'kind' | 'seq' | 'timeMs'>): void;
  /** The registration is gone: stop routing notifications to it. */
  forget(registration: SimCmRegistration): void;
  /** Whether an unregister with notifications queued delivers the first of them before it returns (seeded). */
  deliverOneDuringUnregister(): boolean;
}

interface Delivery {
  readonly action: number;
  /** Encoded CM_NOTIFY_EVENT_DATA, shared by the registrations of one event; copied per callback. */
  readonly data: Uint8Array;
  readonly target: string;
  readonly done: ((effectiveResult: number) => void) | undefined;
}

/** A registration of the simulated Configuration Manager (an HCMNOTIFICATION). */
export class SimCmRegistration implements CmRegistration {
  readonly id: string;
  readonly match: CmMatch;
  readonly #listener: CmNotifyListener;
  readonly #ctx: CmDeliveryContext;
  readonly #queue: Delivery[] = [];
  #scheduled = false;
  #inCallback = false;
  #active = true;
  /** Set when the running callback misused the API (unregister from inside itself). */
  #misuse: SimulatorError | undefined;
  readonly #pump = (): void => this.#deliverNext();

  constructor(id: string, match: CmMatch, listener: CmNotifyListener, ctx: CmDeliveryContext) {
    this.id = id;
    this.match = match;
    this.#listener = listener;
    this.#ctx = ctx;
  }

  /** The CM_NOTIFY_FILTER_TYPE of this registration. */
  get filterType(): CmFilterType {
    return this.match.type;
  }

  /** False once unregistered. */
  get isActive(): boolean {
    return this.#active;
  }

  /**
   * Queues one notification. `done` is called with the effective result once it was delivered,
   * dropped or discarded (never synchronously).
   */
  enqueue(action: number, data: Uint8Array, target: string, done?: (effectiveResult: number) => void): void {
    if (!this.#active) {
      if (done) this.#ctx.clock.setTimer(0, () => done(WIN32_ERROR.ERROR_SUCCESS));
      return;
    }
    this.#queue.push({ action, data, target, done });
    this.#schedule();
  }

  /**
   * CM_Unregister_Notification. After it resolves no callback of this registration runs again. A
   * notification already queued for it may still be delivered before it resolves (the first one, when the
   * model's seeded draw says so: {@link CmDeliveryContext.deliverOneDuringUnregister}); the others are
   * discarded (logged as `discarded`).
   * ASSUMPTION(cm-unregister-late-delivery): one queued notification at most is delivered late, one clock
   * turn after the call; the CM_Unregister_Notification remarks only warn that notifications may arrive
   * after the decision to unregister, and say the call waits for callbacks in progress.
   *
   * @throws SimulatorError SIM_UNREGISTER_IN_CALLBACK when called from inside this registration's own
   * callback: on Windows CM_Unregister_Notification waits for that callback to return, a deadlock
   * (docs/reference/configuration-manager.md#unregister-rule). The registration stays active.
   * @throws ConfigRetError CR_INVALID_POINTER on a second call.
   * ASSUMPTION(cm-second-unregister): an HCMNOTIFICATION that was already unregistered is reported as
   * CR_INVALID_POINTER (ReactOS-style validation).
   * @see https://learn.microsoft.com/windows/win32/api/cfgmgr32/nf-cfgmgr32-cm_unregister_notification
   */
  unregister(): Promise<void> {
    if (this.#inCallback) {
      const err = new SimulatorError(
        'SIM_UNREGISTER_IN_CALLBACK',
        `CM_Unregister_Notification(${this.id}) was called from inside that registration's own callback. ` +
          'On Windows this deadlocks: CM_Unregister_Notification waits for the in-flight callback to return ' +
          '(docs/reference/configuration-manager.md#unregister-rule). ' +
          'Defer it to another task (queueMicrotask, a scheduled work item) and return from the callback first.',
        { registrationId: this.id },
      );
      this.#misuse ??= err;
      return Promise.reject(err);
    }
    if (!this.#active) {
      return Promise.reject(
        configRetError('CM_Unregister_Notification', CONFIGRET.CR_INVALID_POINTER, {
          target: this.id,
          detail: 'this registration was already unregistered; unregister each HCMNOTIFICATION exactly once',
        }),
      );
    }
    this.#active = false;
    const queued = this.#queue.splice(0);
    const late = queued.length > 0 && this.#ctx.deliverOneDuringUnregister() ? queued.shift() : undefined;
    for (const d of queued) {
      this.#record(d, 'discarded', undefined, WIN32_ERROR.ERROR_SUCCESS, undefined);
      if (d.done) {
        const done = d.done;
        this.#ctx.clock.setTimer(0, () => done(WIN32_ERROR.ERROR_SUCCESS));
      }
    }
    this.#ctx.forget(this);
    // ASSUMPTION(cm-unregister-no-wait): otherwise nothing to wait for. Callbacks are synchronous JS and this
    // call is not inside ours, so none is in flight.
    if (late === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      this.#ctx.clock.setTimer(0, () => {
        this.#deliver(late, true);
        resolve();
      });
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#queue.length === 0 || !this.#active) return;
    this.#scheduled = true;
    this.#ctx.clock.setTimer(this.#ctx.nextLatencyMs(), this.#pump);
  }

  #deliverNext(): void {
    this.#scheduled = false;
    if (!this.#active) return;
    const d = this.#queue.shift();
    if (d === undefined) return;
    this.#deliver(d, false);
    this.#schedule();
  }

  /** Runs the callback for `d` (or loses it to a drop fault), records it and tells its `done`. */
  #deliver(d: Delivery, duringUnregister: boolean): void {
    let effective: number = WIN32_ERROR.ERROR_SUCCESS;
    if (this.#ctx.consumeDrop(d.action)) {
      // ASSUMPTION(cm-dropped-query-remove): a lost DEVICEQUERYREMOVE counts as not vetoed.
      this.#record(d, 'dropped', undefined, effective, undefined);
    } else {
      let result: CmCallbackResult | undefined;
      let error: SimulatorError | undefined;
      this.#inCallback = true;
      this.#misuse = undefined;
      try {
        result = this.#listener(d.action, d.data.slice());
      } catch (e: unknown) {
        error = new SimulatorError(
          'SIM_CALLBACK_THREW',
          `the ${cmNotifyActionName(d.action)} callback of ${this.id} threw; it is treated as ERROR_SUCCESS ` +
            '(koffi returns 0 for a throwing JS callback). Catch errors inside CM callbacks.',
          { registrationId: this.id, action: d.action },
          { cause: e },
        );
      } finally {
        this.#inCallback = false;
      }
      if (error === undefined) {
        const checked = checkResult(this.id, d.action, result);
        effective = checked.effective;
        error = checked.error;
      }
      this.#record(d, 'delivered', typeof result === 'number' ? result : undefined, effective, error ?? this.#misuse, duringUnregister);
      this.#misuse = undefined;
    }
    d.done?.(effective);
  }

  #record(
    d: Delivery,
    outcome: CmDeliveryLogEntry['outcome'],
    result: number | undefined,
    effectiveResult: number,
    error: SimulatorError | undefined,
    duringUnregister = false,
  ): void {
    this.#ctx.record({
      ...(duringUnregister ? { duringUnregister: true as const } : {}),
      registrationId: this.id,
      filterType: this.match.type,
      action: d.action,
      actionName: cmNotifyActionName(d.action),
      target: d.target,
      outcome,
      result,
      effectiveResult,
      error,
    });
  }
}

/**
 * Validates a callback's return value (*CM pages*, docs/reference/configuration-manager.md#callback-return): ERROR_SUCCESS always; ERROR_CANCELLED
 * only for DEVICEQUERYREMOVE (a veto). Anything else is a SIM_BAD_CALLBACK_RESULT, acted on as success.
 */
function checkResult(
  registrationId: string,
  action: number,
  result: unknown,
): { effective: number; error: SimulatorError | undefined } {
  const ok = WIN32_ERROR.ERROR_SUCCESS;
  if (result === ok) return { effective: ok, error: undefined };
  if (result === WIN32_ERROR.ERROR_CANCELLED && action === ACTION_QUERYREMOVE) {
    return { effective: WIN32_ERROR.ERROR_CANCELLED, error: undefined };
  }
  const why =
    result === WIN32_ERROR.ERROR_CANCELLED
      ? `returned ERROR_CANCELLED (1223), which is only meaningful for CM_NOTIFY_ACTION_DEVICEQUERYREMOVE`
      : `returned ${typeof result === 'number' ? result : String(result)}`;
  return {
    effective: ok,
    error: new SimulatorError(
      'SIM_BAD_CALLBACK_RESULT',
      `the ${cmNotifyActionName(action)} callback of ${registrationId} ${why}; it is treated as ERROR_SUCCESS. ` +
        'Return ERROR_SUCCESS (0), or ERROR_CANCELLED (1223) to veto a DEVICEQUERYREMOVE (CM_Register_Notification remarks).',
      { registrationId, action, result: typeof result === 'number' ? result : String(result) },
    ),
  };
}

/**
 * The match of a CM_Register_Notification filter (the checks `ConfigManagerModel.register` documents).
 * @throws ConfigRetError CR_INVALID_DATA / CR_NO_SUCH_DEVINST; SimulatorError SIM_FOREIGN_HANDLE.
 */
export function resolveCmFilter(filter: CmFilter): CmMatch {
  const api = 'CM_Register_Notification';
  switch (filter.type) {
    case 'deviceInterface': {
      if ('allInterfaceClasses' in filter) return { type: 'deviceInterface', classGuid: '*' };
      const guid = canonicalGuid(filter.classGuid);
      if (guid === undefined) {
        throw configRetError(api, CONFIGRET.CR_INVALID_DATA, {
          target: `DEVICEINTERFACE ${filter.classGuid}`,
          detail: `'${filter.classGuid}' is not a braced GUID {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}; check the InterfaceGUID registry value`,
        });
      }
      return { type: 'deviceInterface', classGuid: guid };
    }
    case 'deviceHandle': {
      const h = filter.handle;
      if (!(h instanceof SimCmHandle)) {
        throw new SimulatorError('SIM_FOREIGN_HANDLE', 'register: the DEVICEHANDLE filter needs a handle from this model\'s openHandle()');
      }
      if (!h.isOpen) {
        throw configRetError(api, CONFIGRET.CR_INVALID_DATA, {
          target: `DEVICEHANDLE #${h.id}`,
          detail: 'the handle was already closed; register on an open handle (hTarget must be valid during the call, docs/reference/structs.md#cm-notify-filter)',
        });
      }
      if (h.incarnation.state !== 'present') {
        throw configRetError(api, CONFIGRET.CR_NO_SUCH_DEVINST, {
          target: `DEVICEHANDLE #${h.id}`,
          detail: `device ${h.instanceId} behind the handle was removed; close it and wait for the interface to arrive again`,
        });
      }
      return { type: 'deviceHandle', incarnation: h.incarnation };
    }
    case 'deviceInstance': {
      if ('allDeviceInstances' in filter) return { type: 'deviceInstance', instanceKey: '*' };
      const problem = instanceIdProblem(filter.instanceId);
      if (problem !== undefined) {
        throw configRetError(api, CONFIGRET.CR_INVALID_DATA, {
          target: `DEVICEINSTANCE ${filter.instanceId}`,
          detail: `bad device instance ID: ${problem}`,
        });
      }
      return { type: 'deviceInstance', instanceKey: lookupKey(filter.instanceId) };
    }
  }
}
