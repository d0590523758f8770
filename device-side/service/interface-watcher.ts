/**
 * The interface watcher: the Configuration Manager side of a user-mode USB service, steps 1–3, 7 and 8 of
 * Microsoft's flow. It finds the function's device interface, owns the handle, and reacts to the handle's
 * notifications; what is done with an open handle is its {@link InterfaceHandler}'s business (the service
 * runs a bus session on it).
 *
 * 1. register for interface arrival (CM_Register_Notification DEVICEINTERFACE) before listing, so nothing
 *    is missed;
 * 2. list existing interfaces (CM_Get_Device_Interface_ListW). An interface that arrives between 1 and 2 is
 *    reported twice: it is opened once. While nothing is open the list is read again every
 *    `rescanIntervalMs` (CM keeps no history and may drop a notification);
 * 3. CreateFileW, then CM_Register_Notification(DEVICEHANDLE) for that handle, then the handler's
 *    {@link InterfaceHandler.opened};
 * 7. handle notifications: QUERYREMOVE closes the handle inside the callback (or the function vetoes);
 *    QUERYREMOVEFAILED unregisters the old registration from a deferred routine, reopens and re-registers;
 *    REMOVEPENDING / REMOVECOMPLETE unregister (deferred) and close; CUSTOMEVENT goes to the handler;
 * 8. stop: cancel what is in progress, close, unregister every notification.
 *
 * @note CM callbacks run synchronously and must be quick, and a registration must never be unregistered
 * from inside its own callback (that deadlocks on Windows). Every such step is deferred with a zero timer
 * and serialized with the other lifecycle work, so steps never interleave.
 * @see https://learn.microsoft.com/windows-hardware/drivers/usbcon/user-mode-services-ufx
 * @see https://learn.microsoft.com/windows/win32/api/cfgmgr32/nf-cfgmgr32-cm_register_notification
 */
import { isCancelled, withTimeout, type ClockTimer } from '../../core/index.js';
import { CM_NOTIFY_ACTION, decodeCmNotifyEventData, normalizeGuid, WIN32_ERROR } from '../abi/index.js';
import { listInterfaces } from '../list-interfaces.js';
import type { CmRegistration, UsbFnFile, UsbFnPort } from '../usbfn-port.js';
import type { DeviceEventLog } from './device-event-log.js';
import type { DeconfigureReason } from './function-api.js';
import { ServiceStateError, type ServiceState } from './service-state.js';

/** What the watcher does with the handle it opened (the service's bus session). */
export interface InterfaceHandler {
  /**
   * Step 4 on a handle that was just opened and registered for its notifications. Rejecting makes the
   * watcher close the handle and wait for an interface again. `signal` aborts when the watcher stops.
   */
  opened(file: UsbFnFile, signal: AbortSignal): Promise<void>;
  /**
   * The handle is about to close: stop using it. Called synchronously right before CloseHandle (also inside
   * a QUERYREMOVE callback); the promise, which must not reject, is awaited after CloseHandle.
   */
  closing(reason: DeconfigureReason): Promise<void>;
  /** CM_NOTIFY_ACTION_DEVICEQUERYREMOVE: 'veto' keeps the handle open (ERROR_CANCELLED). Synchronous. */
  queryRemove(): 'allow' | 'veto';
  /** CM_NOTIFY_ACTION_DEVICECUSTOMEVENT on the handle. */
  customEvent(eventGuid: string, data: Uint8Array, nameOffset: number): void;
}

/** Options of {@link InterfaceWatcher}. */
export interface InterfaceWatcherOptions {
  readonly port: UsbFnPort;
  /** The function's InterfaceGUID. */
  readonly interfaceClassGuid: string;
  readonly handler: InterfaceHandler;
  readonly log: DeviceEventLog;
  /** Bound on each CM call and on CreateFileW, and on the whole of {@link InterfaceWatcher.stop}. Default 10 s. */
  readonly stepTimeoutMs?: number | undefined;
  /** While waiting for an interface, list again every this many ms; 0 disables. Default 5 s. */
  readonly rescanIntervalMs?: number | undefined;
  /** Called after every state change. */
  readonly onStateChange?: ((state: ServiceState) => void) | undefined;
}

const ACTION = CM_NOTIFY_ACTION;

export class InterfaceWatcher {
  readonly #port: UsbFnPort;
  readonly #guid: string;
  readonly #handler: InterfaceHandler;
  readonly #log: DeviceEventLog;
  readonly #stepTimeoutMs: number;
  readonly #rescanIntervalMs: number;
  readonly #onStateChange: ((state: ServiceState) => void) | undefined;
  /** Aborts at stop: every step in progress gives up at once. */
  readonly #stopController = new AbortController();
  /** Deferred routines not run yet (cancelled at stop). */
  readonly #deferred = new Set<ClockTimer>();
  #state: ServiceState = 'idle';
  #rescanTimer: ClockTimer | undefined;
  #link: string | undefined;
  #file: UsbFnFile | undefined;
  #interfaceReg: CmRegistration | undefined;
  #handleReg: CmRegistration | undefined;
  /** Serializes lifecycle work (start, offers, reopen, teardown) so steps never interleave. */
  #work: Promise<void> = Promise.resolve();
  #opens = 0;

