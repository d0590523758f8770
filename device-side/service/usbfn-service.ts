/**
 * The user-mode USB interface service: Microsoft's documented flow for talking to GenericUSBFn.sys
 * (DESIGN.md §4, D-OV), as an explicit state machine over the {@link UsbFnPort} seam, so the same code
 * runs over the simulator and over the real driver.
 *
 * Lifecycle:
 * 1. register for interface arrival (CM_Register_Notification DEVICEINTERFACE) — before listing, so nothing
 *    is missed; an interface that arrives in between is reported twice and opened once;
 * 2. list existing interfaces (CM_Get_Device_Interface_ListW, CR_BUFFER_SMALL loop);
 * 3. CreateFileW, then CM_Register_Notification(DEVICEHANDLE) for that handle;
 * 4. GET_CLASS_INFO → ACTIVATE_USB_BUS;
 * 5. keep several BUS_EVENT_NOTIFICATION requests outstanding and dispatch events; class setup packets
 *    are answered on pipe 0 (data stage, then the opposite-direction handshake) or stalled;
 * 6. transfers only while configured (the function's context aborts at reset/detach/unconfigure);
 * 7. handle notifications: QUERYREMOVE closes the handle (or the function vetoes); QUERYREMOVEFAILED
 *    reopens from a deferred routine; REMOVEPENDING/REMOVECOMPLETE unregister (deferred) and close;
 *    CUSTOMEVENT goes to the function; re-arrival starts again;
 * 8. stop: cancel outstanding I/O, unregister every notification, close.
 *
 * @see https://learn.microsoft.com/windows-hardware/drivers/usbcon/user-mode-services-ufx (D-OV)
 * @see https://learn.microsoft.com/windows/win32/api/cfgmgr32/nf-cfgmgr32-cm_register_notification (D-CM)
 */
import { withTimeout, type ClockTimer, type SetupPacket, HarnessError, isCancelled, UsageError } from '../../core/index.js';
import { busSpeedName, CM_NOTIFY_ACTION, decodeCmNotifyEventData, normalizeGuid, WIN32_ERROR, type UsbfnClassInformationPacket, type UsbfnNotification } from '../abi/index.js';
import { listInterfaces } from '../list-interfaces.js';
import { UsbFnClient } from '../usbfn-client.js';
import type { CmRegistration, UsbFnFile, UsbFnPort } from '../usbfn-port.js';
import { DeviceEventLog } from './device-event-log.js';
import type { DeconfigureReason, FunctionContext, UsbFunction } from './function-api.js';
import { ConfiguredFunctionContext, resolvePipes } from './function-context.js';
import { answerSetup } from './setup-responder.js';

/** Where the service is in its lifecycle. */
export type ServiceState =
  /** Constructed, not started. */
  | 'idle'
  /** Registered for arrival; no interface open. */
  | 'waitingForInterface'
  /** CreateFileW → handle registration → GET_CLASS_INFO → ACTIVATE_USB_BUS in progress. */
  | 'opening'
  /** Handle open, bus activated, bus-event loop running. */
  | 'active'
  /** Handle closed in answer to QUERYREMOVE; waiting for REMOVECOMPLETE or QUERYREMOVEFAILED. */
  | 'closedForRemoval'
  | 'stopping'
  | 'stopped';

/** The bus as the service last saw it through bus events. */
export type BusState = 'unknown' | 'attached' | 'default' | 'configured' | 'suspended' | 'detached';

/** A guard failed: the service was asked to do something its state does not allow. */
export class ServiceStateError extends HarnessError {
  override readonly name = 'ServiceStateError';
  constructor(action: string, expected: readonly ServiceState[], actual: ServiceState) {
    super(
      'SERVICE_STATE',
      `[SERVICE_STATE] ${action} needs the service in state ${expected.join(' or ')}, but it is '${actual}'`,
      { action, expected: [...expected], actual },
    );
  }
}

