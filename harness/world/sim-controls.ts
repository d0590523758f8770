/**
 * The `sim` fixture: fault injection and inspection of the simulated world (docs/simulator.md#faults-the-sim-fixture).
 * Only in `sim`; a scenario that asks for it is tagged `sim-only` and is skipped, with the reason, in lab.
 *
 * Defaults are handlers; faults are prepended overrides (docs/architecture.md#faults-as-overrides, msw's `server.use()`): a scenario
 * prepends EP0 answers with {@link SimControls.use}, and the world resets every override and fault when it
 * closes after the scenario, so nothing leaks between scenarios. Scenarios reach the simulation only
 * through this class.
 */
import {
  type CmNotifyListener,
  type CmRegistration,
  type DeviceLogEntry,
  type TestFunctionState,
  type UsbFnService,
  CM_NOTIFY_ACTION,
} from '../../device-side/index.js';
import { UsageError } from '../../core/index.js';
import type { CmHandle, CmLogEntry, ControlHandler, ControlReply, EndpointState, SetupFields, Simulation, UnhandledRequest } from '../../simulator/index.js';

/** An endpoint as the simulated link sees it (halt, data toggle, queued work). */
export type SimEndpointState = EndpointState;

/** The eight SETUP fields an EP0 override sees. */
export type SimSetup = SetupFields;
/** What an EP0 override answers: `{ stall: true }`, `{ data }` (IN data stage) or `{ ack: true }` (status). */
export type SimControlReply = ControlReply;
/**
 * An EP0 override: it runs before the device's own handling, newest first; `undefined` passes the request on.
 * @example
 * // Stall the next ECHO_READ once, then let the function answer again.
 * let stalled = false;
 * sim.use((setup) => (setup.bRequest === TEST_REQUEST.ECHO_READ && !stalled ? ((stalled = true), { stall: true }) : undefined));
 */
export type SimControlHandler = ControlHandler;

/** Another component's handle on the function's interface (it vetoes a query-remove while open). */
export type SimInterfaceHandle = Pick<CmHandle, 'id' | 'symbolicLink' | 'isOpen' | 'close'>;

/** A protocol step: the nth URB matching this (where {@link SimControls.unplugAt} and {@link SimControls.resetAt} act). */
export interface UrbStep {
  readonly transferType?: 'control' | 'bulk' | 'interrupt' | undefined;
  readonly endpoint?: number | undefined;
  readonly bRequest?: number | undefined;
}

export class SimControls {
  readonly seed: number;
  readonly #simulation: Simulation;
  readonly #service: UsbFnService;
  readonly #functionState: TestFunctionState | undefined;

  /**
   * Controls over one simulated world (the world builder makes them; scenarios get them from the `sim` fixture).
   * `functionState` is the built-in test function's state, undefined for another function.
   */
  constructor(args: { seed: number; simulation: Simulation; service: UsbFnService; functionState: TestFunctionState | undefined }) {
    this.seed = args.seed;
    this.#simulation = args.simulation;
    this.#service = args.service;
    this.#functionState = args.functionState;
  }

