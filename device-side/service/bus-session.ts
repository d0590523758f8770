/**
 * The bus session: what the service does with one open GenericUSBFn.sys handle, steps 4–6 of Microsoft's
 * flow for user-mode USB services.
 *
 * 4. GET_CLASS_INFO (the pipes per speed) → ACTIVATE_USB_BUS;
 * 5. keep several BUS_EVENT_NOTIFICATION requests outstanding and dispatch each event: Reset → speed;
 *    Configured → a {@link ConfiguredFunctionContext} for the function; SetupPacket → answered on pipe 0 in
 *    bus order (data stage, then the opposite-direction handshake, or a stall); Detach / UnConfigured / Reset
 *    → the configuration ends (UFX purged the queues, pending transfers end cancelled) until the next
 *    Configured; Suspend / Resume; SetInterface → a new context on the re-queried pipes;
 * 6. transfers only while configured: the context's signal aborts when the configuration ends.
 *
 * A session lives as long as its handle. The interface watcher opens the handle, and ends the session
 * ({@link BusSession.end}) before it closes the handle. The session never closes the handle itself: when its
 * bus-event loop fails it reports that (`onLoopFailed`) and the watcher closes and rescans.
 *
 * @see https://learn.microsoft.com/windows-hardware/drivers/usbcon/user-mode-services-ufx
 */
import { isCancelled, UsageError, withTimeout, type Clock, type SetupPacket, type UsbSpeed } from '../../core/index.js';
import { busSpeedName, type UsbfnClassInformationPacket, type UsbfnNotification } from '../abi/index.js';
import { DEFAULT_DRIVER_SETTINGS, type UsbFnDriverSettings } from '../driver-settings.js';
import { EP0_PIPE_ID, UsbFnClient } from '../usbfn-client.js';
import type { UsbFnFile } from '../usbfn-port.js';
import type { DeviceEventLog } from './device-event-log.js';
import type { DeconfigureReason, UsbFunction } from './function-api.js';
import { ConfiguredFunctionContext, resolvePipes } from './function-context.js';
import { NoDataHandshake } from './no-data-handshake.js';
import { answerSetup } from './setup-responder.js';

/** The bus as the service last saw it through bus events. */
export type BusState = 'unknown' | 'attached' | 'default' | 'configured' | 'suspended' | 'detached';

/** Options of {@link BusSession}. */
export interface BusSessionOptions {
  /** The open handle (the watcher owns it and closes it). */
  readonly file: UsbFnFile;
  readonly fn: UsbFunction;
  readonly log: DeviceEventLog;
  /** The clock that bounds the activation steps (the port's). */
  readonly clock: Clock;
  /** BUS_EVENT_NOTIFICATION requests kept outstanding (Microsoft recommends several). Default 4. */
  readonly busEventDepth?: number | undefined;
  /** Bound on GET_CLASS_INFO and on ACTIVATE_USB_BUS, each. Default 10 s. */
  readonly stepTimeoutMs?: number | undefined;
  /**
   * The speed of the last Reset a previous session heard. The speed belongs to the link, not to the handle:
   * a handle reopened while the host keeps the device hears no new Reset.
   */
  readonly speed?: UsbSpeed | undefined;
  /** Called after each bus event has been dispatched (the service re-checks what it waits for). */
  readonly onBusEvent?: (() => void) | undefined;
  /** The bus-event loop failed for a reason other than cancellation; never called after {@link BusSession.end}. */
  readonly onLoopFailed?: ((error: unknown) => void) | undefined;
  /** Driver-behaviour settings, already resolved (docs/win32-backend.md#driver-settings). Default: the defaults. */
  readonly settings?: UsbFnDriverSettings | undefined;
  /**
   * The no-data status handshake policy. The service passes one for all its sessions, so what `'auto'` learnt
   * outlives a handle. Default: a new one for this session.
   */
  readonly noDataHandshake?: NoDataHandshake | undefined;
}