  constructor(options: InterfaceWatcherOptions) {
    this.#port = options.port;
    this.#guid = normalizeGuid(options.interfaceClassGuid);
    this.#handler = options.handler;
    this.#log = options.log;
    this.#stepTimeoutMs = options.stepTimeoutMs ?? 10_000;
    this.#rescanIntervalMs = options.rescanIntervalMs ?? 5_000;
    this.#onStateChange = options.onStateChange;
  }

  get state(): ServiceState {
    return this.#state;
  }

  /** The normalized InterfaceGUID watched. */
  get interfaceClassGuid(): string {
    return this.#guid;
  }

  /** The symbolic link currently open (or last opened). */
  get symbolicLink(): string | undefined {
    return this.#link;
  }

  /** How many times CreateFileW succeeded. */
  get openCount(): number {
    return this.#opens;
  }

  /**
   * Steps 1–2: register for arrival, then list and open what is present. Resolves once the listed
   * interfaces were processed.
   * @throws ServiceStateError unless idle; ConfigRetError from CM (a failed registration leaves the watcher
   * idle; a failed list leaves it registered and rescanning); TimeoutError; AbortedError when stopped meanwhile.
   */
  async start(): Promise<void> {
    this.#expect('start', ['idle']);
    this.#setState('waitingForInterface');
    // Registers now, synchronously inside start() (nothing else can be queued while idle); later work and
    // stop wait for the list to be processed.
    const started = (async (): Promise<void> => {
      try {
        this.#interfaceReg = await this.#step(
          'CM_Register_Notification(DEVICEINTERFACE)',
          this.#port.watchInterfaces(this.#guid, (action, data) => this.#onInterfaceEvent(action, data)),
          (late) => void late.unregister().catch(() => undefined),
        );
      } catch (err) {
        if (this.#state === 'waitingForInterface') this.#setState('idle');
        throw err;
      }
      this.#log.info('registered', { filter: 'deviceInterface', id: this.#interfaceReg.id });
      const links = await this.#step('CM_Get_Device_Interface_ListW', listInterfaces(this.#port, { interfaceClassGuid: this.#guid }));
      this.#log.info('listed', { links });
      for (const link of links) this.#offer(link, 'list');
    })();
    this.#work = started.catch(() => undefined);
    await started;
    await this.#work;
  }