export interface UsbFnServiceOptions {
  readonly port: UsbFnPort;
  /** The function's InterfaceGUID (USBFN registry, reference §5). */
  readonly interfaceClassGuid: string;
  readonly fn: UsbFunction;
  /** BUS_EVENT_NOTIFICATION requests kept outstanding (D-UFX recommends several). Default 4. */
  readonly busEventDepth?: number | undefined;
  /** Bound on each step of opening (CreateFileW … ACTIVATE). Default 10 s on the port's clock. */
  readonly stepTimeoutMs?: number | undefined;
  /**
   * While waiting for an interface, list interfaces again every this many ms, so an arrival whose
   * notification was lost (CM keeps no history, and drops notifications under low memory) is still found.
   * 0 disables. Default 5 s on the port's clock.
   */
  readonly rescanIntervalMs?: number | undefined;
  readonly log?: DeviceEventLog | undefined;
}

interface StateWaiter {
  readonly predicate: () => boolean;
  readonly resolve: () => void;
}

const ACTION = CM_NOTIFY_ACTION;

export class UsbFnService {
  readonly log: DeviceEventLog;
  readonly fn: UsbFunction;
  readonly #port: UsbFnPort;
  readonly #guid: string;
  readonly #busEventDepth: number;
  readonly #stepTimeoutMs: number;
  readonly #rescanIntervalMs: number;
  #rescanTimer: ClockTimer | undefined;
  #configurationValue: number | undefined;

  #state: ServiceState = 'idle';
  #bus: BusState = 'unknown';
  #speed: FunctionContext['speed'] | undefined;
  #link: string | undefined;
  #file: UsbFnFile | undefined;
  #client: UsbFnClient | undefined;
  #classInfo: UsbfnClassInformationPacket | undefined;
  #interfaceReg: CmRegistration | undefined;
  #handleReg: CmRegistration | undefined;
  #busLoopAbort: AbortController | undefined;
  #busLoop: Promise<void> = Promise.resolve();
  #configured: { controller: AbortController; context: ConfiguredFunctionContext } | undefined;
  /** Serializes lifecycle work (offers, reopen, teardown) so steps never interleave. */
  #work: Promise<void> = Promise.resolve();
  /** Serializes EP0: one control transfer at a time, in bus order. */
  #ep0: Promise<void> = Promise.resolve();
  #waiters: StateWaiter[] = [];
  #opens = 0;