/**
 * EP0's USBFNPIPEID per the `ep0PipeId` setting: with `'auto'`, the PipeId of an endpoint-0 entry in
 * GET_CLASS_INFO's PipeArr (any speed) when there is one, else 0 ("pipe 0").
 * ASSUMPTION (docs/reference/documented-vs-inferred.md#drv-pipe-ids): PipeArr lists EP0, if at all, with bEndpointAddress 0.
 */
export function resolveEp0PipeId(setting: UsbFnDriverSettings['ep0PipeId'], info: UsbfnClassInformationPacket): { pipeId: number; source: 'setting' | 'PipeArr' | 'default' } {
  if (setting !== 'auto') return { pipeId: setting, source: 'setting' };
  for (const ci of [info.fullSpeed, info.highSpeed, info.superSpeed]) {
    const ep0 = ci.pipes.find((p) => (p.epDesc.bEndpointAddress & 0x7f) === 0);
    if (ep0 !== undefined) return { pipeId: ep0.pipeId, source: 'PipeArr' };
  }
  return { pipeId: EP0_PIPE_ID, source: 'default' };
}

export class BusSession {
  /** The typed IOCTL client of the session's handle. */
  readonly client: UsbFnClient;
  readonly #fn: UsbFunction;
  readonly #log: DeviceEventLog;
  readonly #clock: Clock;
  readonly #busEventDepth: number;
  readonly #stepTimeoutMs: number;
  readonly #onBusEvent: (() => void) | undefined;
  readonly #onLoopFailed: ((error: unknown) => void) | undefined;
  readonly #settings: UsbFnDriverSettings;
  readonly #noDataHandshake: NoDataHandshake;
  /** Aborts at {@link end}: the activation steps, the bus-event loop and the EP0 answers. */
  readonly #endController = new AbortController();
  #classInfo: UsbfnClassInformationPacket | undefined;
  #bus: BusState = 'unknown';
  #speed: UsbSpeed | undefined;
  #configurationValue: number | undefined;
  #configured: { controller: AbortController; context: ConfiguredFunctionContext } | undefined;
  #loop: Promise<void> = Promise.resolve();
  /** Serializes EP0: one control transfer at a time, in bus order. */
  #ep0: Promise<void> = Promise.resolve();

  constructor(options: BusSessionOptions) {
    this.#fn = options.fn;
    this.#log = options.log;
    this.#clock = options.clock;
    this.#busEventDepth = options.busEventDepth ?? 4;
    this.#stepTimeoutMs = options.stepTimeoutMs ?? 10_000;
    this.#speed = options.speed;
    this.#onBusEvent = options.onBusEvent;
    this.#onLoopFailed = options.onLoopFailed;
    this.#settings = options.settings ?? DEFAULT_DRIVER_SETTINGS;
    this.#noDataHandshake = options.noDataHandshake ?? new NoDataHandshake(this.#settings.statusHandshake, this.#log);
    const log = this.#log;
    this.client = new UsbFnClient(options.file, {
      busEventDepth: this.#busEventDepth,
      busEventBytes: this.#settings.busEventBytes,
      zeroLengthIn: this.#settings.zeroLengthIn,
      // ASSUMPTION (docs/reference/documented-vs-inferred.md#drv-bytes-returned): 12. Another count is accepted ('tolerant') and reported once.
      onBusEventBytes: (bytesReturned) =>
        void log.warnOnce('busEventBytesReturned', { bytesReturned, expected: 12, setting: 'busEventBytes: tolerant' }),
    });
  }

  /** GET_CLASS_INFO as read by {@link activate}. */
  get classInfo(): UsbfnClassInformationPacket | undefined {
    return this.#classInfo;
  }

  get busState(): BusState {
    return this.#bus;
  }

  /** The speed of the last Reset (or the one handed over from the previous session). */
  get speed(): UsbSpeed | undefined {
    return this.#speed;
  }

  /** True while a configuration is in force (transfers allowed). */
  get configured(): boolean {
    return this.#configured !== undefined;
  }

