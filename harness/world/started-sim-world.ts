/**
 * A running simulated world (what `simWorld()...start()` returns): one simulated Windows USB function
 * device with the real device-side service and function on `SimUsbFnPort`, its host PC's `SimUsbHost`, a
 * virtual clock, the scenario controls and the capture. It is a rig {@link Session}, so the `sim` rig hands
 * it to scenarios as it is. Close it (`await using`) when done.
 */
import type { UsbDeviceSpeed } from '../../core/index.js';
import type { TestFunctionState, UsbFnPort, UsbFnService, UsbFunction } from '../../device-side/index.js';
import type { HostAgent, UsbDeviceFilter, UsbDeviceHandle } from '../../host-side/index.js';
import type { Simulation } from '../../simulator/index.js';
import { openFunctionHandle, openHostAgent, type OpenFunctionOptions } from '../session/index.js';
import type { AgentOptions, DeviceSide, Session, SessionCapture } from '../rig.js';
import type { SimControls } from './sim-controls.js';
import { cmLogItems, driverLogItems, type TimelineItem } from '../report/index.js';

/** The parts a {@link StartedSimWorld} is made of (the builder assembles them). */
export interface SimWorldParts {
  readonly seed: number;
  readonly speed: UsbDeviceSpeed;
  readonly simulation: Simulation;
  readonly port: UsbFnPort;
  readonly service: UsbFnService;
  readonly fn: UsbFunction;
  readonly functionState: TestFunctionState | undefined;
  readonly sim: SimControls;
  readonly device: DeviceSide;
  readonly capture: SessionCapture;
  /** The function's VID/PID, from its USBFN configuration. */
  readonly filter: UsbDeviceFilter;
  /** Bound on the world's own waits when a call gives none. */
  readonly defaultWaitMs: number;
}

export class StartedSimWorld implements Session {
  readonly mode = 'sim' as const;
  readonly seed: number;
  readonly speed: UsbDeviceSpeed;
  /** The whole simulation (CM model, GenericUSBFn model, UFX and link, SimUsbFnPort, SimUsbHost). */
  readonly simulation: Simulation;
  /** The `UsbFnPort` the service runs on (the simulation's, or what the builder's `withPort` made of it). */
  readonly port: UsbFnPort;
  /** The real device-side service. */
  readonly service: UsbFnService;
  /** The function the service runs. */
  readonly fn: UsbFunction;
  /** The built-in test function's state (counters, policies); undefined for another function. */
  readonly functionState: TestFunctionState | undefined;
  /** Faults and inspection, as scenarios get them. */
  readonly sim: SimControls;
  readonly device: DeviceSide;
  readonly capture: SessionCapture;
  /** Resolves once {@link close} has finished. */
  readonly closed: Promise<void>;
  readonly #filter: UsbDeviceFilter;
  readonly #defaultWaitMs: number;
  readonly #handles = new Set<UsbDeviceHandle>();
  #agent: Promise<HostAgent> | undefined;
  #closing: Promise<void> | undefined;
  #markClosed: () => void = () => undefined;

  /** Use `simWorld()...start()`; this constructor only holds what the builder assembled. */
  constructor(parts: SimWorldParts) {
    this.seed = parts.seed;
    this.speed = parts.speed;
    this.simulation = parts.simulation;
    this.port = parts.port;
    this.service = parts.service;
    this.fn = parts.fn;
    this.functionState = parts.functionState;
    this.sim = parts.sim;
    this.device = parts.device;
    this.capture = parts.capture;
    this.#filter = parts.filter;
    this.#defaultWaitMs = parts.defaultWaitMs;
    this.closed = new Promise<void>((resolve) => {
      this.#markClosed = resolve;
    });
  }

  get clock(): Simulation['clock'] {
    return this.simulation.clock;
  }

  get host(): Simulation['host'] {
    return this.simulation.host;
  }

  /**
   * The host agent on the function: found, opened, claimed, configured and its bulk endpoints read from the
   * device, all within one deadline (`timeoutMs`, default the world's bound, on the virtual clock). The same
   * agent on repeated calls until {@link reopenAgent}.
   * @throws TimeoutError when the steps together exceed `timeoutMs`; TestProtocolError when the function
   * has no bulk pair.
   */
  agent(options: AgentOptions = {}): Promise<HostAgent> {
    if (this.#agent === undefined) {
      const opening = openHostAgent(this.#openOptions(options)).then((agent) => {
        this.#handles.add(agent.handle);
        return agent;
      });
      // A failed open is not cached: the next call tries again.
      opening.catch(() => {
        if (this.#agent === opening) this.#agent = undefined;
      });
      this.#agent = opening;
    }
    return this.#agent;
  }

  /** Closes the current agent's handle and opens a fresh agent (after a re-enumeration). */
  async reopenAgent(options: AgentOptions = {}): Promise<HostAgent> {
    const old = this.#agent;
    this.#agent = undefined;
    const handle = await old?.then((a) => a.handle).catch(() => undefined);
    if (handle !== undefined) await this.#closeHandle(handle);
    return this.agent(options);
  }

  /**
   * A handle on the function, found, claimed and configured within one deadline, without an agent (for raw
   * transfers). The world closes it when it closes.
   * @throws TimeoutError when the steps together exceed `timeoutMs`; LibusbError LIBUSB_ERROR_BUSY while the
   * agent's handle holds the interface.
   */
  async openHandle(options: Pick<AgentOptions, 'timeoutMs'> = {}): Promise<UsbDeviceHandle> {
    const handle = await openFunctionHandle(this.#openOptions(options));
    this.#handles.add(handle);
    return handle;
  }

  async artifacts(): Promise<{ deviceLog: unknown; extras: Record<string, unknown> }> {
    return {
      deviceLog: this.service.log.toJSON(),
      extras: {
        driverLog: this.simulation.driverLog(),
        configManagerLog: this.simulation.cm.log,
        unhandledControlRequests: this.simulation.ufx.unhandled(),
      },
    };
  }

  async timelineExtras(): Promise<readonly TimelineItem[]> {
    return [...this.simulation.functions.flatMap((f) => driverLogItems(f.driver.log.entries())), ...cmLogItems(this.simulation.cm.log)];
  }

  /**
   * Removes every override and fault (so nothing leaks into the next world), closes the host handles, stops
   * the service and lets the simulation drain. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    try {
      this.simulation.resetFaults();
      await this.#agent?.catch(() => undefined);
      for (const handle of [...this.#handles]) await this.#closeHandle(handle);
      await this.service.stop();
    } finally {
      await this.simulation.dispose();
      this.#markClosed();
    }
  }

  async #closeHandle(handle: UsbDeviceHandle): Promise<void> {
    this.#handles.delete(handle);
    // The device may be gone already (unplugged, removed): its handle is closed either way.
    await handle.close().catch(() => undefined);
  }

  #openOptions(options: AgentOptions): OpenFunctionOptions {
    return {
      host: this.host,
      device: this.device,
      filter: this.#filter,
      interfaceNumber: this.simulation.function().interfaceNumber,
      clock: this.clock,
      timeoutMs: options.timeoutMs ?? this.#defaultWaitMs,
      transferTimeoutMs: options.transferTimeoutMs,
    };
  }
}
