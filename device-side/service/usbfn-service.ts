/**
 * The user-mode USB interface service: Microsoft's documented flow for talking to GenericUSBFn.sys, over the
 * {@link UsbFnPort} seam, so the same code runs over the simulator and over the real driver. It is a façade
 * over two parts that follow that flow:
 *
 * - the {@link InterfaceWatcher} (steps 1–3, 7, 8): CM registration for interface arrival, listing (an
 *   interface reported twice is opened once), CreateFileW and the handle's notifications (QUERYREMOVE,
 *   QUERYREMOVEFAILED, REMOVEPENDING / REMOVECOMPLETE, CUSTOMEVENT), the rescan while waiting, and stop;
 * - one {@link BusSession} per open handle (steps 4–6): GET_CLASS_INFO → ACTIVATE_USB_BUS, the bus-event
 *   loop and the function's configuration context.
 *
 * The service wires them together: the watcher's handler starts a session on each handle it opens and ends
 * it before CloseHandle; a session whose bus-event loop fails makes the watcher close and rescan.
 *
 * @see https://learn.microsoft.com/windows-hardware/drivers/usbcon/user-mode-services-ufx
 * @see https://learn.microsoft.com/windows/win32/api/cfgmgr32/nf-cfgmgr32-cm_register_notification
 */
import { withTimeout, type UsbSpeed } from '../../core/index.js';
import type { UsbfnClassInformationPacket } from '../abi/index.js';
import { resolveDriverSettings, type UsbFnDriverSettings } from '../driver-settings.js';
import type { UsbFnClient } from '../usbfn-client.js';
import type { UsbFnFile, UsbFnPort } from '../usbfn-port.js';
import { BusSession, type BusState } from './bus-session.js';
import { DeviceEventLog } from './device-event-log.js';
import type { DeconfigureReason, UsbFunction } from './function-api.js';
import { InterfaceWatcher } from './interface-watcher.js';
import { NoDataHandshake } from './no-data-handshake.js';
import { ServiceStateError, type ServiceState } from './service-state.js';

export type { BusState } from './bus-session.js';
export { ServiceStateError, type ServiceState } from './service-state.js';

export interface UsbFnServiceOptions {
  readonly port: UsbFnPort;
  /** The function's InterfaceGUID (the USBFN registry configuration). */
  readonly interfaceClassGuid: string;
  readonly fn: UsbFunction;
  /** BUS_EVENT_NOTIFICATION requests kept outstanding (Microsoft recommends several). Default 4. */
  readonly busEventDepth?: number | undefined;
  /** Bound on each step of opening (CreateFileW … ACTIVATE), and on stop. Default 10 s on the port's clock. */
  readonly stepTimeoutMs?: number | undefined;
  /**
   * While waiting for an interface, list interfaces again every this many ms, so an arrival whose
   * notification was lost (CM keeps no history, and drops notifications under low memory) is still found.
   * 0 disables. Default 5 s on the port's clock.
   */
  readonly rescanIntervalMs?: number | undefined;
  readonly log?: DeviceEventLog | undefined;
  /**
   * How to treat the driver behaviours the documents leave open (status handshake of no-data requests,
   * bus-event byte counts, EP0's pipe id, 0-byte IN transfers); docs/win32-backend.md#driver-settings.
   * Default: DEFAULT_DRIVER_SETTINGS.
   */
  readonly driverSettings?: Partial<UsbFnDriverSettings> | undefined;
}

interface StateWaiter {
  readonly predicate: () => boolean;
  readonly resolve: () => void;
}

export class UsbFnService {
  readonly log: DeviceEventLog;
  readonly fn: UsbFunction;
  readonly #port: UsbFnPort;
  readonly #busEventDepth: number | undefined;
  readonly #stepTimeoutMs: number | undefined;
  /** The resolved driver-behaviour settings. */
  readonly driverSettings: UsbFnDriverSettings;
  readonly #noDataHandshake: NoDataHandshake;
  readonly #watcher: InterfaceWatcher;
  /** The session on the open handle, if any. */
  #session: BusSession | undefined;
  /** What earlier sessions learnt that outlives their handle. */
  #lastClassInfo: UsbfnClassInformationPacket | undefined;
  #lastSpeed: UsbSpeed | undefined;
  #waiters: StateWaiter[] = [];