  /** True once {@link end} was called. */
  get ended(): boolean {
    return this.#endController.signal.aborted;
  }

  /**
   * Step 4, then step 5 starts: GET_CLASS_INFO → ACTIVATE_USB_BUS, each bounded by the step timeout (a
   * request that outlives it is cancelled), then the bus-event loop runs until {@link end}.
   * @param signal aborts the activation (the watcher's stop).
   * @throws Win32Error from the driver, AbiDecodeError for a short GET_CLASS_INFO, TimeoutError, AbortedError
   * when `signal` fired or {@link end} came first.
   */
  async activate(signal?: AbortSignal): Promise<void> {
    const forward = (): void => this.#endController.abort(signal?.reason);
    if (signal?.aborted) forward();
    signal?.addEventListener('abort', forward, { once: true });
    try {
      const info = await this.#step('GET_CLASS_INFO', (s) => this.client.getClassInfo({ signal: s }));
      this.#classInfo = info;
      const ep0 = resolveEp0PipeId(this.#settings.ep0PipeId, info);
      this.client.ep0PipeId = ep0.pipeId;
      this.#log.info('classInfo', {
        interfaceName: info.interfaceName,
        pipes: { full: info.fullSpeed.pipes.length, high: info.highSpeed.pipes.length, super: info.superSpeed.pipes.length },
        ep0PipeId: ep0.pipeId,
        ep0PipeIdFrom: ep0.source,
      });
      await this.#step('ACTIVATE_USB_BUS', (s) => this.client.activateBus({ signal: s }));
      this.#log.info('activate');
      this.#startLoop();
    } finally {
      signal?.removeEventListener('abort', forward);
    }
  }

  /**
   * Ends the session before its handle closes: the configuration ends with `reason` (the function's
   * `onDeconfigured`), and the activation, the bus-event loop and pending EP0 answers are cancelled.
   * Synchronous up to its promise, so the watcher can call it inside a QUERYREMOVE callback; the promise
   * resolves when the bus-event loop has finished (it never rejects). Idempotent.
   */
  end(reason: DeconfigureReason): Promise<void> {
    this.#deconfigure(reason);
    if (!this.ended) {
      this.#endController.abort();
      // Without its handle the service hears no bus events: what it knew of the bus is stale.
      this.#bus = 'unknown';
    }
    return this.#loop;
  }

  #step<T>(what: string, request: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const cancel = new AbortController();
    return withTimeout(this.#clock, request(cancel.signal), what, this.#stepTimeoutMs, {
      signal: this.#endController.signal,
      onGiveUp: () => cancel.abort(),
    });
  }

  #startLoop(): void {
    const signal = this.#endController.signal;
    this.#loop = (async (): Promise<void> => {
      try {
        for await (const event of this.client.busEvents({ signal, depth: this.#busEventDepth })) {
          this.#onEvent(event);
          this.#onBusEvent?.();
        }
      } catch (err) {
        if (!signal.aborted && !isCancelled(err)) {
          // Without outstanding BUS_EVENT_NOTIFICATIONs the function is deaf to the bus: the handle is useless.
          this.#log.error('busEventLoopFailed', err);
          this.#onLoopFailed?.(err);
        }
      }
    })();
  }

  #onEvent(event: UsbfnNotification): void {
    switch (event.type) {
      case 'attach':
        this.#bus = 'attached';
        this.#log.info('busEvent', { type: 'attach' });
        break;
      case 'reset': {
        const speed = busSpeedName(event.busSpeed);
        this.#speed = speed === 'low' || speed === 'full' || speed === 'high' || speed === 'super' ? speed : undefined;
        this.#log.info('busEvent', { type: 'reset', speed });
        this.#deconfigure('reset');
        this.#bus = 'default';
        break;
      }
      case 'detach':
        this.#log.info('busEvent', { type: 'detach' });
        this.#deconfigure('detach');
        this.#bus = 'detached';
        break;
      case 'suspend':
        this.#log.info('busEvent', { type: 'suspend' });
        this.#bus = 'suspended';
        this.#callFunction('onSuspend', () => this.#fn.onSuspend?.());
        break;
      case 'resume':
        this.#log.info('busEvent', { type: 'resume' });
        this.#bus = this.#configured ? 'configured' : 'default';
        this.#callFunction('onResume', () => this.#fn.onResume?.());
        break;
      case 'configured':
        this.#log.info('busEvent', { type: 'configured', configurationValue: event.configurationValue });
        this.#configure(event.configurationValue);
        break;
      case 'unConfigured':
        this.#log.info('busEvent', { type: 'unConfigured' });
        this.#deconfigure('unConfigured');
        this.#bus = 'default';
        break;
      case 'setInterface':
        this.#log.info('busEvent', {
          type: 'setInterface',
          interfaceNumber: event.interfaceNumber,
          alternateSetting: event.alternateInterfaceNumber,
        });
        // usbfnbase.h: "re-query endpoints". UFX purged the interface's endpoint queues, so the function's
        // configuration context ends and a new one starts on the (possibly different) pipes.
        if (this.#configured !== undefined && this.#configurationValue !== undefined) this.#configure(this.#configurationValue);
        this.#callFunction('onSetInterface', () => this.#fn.onSetInterface?.(event.interfaceNumber, event.alternateInterfaceNumber));
        break;
      case 'setupPacket':
        this.#onSetup(event.setupPacket);
        break;
      default:
        this.#log.warn('busEvent', { type: event.type });
        break;
    }
  }

  #onSetup(setup: SetupPacket): void {
    const signal = this.#endController.signal;
    // Arrows passed directly, not bound to a name: under tsx/esbuild's keepNames a named closure costs an
    // Object.defineProperty per request (see stallReply in device-side/functions/test-requests.ts).
    this.#ep0 = this.#ep0.then(() =>
      answerSetup(this.client, this.#fn, setup, signal, this.#noDataHandshake).catch((err: unknown) => {
        if (isCancelled(err)) this.#log.info('setupCancelled', { bRequest: setup.bRequest });
        else this.#log.error('setupFailed', err, { ...setup });
      }),
    );
  }

  #configure(configurationValue: number): void {
    this.#deconfigure('unConfigured', true);
    this.#configurationValue = configurationValue;
    const speed = this.#speed ?? 'high';
    const info = this.#classInfo;
    if (info === undefined) {
      this.#log.error('configureFailed', new UsageError('NO_CLASS_INFO', 'configured before GET_CLASS_INFO completed'));
      return;
    }
    const classInterface = speed === 'super' ? info.superSpeed : speed === 'high' ? info.highSpeed : info.fullSpeed;
    let pipes;
    try {
      pipes = resolvePipes(this.#fn.pipes ?? {}, classInterface);
    } catch (err) {
      this.#log.error('configureFailed', err);
      return;
    }
    const controller = new AbortController();
    const context = new ConfiguredFunctionContext({
      speed,
      signal: controller.signal,
      pipes,
      client: this.client,
      log: this.#log,
      functionName: this.#fn.name,
    });
    this.#configured = { controller, context };
    this.#bus = 'configured';
    this.#callFunction('onConfigured', () => this.#fn.onConfigured?.(context, configurationValue));
  }

  #deconfigure(reason: DeconfigureReason, silent = false): void {
    const c = this.#configured;
    if (c === undefined) return;
    this.#configured = undefined;
    c.controller.abort(new UsageError('DECONFIGURED', `configuration ended: ${reason}`));
    if (!silent) this.#callFunction('onDeconfigured', () => this.#fn.onDeconfigured?.(reason));
  }

  /** A function's callback that throws is the function's bug: logged, and the session carries on. */
  #callFunction(where: string, call: () => void): void {
    try {
      call();
    } catch (err) {
      this.#log.error('functionError', err, { where });
    }
  }
}
