/**
 * The `sim` fixture: fault injection and inspection of the simulated world (DESIGN.md §5 "Faults").
 * Only in `sim`; a scenario that asks for it is tagged `sim-only` and is skipped, with the reason, in lab.
 *
 * Faults are overrides on top of the simulator's default behaviour and end with the scenario (each
 * scenario gets a fresh world), so nothing leaks between scenarios (STYLE.md §8.2).
 */
import { type DeviceLogEntry, type UsbFnService, type TestFunctionState, CM_NOTIFY_ACTION } from '../device-side/index.js';
import { UsageError } from '../core/index.js';
import type { EndpointState, Simulation } from '../simulator/index.js';

/** An endpoint as the simulated link sees it (halt, data toggle, queued work). */
export type SimEndpointState = EndpointState;

/** Where to unplug: the nth URB matching this (STYLE.md: unplug at a protocol step). */
export interface UrbStep {
  readonly transferType?: 'control' | 'bulk' | 'interrupt' | undefined;
  readonly endpoint?: number | undefined;
  readonly bRequest?: number | undefined;
}

export class SimControls {
  readonly seed: number;
  /** The whole simulation, for what this API does not cover. */
  readonly simulation: Simulation;
  /** The device-side service running over the simulator. */
  readonly service: UsbFnService;
  /** The test function's state (counters, last error) as the device holds it. */
  readonly functionState: TestFunctionState;

  constructor(args: { seed: number; simulation: Simulation; service: UsbFnService; functionState: TestFunctionState }) {
    this.seed = args.seed;
    this.simulation = args.simulation;
    this.service = args.service;
    this.functionState = args.functionState;
  }

  #fn() {
    return this.simulation.function();
  }

  // ---- cable and power ----------------------------------------------------------------------

  /** Unplugs the cable: VBUS off, detach event, pending transfers purged, host sees no device. */
  unplug(): void {
    this.simulation.detach();
  }

  /** Plugs the cable back: the host enumerates again. */
  replug(): void {
    this.simulation.attach();
  }

  /** Unplugs when the nth URB matching `step` is submitted (that URB ends with LIBUSB_TRANSFER_NO_DEVICE). */
  unplugAt(step: UrbStep, nth = 1): void {
    this.simulation.bus.unplugOnUrb(step, nth);
  }

  /** Suspends the bus (no SOF: the device sees Suspend). */
  suspend(): void {
    this.simulation.bus.suspend();
  }

  /** Resumes the bus (the device sees Resume). */
  resume(): void {
    this.simulation.bus.resume();
  }

  // ---- Configuration Manager ----------------------------------------------------------------

  /** The PnP query-remove flow on the function's devnode; the service may close (→ removed) or veto. */
  queryRemove(): Promise<'removed' | 'vetoed'> {
    return this.simulation.cm.queryAndRemove(this.#fn().instanceId);
  }

  /** Surprise removal of the function's devnode: REMOVECOMPLETE with no query; open handles go stale. */
  surpriseRemove(): Promise<void> {
    return this.simulation.cm.surpriseRemove(this.#fn().instanceId);
  }

  /** QUERYREMOVEFAILED without a prior QUERYREMOVE (another component vetoed). */
  failQueryRemove(): Promise<void> {
    return this.simulation.cm.failQueryRemove(this.#fn().instanceId);
  }

  /** The function's devnode arrives (again): its interface is announced to registrations. */
  arrive(): string {
    const f = this.#fn();
    const [link] = this.simulation.cm.addDevice(f.instanceId, [{ classGuid: f.interfaceGuid }]);
    if (link === undefined) throw new UsageError('SIM_ARRIVE', 'the devnode arrived without an interface');
    return link;
  }

  /** CM_NOTIFY_ACTION_DEVICECUSTOMEVENT to the handle registrations of the function's devnode. */
  sendCustomEvent(eventGuid: string, data: Uint8Array, nameOffset = -1): Promise<void> {
    return this.simulation.cm.sendCustomEvent(this.#fn().instanceId, eventGuid, data, nameOffset);
  }

  /** The next `count` notifications of `action` (e.g. `CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL`) are lost. */
  dropNotification(action: keyof typeof CM_NOTIFY_ACTION, count = 1): void {
    this.simulation.cm.dropNotifications({ action: CM_NOTIFY_ACTION[action], count });
  }

  // ---- driver and host faults ---------------------------------------------------------------

  /** The next `count` IOCTLs named `ioctl` (`TRANSFER_OUT`, `IOCTL_GENERICUSBFN_TRANSFER_IN`, ...) fail with `win32`. */
  failNextIoctl(ioctl: string, win32: number, options: { count?: number; pipe?: number } = {}): void {
    this.simulation.function().driver.failNext({ ioctl, win32, count: options.count, pipe: options.pipe });
  }

  /** The next `count` host URBs on `endpoint` never reach the device: they end by their timeout. */
  timeoutNextUrb(endpoint: number, count = 1): void {
    this.simulation.bus.dropNextUrb(endpoint, count);
  }

  // ---- inspection ---------------------------------------------------------------------------

  endpointState(address: number): SimEndpointState {
    return this.simulation.bus.endpointState(address);
  }

  /** Control requests the device model stalled because nothing handles them. */
  unhandledRequests(): readonly { bmRequestType: number; bRequest: number; wValue: number; wIndex: number; wLength: number }[] {
    return this.simulation.ufx.unhandled();
  }

  /** The device-side event log, synchronously (sim only). */
  deviceLog(): readonly DeviceLogEntry[] {
    return this.service.log.entries;
  }
}