  /**
   * The handle's user found `file` unusable (its bus-event loop failed): close it and wait for an interface
   * again, so the rescan opens it anew. Ignored unless `file` is still the open handle.
   */
  closeAndRescan(file: UsbFnFile, reason: 'busEventLoopFailed'): void {
    this.#enqueue(async () => {
      if (file === this.#file) await this.#teardown(reason);
    });
  }

  /**
   * Step 8: cancel the step in progress and the deferred routines, close the handle, unregister every
   * notification. One deadline (the step timeout) for all of it. Idempotent.
   * @throws TimeoutError when the work did not finish in time (the state is 'stopped' all the same).
   */
  async stop(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return;
    if (this.#state === 'idle') {
      this.#setState('stopped');
      return;
    }
    this.#setState('stopping');
    this.#log.info('stop');
    this.#stopController.abort();
    for (const timer of this.#deferred) timer.cancel();
    this.#deferred.clear();
    const work = (async (): Promise<void> => {
      await this.#work;
      await this.#closeHandle('stopped');
      await this.#unregister(this.#handleReg, 'deviceHandle');
      this.#handleReg = undefined;
      await this.#unregister(this.#interfaceReg, 'deviceInterface');
      this.#interfaceReg = undefined;
    })();
    try {
      await withTimeout(this.#port.clock, work, 'service stop', this.#stepTimeoutMs);
    } catch (err) {
      this.#log.error('stopFailed', err);
      throw err;
    } finally {
      this.#setState('stopped');
    }
  }

  // ------------------------------------------------------------------------------------------------
  // CM callbacks: synchronous, quick, never unregister themselves. Work is deferred.

  #onInterfaceEvent(action: number, eventData: Uint8Array): number {
    try {
      const ev = decodeCmNotifyEventData(eventData);
      if (ev.filterType !== 'deviceInterface') return WIN32_ERROR.ERROR_SUCCESS;
      if (action === ACTION.CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL) {
        this.#log.info('interfaceArrival', { link: ev.symbolicLink });
        this.#defer(() => this.#offer(ev.symbolicLink, 'arrival'));
      } else if (action === ACTION.CM_NOTIFY_ACTION_DEVICEINTERFACEREMOVAL) {
        this.#log.info('interfaceRemoval', { link: ev.symbolicLink });
        if (this.#isCurrent(ev.symbolicLink)) this.#defer(() => this.#enqueue(() => this.#teardown('interfaceRemoval')));
      }
    } catch (err) {
      this.#log.error('interfaceCallbackFailed', err, { action });
    }
    return WIN32_ERROR.ERROR_SUCCESS;
  }

  #onHandleEvent(file: UsbFnFile, action: number, eventData: Uint8Array): number {
    try {
      switch (action) {
        case ACTION.CM_NOTIFY_ACTION_DEVICEQUERYREMOVE: {
          const verdict = this.#handler.queryRemove();
          this.#log.info('queryRemove', { verdict });
          if (verdict === 'veto') return WIN32_ERROR.ERROR_CANCELLED;
          // Close now, inside the callback: an open handle would veto the removal.
          if (file === this.#file) {
            this.#setState('closedForRemoval');
            this.#closeHandle('closed').catch((err: unknown) => this.#log.error('lifecycleFailed', err));
          }
          return WIN32_ERROR.ERROR_SUCCESS;
        }
        case ACTION.CM_NOTIFY_ACTION_DEVICEQUERYREMOVEFAILED:
          this.#log.info('queryRemoveFailed');
          this.#defer(() => this.#enqueue(() => this.#reopenAfterFailedRemoval()));
          return WIN32_ERROR.ERROR_SUCCESS;
        case ACTION.CM_NOTIFY_ACTION_DEVICEREMOVEPENDING:
        case ACTION.CM_NOTIFY_ACTION_DEVICEREMOVECOMPLETE:
          this.#log.info(action === ACTION.CM_NOTIFY_ACTION_DEVICEREMOVEPENDING ? 'removePending' : 'removeComplete');
          this.#defer(() => this.#enqueue(() => this.#teardown('removal')));
          return WIN32_ERROR.ERROR_SUCCESS;
        case ACTION.CM_NOTIFY_ACTION_DEVICECUSTOMEVENT: {
          const ev = decodeCmNotifyEventData(eventData);
          if (ev.filterType === 'deviceHandle') {
            this.#log.info('customEvent', { eventGuid: ev.eventGuid, bytes: ev.data.byteLength });
            this.#handler.customEvent(ev.eventGuid, ev.data, ev.nameOffset);
          }
          return WIN32_ERROR.ERROR_SUCCESS;
        }
        default:
          this.#log.warn('unexpectedHandleAction', { action });
          return WIN32_ERROR.ERROR_SUCCESS;
      }
    } catch (err) {
      this.#log.error('handleCallbackFailed', err, { action });
      return WIN32_ERROR.ERROR_SUCCESS;
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Lifecycle steps (serialized through #work).

  #offer(link: string, source: 'list' | 'arrival' | 'rescan'): void {
    this.#enqueue(async () => {
      if (this.#state !== 'waitingForInterface') {
        // The register-then-list race reports one interface twice: open it once.
        this.#log.info('offerIgnored', { link, source, state: this.#state, duplicate: this.#isCurrent(link) });
        return;
      }
      await this.#open(link);
    });
  }

  async #open(link: string): Promise<void> {
    this.#setState('opening');
    try {
      const file = await this.#step('CreateFileW', this.#port.open(link), (late) => void late.close().catch(() => undefined));
      this.#opens++;
      this.#file = file;
      this.#link = link;
      this.#log.info('open', { link });
      this.#handleReg = await this.#step(
        'CM_Register_Notification(DEVICEHANDLE)',
        this.#port.watchHandle(file, (action, data) => this.#onHandleEvent(file, action, data)),
        (late) => void late.unregister().catch(() => undefined),
      );
      this.#log.info('registered', { filter: 'deviceHandle', id: this.#handleReg.id });
      await this.#handler.opened(file, this.#stopController.signal);
      // A QUERYREMOVE or a stop may have closed the handle while it was being activated.
      if (this.#state === 'opening' && this.#file === file) this.#setState('active');
    } catch (err) {
      if (this.#stopController.signal.aborted) this.#log.info('openCancelled', { link });
      else this.#log.error('openFailed', err, { link });
      // Closed for a removal: the registration stays, to hear REMOVECOMPLETE or QUERYREMOVEFAILED.
      const forRemoval = this.#state === 'closedForRemoval';
      await this.#closeHandle('closed');
      if (!forRemoval) {
        await this.#unregister(this.#handleReg, 'deviceHandle');
        this.#handleReg = undefined;
      }
      if (this.#state === 'opening') this.#setState('waitingForInterface');
    }
  }

  async #reopenAfterFailedRemoval(): Promise<void> {
    if (this.#state !== 'closedForRemoval') {
      this.#log.info('queryRemoveFailedIgnored', { state: this.#state, reason: 'handle still open' });
      return;
    }
    // Deferred routine: unregister the old handle registration (never from its own callback), reopen, re-register.
    await this.#unregister(this.#handleReg, 'deviceHandle');
    this.#handleReg = undefined;
    const link = this.#link;
    this.#setState('waitingForInterface');
    if (link !== undefined) await this.#open(link);
  }

  async #teardown(reason: 'removal' | 'interfaceRemoval' | 'busEventLoopFailed'): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped' || this.#state === 'waitingForInterface') {
      // REMOVECOMPLETE and interface removal both arrive for one removal; the second finds nothing to do.
      if (this.#handleReg !== undefined && this.#file === undefined) {
        await this.#unregister(this.#handleReg, 'deviceHandle');
        this.#handleReg = undefined;
      }
      return;
    }
    this.#log.info('teardown', { reason });
    await this.#closeHandle('closed');
    await this.#unregister(this.#handleReg, 'deviceHandle');
    this.#handleReg = undefined;
    this.#setState('waitingForInterface');
  }

  // ------------------------------------------------------------------------------------------------
  // Helpers.

  /**
   * Tells the handler, then CloseHandle (which cancels the handle's pending I/O), then waits for the handler.
   * Synchronous up to CloseHandle, so a QUERYREMOVE callback has closed the handle when it returns.
   */
  async #closeHandle(reason: DeconfigureReason): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    const released = this.#handler.closing(reason);
    if (file?.isOpen) {
      try {
        await file.close();
        this.#log.info('close', { link: file.symbolicLink });
      } catch (err) {
        this.#log.error('closeFailed', err);
      }
    }
    await released;
  }

  async #unregister(reg: CmRegistration | undefined, filter: string): Promise<void> {
    if (reg === undefined) return;
    try {
      await withTimeout(this.#port.clock, reg.unregister(), 'CM_Unregister_Notification', this.#stepTimeoutMs);
      this.#log.info('unregistered', { filter, id: reg.id });
    } catch (err) {
      this.#log.error('unregisterFailed', err, { filter, id: reg.id });
    }
  }

  /**
   * One bounded step that gives up at stop. `discard` disposes of a result that arrives after the step gave
   * up (a handle or a registration nobody holds).
   */
  #step<T>(what: string, promise: Promise<T>, discard?: (late: T) => void): Promise<T> {
    return withTimeout(this.#port.clock, promise, what, this.#stepTimeoutMs, {
      signal: this.#stopController.signal,
      onGiveUp: () => {
        if (discard !== undefined) promise.then(discard, () => undefined);
      },
    });
  }

  /** Runs `fn` later, outside any CM callback (the deferred routine cfgmgr32 asks for); nothing once stopping. */
  #defer(fn: () => void): void {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    const timer = this.#port.clock.setTimer(0, () => {
      this.#deferred.delete(timer);
      fn();
    });
    this.#deferred.add(timer);
  }

  #enqueue(step: () => Promise<void>): void {
    this.#work = this.#work.then(step).catch((err: unknown) => {
      // A step that gave up because of stop is not a failure.
      if (!(this.#stopController.signal.aborted && isCancelled(err))) this.#log.error('lifecycleFailed', err);
    });
  }

  #isCurrent(link: string): boolean {
    return this.#link !== undefined && this.#link.toLowerCase() === link.toLowerCase() && this.#state !== 'waitingForInterface';
  }

  #expect(action: string, states: readonly ServiceState[]): void {
    if (!states.includes(this.#state)) throw new ServiceStateError(action, states, this.#state);
  }

  #setState(state: ServiceState): void {
    if (this.#state === state) return;
    this.#state = state;
    if (state === 'waitingForInterface') this.#armRescan();
    else {
      this.#rescanTimer?.cancel();
      this.#rescanTimer = undefined;
    }
    this.#onStateChange?.(state);
  }

  /** Lists interfaces again after the rescan interval while nothing is open (recovers a lost arrival). */
  #armRescan(): void {
    if (this.#rescanIntervalMs <= 0 || this.#rescanTimer !== undefined) return;
    this.#rescanTimer = this.#port.clock.setTimer(this.#rescanIntervalMs, () => {
      this.#rescanTimer = undefined;
      if (this.#state !== 'waitingForInterface') return;
      this.#enqueue(async () => {
        const links = await this.#step('CM_Get_Device_Interface_ListW', listInterfaces(this.#port, { interfaceClassGuid: this.#guid }));
        if (links.length > 0) this.#log.info('rescan', { links });
        for (const link of links) this.#offer(link, 'rescan');
      });
      this.#enqueue(async () => {
        if (this.#state === 'waitingForInterface') this.#armRescan();
      });
    });
  }
}