  constructor(options: UsbFnServiceOptions) {
    this.#port = options.port;
    this.fn = options.fn;
    this.#busEventDepth = options.busEventDepth;
    this.#stepTimeoutMs = options.stepTimeoutMs;
    this.log = options.log ?? new DeviceEventLog(() => this.#port.clock.now());
    this.driverSettings = resolveDriverSettings(options.driverSettings);
    this.#noDataHandshake = new NoDataHandshake(this.driverSettings.statusHandshake, this.log);
    this.#watcher = new InterfaceWatcher({
      port: options.port,
      interfaceClassGuid: options.interfaceClassGuid,
      log: this.log,
      stepTimeoutMs: options.stepTimeoutMs,
      rescanIntervalMs: options.rescanIntervalMs,
      onStateChange: () => this.#notifyWaiters(),
      handler: {
        opened: (file, signal) => this.#startSession(file, signal),
        closing: (reason) => this.#endSession(reason),
        queryRemove: () => this.fn.onQueryRemove?.() ?? 'allow',
        customEvent: (eventGuid, data, nameOffset) => this.fn.onCustomEvent?.(eventGuid, data, nameOffset),
      },
    });
  }

  get state(): ServiceState {
    return this.#watcher.state;
  }

  get busState(): BusState {
    return this.#session?.busState ?? 'unknown';
  }

  /** The symbolic link currently open (or last opened). */
  get symbolicLink(): string | undefined {
    return this.#watcher.symbolicLink;
  }

  /** The typed IOCTL client of the open handle (for introspection; functions use their context). */
  get client(): UsbFnClient | undefined {
    return this.#session?.client;
  }

  /** GET_CLASS_INFO as read at the last open. */
  get classInfo(): UsbfnClassInformationPacket | undefined {
    return this.#session?.classInfo ?? this.#lastClassInfo;
  }

  /** How many times CreateFileW succeeded (the arrival race must not open twice). */
  get openCount(): number {
    return this.#watcher.openCount;
  }

  /**
   * Steps 1–2: register for arrival, then list and open what is present. Resolves once the initial list was
   * processed; use {@link whenActive} / {@link whenConfigured} to wait for the device.
   * @throws ServiceStateError unless idle; ConfigRetError from CM.
   */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new ServiceStateError('start', ['idle'], this.state);
    this.log.info('start', { interfaceClassGuid: this.#watcher.interfaceClassGuid, function: this.fn.name });
    await this.#watcher.start();
  }

  /** Resolves when the bus is activated and the event loop runs. @throws TimeoutError */
  whenActive(options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    return this.#when('service active', () => this.state === 'active', options);
  }

  /** Resolves when the host has configured the device (transfers allowed). @throws TimeoutError */
  whenConfigured(options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    return this.#when('device configured', () => this.#session?.configured === true, options);
  }

  /** Resolves when the service is waiting for an interface again (after removal). @throws TimeoutError */
  whenWaiting(options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    return this.#when('service waiting for interface', () => this.state === 'waitingForInterface', options);
  }

  /**
   * Step 8: cancel outstanding I/O, unregister every notification, close. Bounded by the step timeout.
   * Idempotent.
   * @throws TimeoutError when that did not finish in time.
   */
  stop(): Promise<void> {
    return this.#watcher.stop();
  }

  // ------------------------------------------------------------------------------------------------
  // The watcher's handler: one bus session per open handle.

  async #startSession(file: UsbFnFile, signal: AbortSignal): Promise<void> {
    const session = new BusSession({
      file,
      fn: this.fn,
      log: this.log,
      clock: this.#port.clock,
      busEventDepth: this.#busEventDepth,
      stepTimeoutMs: this.#stepTimeoutMs,
      speed: this.#lastSpeed,
      onBusEvent: () => this.#notifyWaiters(),
      onLoopFailed: () => this.#watcher.closeAndRescan(file, 'busEventLoopFailed'),
      settings: this.driverSettings,
      noDataHandshake: this.#noDataHandshake,
    });
    this.#session = session;
    await session.activate(signal);
  }

  #endSession(reason: DeconfigureReason): Promise<void> {
    const session = this.#session;
    if (session === undefined) return Promise.resolve();
    this.#session = undefined;
    this.#lastClassInfo = session.classInfo ?? this.#lastClassInfo;
    this.#lastSpeed = session.speed;
    return session.end(reason);
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
      detail: `service state '${this.state}', bus '${this.busState}'`,
      onGiveUp: () => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
      },
    });
  }
}