  #fn() {
    return this.#simulation.function();
  }

  // ---- cable and power ----------------------------------------------------------------------

  /** Unplugs the cable: VBUS off, detach event, pending transfers purged, host sees no device. */
  unplug(): void {
    this.#simulation.detach();
  }

  /** Plugs the cable back: the host enumerates again. */
  replug(): void {
    this.#simulation.attach();
  }

  /** Unplugs when the nth URB matching `step` is submitted (that URB ends with LIBUSB_TRANSFER_NO_DEVICE). */
  unplugAt(step: UrbStep, nth = 1): void {
    this.#simulation.bus.unplugOnUrb(step, nth);
  }

  /**
   * The host resets the port at a protocol step: `afterMs` of virtual time after the `nth` URB matching `step`
   * is submitted (0: before that URB is queued; e.g. 0.05 lands inside the data stage of a 2048-byte control
   * read, which lasts about 0.13 ms at high speed). The transfers in flight end LIBUSB_TRANSFER_CANCELLED with
   * the bytes that had crossed (-ESHUTDOWN in the capture), the device sees Reset, and the host enumerates it
   * again at its address, as usbcore's error recovery does: open handles stay valid.
   * @throws UsageError INVALID_ARGUMENT for an `nth` that is not a positive integer or a negative `afterMs`.
   */
  resetAt(step: UrbStep, nth = 1, afterMs = 0): void {
    if (!Number.isSafeInteger(nth) || nth < 1) throw new UsageError('INVALID_ARGUMENT', `resetAt: nth ${nth} must be a positive integer (1 = the first matching URB)`);
    if (!(afterMs >= 0 && Number.isFinite(afterMs))) throw new UsageError('INVALID_ARGUMENT', `resetAt: afterMs ${afterMs} must be a finite number of virtual ms ≥ 0`);
    const { bus, clock } = this.#simulation;
    bus.atUrb(step, nth, () => {
      const reset = (): void => void this.resetPort();
      if (afterMs === 0) reset();
      else clock.setTimer(afterMs, reset);
    });
  }

  /**
   * The host resets the port now ({@link resetAt} without a step). Resolves once the host has enumerated the
   * device again (or failed to: then `waitForDevice` names the failure).
   */
  resetPort(): Promise<void> {
    const { bus, host } = this.#simulation;
    return host.port(bus).resetNow();
  }

  /** Suspends the bus (no SOF: the device sees Suspend). */
  suspend(): void {
    this.#simulation.bus.suspend();
  }

  /** Resumes the bus (the device sees Resume). */
  resume(): void {
    this.#simulation.bus.resume();
  }

  /** Powers the device on: its function's devnode arrives in CM, so the interface arrival is notified. */
  powerOn(): void {
    this.#simulation.powerOn();
  }

  /** Powers the device off: the cable's VBUS goes and the devnode leaves CM without a query (open handles go stale). */
  powerOff(): Promise<void> {
    return this.#simulation.powerOff();
  }

  // ---- Configuration Manager ----------------------------------------------------------------

  /** The PnP query-remove flow on the function's devnode; the service may close (→ removed) or veto. */
  queryRemove(): Promise<'removed' | 'vetoed'> {
    return this.#simulation.cm.queryAndRemove(this.#fn().instanceId);
  }

  /**
   * The answer the test function gives to the next DEVICEQUERYREMOVE: `true` vetoes it (the function keeps
   * its device), `false` allows it (the default).
   * @throws UsageError INVALID_ARGUMENT when the world runs a function other than the built-in test functions.
   */
  vetoQueryRemove(veto = true): void {
    if (this.#functionState === undefined) {
      throw new UsageError('INVALID_ARGUMENT', `vetoQueryRemove needs a built-in test function, but the world runs '${this.#service.fn.name}': let that function's onQueryRemove answer`);
    }
    this.#functionState.vetoQueryRemove = veto;
  }

  /** Surprise removal of the function's devnode: REMOVECOMPLETE with no query; open handles go stale. */
  surpriseRemove(): Promise<void> {
    return this.#simulation.cm.surpriseRemove(this.#fn().instanceId);
  }

  /** QUERYREMOVEFAILED without a prior QUERYREMOVE (another component vetoed). */
  failQueryRemove(): Promise<void> {
    return this.#simulation.cm.failQueryRemove(this.#fn().instanceId);
  }

  /**
   * The function's devnode arrives (again): its interface is announced to registrations.
   * @throws UsageError NO_INTERFACE when the devnode came without an interface.
   */
  arrive(): string {
    const f = this.#fn();
    const [link] = this.#simulation.cm.addDevice(f.instanceId, [{ classGuid: f.interfaceGuid }]);
    if (link === undefined) throw new UsageError('NO_INTERFACE', `the devnode ${f.instanceId} arrived without an interface of class ${f.interfaceGuid}`);
    return link;
  }

  /** CM_NOTIFY_ACTION_DEVICECUSTOMEVENT to the handle registrations of the function's devnode. */
  sendCustomEvent(eventGuid: string, data: Uint8Array, nameOffset = -1): Promise<void> {
    return this.#simulation.cm.sendCustomEvent(this.#fn().instanceId, eventGuid, data, nameOffset);
  }

  /** The next `count` notifications of `action` (e.g. `CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL`) are lost. */
  dropNotification(action: keyof typeof CM_NOTIFY_ACTION, count = 1): void {
    this.#simulation.cm.dropNotifications({ action: CM_NOTIFY_ACTION[action], count });
  }

  /**
   * Another component on the device opens the function's interface (default: its current symbolic link), as
   * CreateFileW would: while the handle is open, PnP vetoes a query-remove (PNP_VetoOutstandingOpen).
   * Undefined when the interface is not present.
   */
  openHandle(symbolicLink?: string): SimInterfaceHandle | undefined {
    const link = symbolicLink ?? this.#fn().symbolicLink;
    return link === undefined ? undefined : this.#simulation.cm.openHandle(link);
  }

  /**
   * Another CM_Register_Notification for the function's interface class, as a second component on the
   * device would make: it hears only what happens after it (notifications have no history).
   */
  watchInterfaces(listener: CmNotifyListener): Promise<CmRegistration> {
    return this.#simulation.port.watchInterfaces(this.#fn().interfaceGuid, listener);
  }

  // ---- driver, controller and host faults -----------------------------------------------------

  /** The next `count` IOCTLs named `ioctl` (`TRANSFER_OUT`, `IOCTL_GENERICUSBFN_TRANSFER_IN`, ...) fail with `win32`. */
  failNextIoctl(ioctl: string, win32: number, options: { count?: number; pipe?: number } = {}): void {
    this.#simulation.function().driver.failNext({ ioctl, win32, count: options.count, pipe: options.pipe });
  }

  /**
   * The driver fails its oldest pending request of `ioctl` (on `pipe`) with `win32` now, as a controller error in
   * the middle of a transfer would: its packets on the wire stop and the request completes with that error.
   * Returns false when no such request is pending.
   */
  failPendingIoctl(ioctl: string, win32: number, options: { pipe?: number } = {}): boolean {
    return this.#simulation.function().driver.failPending({ ioctl, win32, pipe: options.pipe });
  }

  /** The next `count` host URBs on `endpoint` never reach the device: they end by their timeout. */
  timeoutNextUrb(endpoint: number, count = 1): void {
    this.#simulation.bus.dropNextUrb(endpoint, count);
  }

  /**
   * Prepends EP0 overrides to the device's request handling (msw's `server.use()`): each sees every control
   * request before the function controller and the function do, newest first, and may stall it, answer it
   * with data or acknowledge it. Returns a function that removes these handlers; the world removes all of
   * them when it closes after the scenario.
   */
  use(...handlers: SimControlHandler[]): () => void {
    return this.#simulation.ufx.use(...handlers);
  }

  /** Removes every override {@link use} added. */
  resetHandlers(): void {
    this.#simulation.ufx.resetHandlers();
  }

  // ---- inspection ---------------------------------------------------------------------------

  endpointState(address: number): SimEndpointState {
    return this.#simulation.bus.endpointState(address);
  }

  /** Control requests the device model stalled because nothing handles them. */
  unhandledRequests(): readonly UnhandledRequest[] {
    return this.#simulation.ufx.unhandled();
  }

  /** The Configuration Manager's log: PnP operations and every notification delivery (delivered, dropped, ...). */
  cmLog(): readonly CmLogEntry[] {
    return this.#simulation.cm.log;
  }

  /** The device-side event log, synchronously (sim only). */
  deviceLog(): readonly DeviceLogEntry[] {
    return this.#service.log.entries;
  }
}