  constructor(options: UsbFnServiceOptions) {
    this.#port = options.port;
    this.#guid = normalizeGuid(options.interfaceClassGuid);
    this.fn = options.fn;
    this.#busEventDepth = options.busEventDepth ?? 4;
    this.#stepTimeoutMs = options.stepTimeoutMs ?? 10_000;
    this.#rescanIntervalMs = options.rescanIntervalMs ?? 5_000;
    this.log = options.log ?? new DeviceEventLog(() => this.#port.clock.now());
  }

  get state(): ServiceState {
    return this.#state;
  }

  get busState(): BusState {
    return this.#bus;
  }

  /** The symbolic link currently open (or last opened). */
  get symbolicLink(): string | undefined {
    return this.#link;
  }

  /** The typed IOCTL client of the open handle (for introspection; functions use their context). */
  get client(): UsbFnClient | undefined {
    return this.#client;
  }

  /** GET_CLASS_INFO as read at the last open. */
  get classInfo(): UsbfnClassInformationPacket | undefined {
    return this.#classInfo;
  }

  /** How many times CreateFileW succeeded (the arrival race must not open twice). */
  get openCount(): number {
    return this.#opens;
  }

  /**
   * Steps 1–2: register for arrival, then list and open what is present. Resolves once the initial list was
   * processed; use {@link whenActive} / {@link whenConfigured} to wait for the device.
   * @throws ServiceStateError unless idle; ConfigRetError from CM.
   */
  async start(): Promise<void> {
    this.#expect('start', ['idle']);
    this.#setState('waitingForInterface');
    this.log.info('start', { interfaceClassGuid: this.#guid, function: this.fn.name });
    this.#interfaceReg = await this.#port.watchInterfaces(this.#guid, (action, data) => this.#onInterfaceEvent(action, data));
    this.log.info('registered', { filter: 'deviceInterface', id: this.#interfaceReg.id });
    const links = await listInterfaces(this.#port, { interfaceClassGuid: this.#guid });
    this.log.info('listed', { links });
    for (const link of links) this.#offer(link, 'list');
    await this.#work;
  }

  /** Resolves when the bus is activated and the event loop runs. @throws TimeoutError */
  whenActive(options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    return this.#when('service active', () => this.#state === 'active', options);
  }

  /** Resolves when the host has configured the device (transfers allowed). @throws TimeoutError */
  whenConfigured(options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    return this.#when('device configured', () => this.#configured !== undefined, options);
  }

  /** Resolves when the service is waiting for an interface again (after removal). @throws TimeoutError */
  whenWaiting(options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    return this.#when('service waiting for interface', () => this.#state === 'waitingForInterface', options);
  }

  /**
   * Step 8: cancel outstanding I/O, unregister every notification, close. Bounded by the step timeout.
   * Idempotent.
   */
  async stop(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return;
    if (this.#state === 'idle') {
      this.#setState('stopped');
      return;
    }
    this.#setState('stopping');
    this.log.info('stop');
    const work = (async (): Promise<void> => {
      await this.#closeHandle('stopped');
      await this.#unregister(this.#handleReg, 'deviceHandle');
      this.#handleReg = undefined;
      await this.#unregister(this.#interfaceReg, 'deviceInterface');
      this.#interfaceReg = undefined;
    })();
    try {
      await withTimeout(this.#port.clock, work, 'service stop', this.#stepTimeoutMs);
    } catch (err) {
      this.log.error('stopFailed', err);
      throw err;
    } finally {
      this.#setState('stopped');
    }
  }

  // ------------------------------------------------------------------------------------------------
  // CM callbacks: synchronous, quick, never unregister themselves (D-CM). Work is deferred.

  #onInterfaceEvent(action: number, eventData: Uint8Array): number {
    try {
      const ev = decodeCmNotifyEventData(eventData);
      if (ev.filterType !== 'deviceInterface') return WIN32_ERROR.ERROR_SUCCESS;
      if (action === ACTION.CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL) {
        this.log.info('interfaceArrival', { link: ev.symbolicLink });
        this.#defer(() => this.#offer(ev.symbolicLink, 'arrival'));
      } else if (action === ACTION.CM_NOTIFY_ACTION_DEVICEINTERFACEREMOVAL) {
        this.log.info('interfaceRemoval', { link: ev.symbolicLink });
        if (this.#isCurrent(ev.symbolicLink)) this.#defer(() => this.#enqueue(() => this.#teardown('interfaceRemoval')));
      }
    } catch (err) {
      this.log.error('interfaceCallbackFailed', err, { action });
    }
    return WIN32_ERROR.ERROR_SUCCESS;
  }

  #onHandleEvent(file: UsbFnFile, action: number, eventData: Uint8Array): number {
    try {
      switch (action) {
        case ACTION.CM_NOTIFY_ACTION_DEVICEQUERYREMOVE: {
          const verdict = this.fn.onQueryRemove?.() ?? 'allow';
          this.log.info('queryRemove', { verdict });
          if (verdict === 'veto') return WIN32_ERROR.ERROR_CANCELLED;
          // Close now, inside the callback: an open handle would veto the removal.
          if (file === this.#file) {
            this.#setState('closedForRemoval');
            void this.#closeHandle('closed');
          }
          return WIN32_ERROR.ERROR_SUCCESS;
        }
        case ACTION.CM_NOTIFY_ACTION_DEVICEQUERYREMOVEFAILED:
          this.log.info('queryRemoveFailed');
          this.#defer(() => this.#enqueue(() => this.#reopenAfterFailedRemoval()));
          return WIN32_ERROR.ERROR_SUCCESS;
        case ACTION.CM_NOTIFY_ACTION_DEVICEREMOVEPENDING:
        case ACTION.CM_NOTIFY_ACTION_DEVICEREMOVECOMPLETE:
          this.log.info(action === ACTION.CM_NOTIFY_ACTION_DEVICEREMOVEPENDING ? 'removePending' : 'removeComplete');
          this.#defer(() => this.#enqueue(() => this.#teardown('removal')));
          return WIN32_ERROR.ERROR_SUCCESS;
        case ACTION.CM_NOTIFY_ACTION_DEVICECUSTOMEVENT: {
          const ev = decodeCmNotifyEventData(eventData);
          if (ev.filterType === 'deviceHandle') {
            this.log.info('customEvent', { eventGuid: ev.eventGuid, bytes: ev.data.byteLength });
            this.fn.onCustomEvent?.(ev.eventGuid, ev.data, ev.nameOffset);
          }
          return WIN32_ERROR.ERROR_SUCCESS;
        }
        default:
          this.log.warn('unexpectedHandleAction', { action });
          return WIN32_ERROR.ERROR_SUCCESS;
      }
    } catch (err) {
      this.log.error('handleCallbackFailed', err, { action });
      return WIN32_ERROR.ERROR_SUCCESS;
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Lifecycle steps (serialized through #work).

  #offer(link: string, source: 'list' | 'arrival' | 'rescan'): void {
    this.#enqueue(async () => {
      if (this.#state !== 'waitingForInterface') {
        // The register-then-list race reports one interface twice (D-CM): open it once.
        this.log.info('offerIgnored', { link, source, state: this.#state, duplicate: this.#isCurrent(link) });
        return;
      }
      await this.#open(link);
    });
  }

  async #open(link: string): Promise<void> {
    this.#setState('opening');
    const step = <T>(what: string, p: Promise<T>): Promise<T> =>
      withTimeout(this.#port.clock, p, what, this.#stepTimeoutMs);
    let file: UsbFnFile | undefined;
    try {
      file = await step('CreateFileW', this.#port.open(link));
      this.#opens++;
      this.#file = file;
      this.#link = link;
      this.log.info('open', { link });
      const opened = file;
      this.#handleReg = await step(
        'CM_Register_Notification(DEVICEHANDLE)',
        this.#port.watchHandle(opened, (action, data) => this.#onHandleEvent(opened, action, data)),
      );
      this.log.info('registered', { filter: 'deviceHandle', id: this.#handleReg.id });
      const client = new UsbFnClient(opened, { busEventDepth: this.#busEventDepth });
      this.#client = client;
      this.#classInfo = await step('GET_CLASS_INFO', client.getClassInfo());
      this.log.info('classInfo', {
        interfaceName: this.#classInfo.interfaceName,
        pipes: {
          full: this.#classInfo.fullSpeed.pipes.length,
          high: this.#classInfo.highSpeed.pipes.length,
          super: this.#classInfo.superSpeed.pipes.length,
        },
      });
      await step('ACTIVATE_USB_BUS', client.activateBus());
      this.log.info('activate');
      this.#startBusLoop(client);
      this.#setState('active');
    } catch (err) {
      this.log.error('openFailed', err, { link });
      await this.#closeHandle('closed');
      await this.#unregister(this.#handleReg, 'deviceHandle');
      this.#handleReg = undefined;
      if (this.#state === 'opening') this.#setState('waitingForInterface');
    }
  }

  async #reopenAfterFailedRemoval(): Promise<void> {
    if (this.#state !== 'closedForRemoval') {
      this.log.info('queryRemoveFailedIgnored', { state: this.#state, reason: 'handle still open' });
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
    this.log.info('teardown', { reason });
    await this.#closeHandle('closed');
    await this.#unregister(this.#handleReg, 'deviceHandle');
    this.#handleReg = undefined;
    this.#setState('waitingForInterface');
  }

  // ------------------------------------------------------------------------------------------------
  // Bus events (step 5).

  #startBusLoop(client: UsbFnClient): void {
    const controller = new AbortController();
    this.#busLoopAbort = controller;
    this.#busLoop = (async (): Promise<void> => {
      try {
        for await (const event of client.busEvents({ signal: controller.signal, depth: this.#busEventDepth })) {
          this.#onBusEvent(client, event);
        }
      } catch (err) {
        if (!controller.signal.aborted && !isCancelled(err)) {
          // Without outstanding BUS_EVENT_NOTIFICATIONs the function is deaf to the bus: close the handle and
          // let the rescan open the interface again.
          this.log.error('busEventLoopFailed', err);
          this.#enqueue(() => this.#teardown('busEventLoopFailed'));
        }
      }
    })();
  }

  #onBusEvent(client: UsbFnClient, event: UsbfnNotification): void {
    switch (event.type) {
      case 'attach':
        this.#bus = 'attached';
        this.log.info('busEvent', { type: 'attach' });
        break;
      case 'reset': {
        const speed = busSpeedName(event.busSpeed);
        this.#speed = speed === 'low' || speed === 'full' || speed === 'high' || speed === 'super' ? speed : undefined;
        this.log.info('busEvent', { type: 'reset', speed });
        this.#deconfigure('reset');
        this.#bus = 'default';
        break;
      }
      case 'detach':
        this.log.info('busEvent', { type: 'detach' });
        this.#deconfigure('detach');
        this.#bus = 'detached';
        break;
      case 'suspend':
        this.log.info('busEvent', { type: 'suspend' });
        this.#bus = 'suspended';
        this.fn.onSuspend?.();
        break;
      case 'resume':
        this.log.info('busEvent', { type: 'resume' });
        this.#bus = this.#configured ? 'configured' : 'default';
        this.fn.onResume?.();
        break;
      case 'configured':
        this.log.info('busEvent', { type: 'configured', configurationValue: event.configurationValue });
        this.#configure(client, event.configurationValue);
        break;
      case 'unConfigured':
        this.log.info('busEvent', { type: 'unConfigured' });
        this.#deconfigure('unConfigured');
        this.#bus = 'default';
        break;
      case 'setInterface':
        this.log.info('busEvent', {
          type: 'setInterface',
          interfaceNumber: event.interfaceNumber,
          alternateSetting: event.alternateInterfaceNumber,
        });
        // usbfnbase.h: "re-query endpoints". UFX purged the interface's endpoint queues, so the function's
        // configuration context ends and a new one starts on the (possibly different) pipes.
        if (this.#configured !== undefined && this.#configurationValue !== undefined) {
          this.#configure(client, this.#configurationValue);
        }
        this.fn.onSetInterface?.(event.interfaceNumber, event.alternateInterfaceNumber);
        break;
      case 'setupPacket':
        this.#onSetup(client, event.setupPacket);
        break;
      default:
        this.log.warn('busEvent', { type: event.type });
        break;
    }
    this.#notifyWaiters();
  }

  #onSetup(client: UsbFnClient, setup: SetupPacket): void {
    const run = (): Promise<void> =>
      answerSetup(client, this.fn, setup, this.#busLoopAbort?.signal).catch((err: unknown) => {
        if (isCancelled(err)) this.log.info('setupCancelled', { bRequest: setup.bRequest });
        else this.log.error('setupFailed', err, { ...setup });
      });
    this.#ep0 = this.#ep0.then(run);
  }

  #configure(client: UsbFnClient, configurationValue: number): void {
    this.#deconfigure('unConfigured', true);
    this.#configurationValue = configurationValue;
    const speed = this.#speed ?? 'high';
    const info = this.#classInfo;
    if (info === undefined) {
      this.log.error('configureFailed', new UsageError('NO_CLASS_INFO', 'configured before GET_CLASS_INFO completed'));
      return;
    }
    const classInterface = speed === 'super' ? info.superSpeed : speed === 'high' ? info.highSpeed : info.fullSpeed;
    let pipes;
    try {
      pipes = resolvePipes(this.fn.pipes ?? {}, classInterface);
    } catch (err) {
      this.log.error('configureFailed', err);
      return;
    }
    const controller = new AbortController();
    const context = new ConfiguredFunctionContext({
      speed,
      signal: controller.signal,
      pipes,
      client,
      log: this.log,
      functionName: this.fn.name,
    });
    this.#configured = { controller, context };
    this.#bus = 'configured';
    try {
      this.fn.onConfigured?.(context, configurationValue);
    } catch (err) {
      this.log.error('functionError', err, { where: 'onConfigured' });
    }
  }

  #deconfigure(reason: DeconfigureReason, silent = false): void {
    const c = this.#configured;
    if (c === undefined) return;
    this.#configured = undefined;
    c.controller.abort(new UsageError('DECONFIGURED', `configuration ended: ${reason}`));
    if (silent) return;
    try {
      this.fn.onDeconfigured?.(reason);
    } catch (err) {
      this.log.error('functionError', err, { where: 'onDeconfigured' });
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Helpers.

  /** Closes the handle: stops the event loop and the function, then CloseHandle (cancels pending I/O). */
  async #closeHandle(reason: DeconfigureReason): Promise<void> {
    this.#deconfigure(reason);
    this.#busLoopAbort?.abort();
    this.#busLoopAbort = undefined;
    const file = this.#file;
    this.#file = undefined;
    this.#client = undefined;
    // Without a handle the service hears no bus events: what it knew of the bus is stale.
    this.#bus = 'unknown';
    if (file?.isOpen) {
      try {
        await file.close();
        this.log.info('close', { link: file.symbolicLink });
      } catch (err) {
        this.log.error('closeFailed', err);
      }
    }
    await this.#busLoop;
  }

  async #unregister(reg: CmRegistration | undefined, filter: string): Promise<void> {
    if (reg === undefined) return;
    try {
      await withTimeout(this.#port.clock, reg.unregister(), 'CM_Unregister_Notification', this.#stepTimeoutMs);
      this.log.info('unregistered', { filter, id: reg.id });
    } catch (err) {
      this.log.error('unregisterFailed', err, { filter, id: reg.id });
    }
  }

  /** Runs `fn` later, outside any CM callback (the deferred routine D-CM asks for). */
  #defer(fn: () => void): void {
    this.#port.clock.setTimer(0, fn);
  }

  #enqueue(step: () => Promise<void>): void {
    this.#work = this.#work.then(step).catch((err: unknown) => this.log.error('lifecycleFailed', err));
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
    this.#notifyWaiters();
  }

  /** Lists interfaces again after the rescan interval while nothing is open (recovers a lost arrival). */
  #armRescan(): void {
    if (this.#rescanIntervalMs <= 0 || this.#rescanTimer !== undefined) return;
    this.#rescanTimer = this.#port.clock.setTimer(this.#rescanIntervalMs, () => {
      this.#rescanTimer = undefined;
      if (this.#state !== 'waitingForInterface') return;
      this.#enqueue(async () => {
        const links = await listInterfaces(this.#port, { interfaceClassGuid: this.#guid });
        if (links.length > 0) this.log.info('rescan', { links });
        for (const link of links) this.#offer(link, 'rescan');
      });
      this.#enqueue(async () => {
        if (this.#state === 'waitingForInterface') this.#armRescan();
      });
    });
  }

  #notifyWaiters(): void {
    if (this.#waiters.length === 0) return;
    const ready = this.#waiters.filter((w) => w.predicate());
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }

  #when(what: string, predicate: () => boolean, options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    if (predicate()) return Promise.resolve();
    let waiter: StateWaiter | undefined;
    const p = new Promise<void>((resolve) => {
      waiter = { predicate, resolve };
      this.#waiters.push(waiter);
    });
    return withTimeout(this.#port.clock, p, what, options.timeoutMs, {
      signal: options.signal,
      detail: `service state '${this.#state}', bus '${this.#bus}'`,
      onGiveUp: () => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
      },
    });
  }
}
