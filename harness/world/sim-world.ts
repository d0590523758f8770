/**
 * `simWorld()`: the one place a simulated world is assembled (testcontainers' builder → started handle →
 * `await using`). Every user builds its world here: the `sim` rig for scenarios, the benchmarks, the CI
 * tiers and the world-level tests.
 *
 * A world is `createSimulation` (CM model, GenericUSBFn.sys model, UFX and the USB link on a virtual clock
 * with a seeded random source), the real `UsbFnService` running a function over the simulation's
 * `SimUsbFnPort`, and the simulation's `SimUsbHost` for the host side; the host agent opens on demand.
 *
 * @example
 * await using world = await simWorld().withSpeed('full').withFunction('loopback').withSeed(7).start();
 * const agent = await world.agent();
 * expect((await agent.loopback(64)).ok).toBe(true);
 * @example
 * // A device that is switched off when the service starts, with every URB captured.
 * const pcap = new UsbmonPcapWriter();
 * await using world = await simWorld().withCapture(pcap).powered(false).start();
 * world.sim.powerOn();
 */
import { type UsbDeviceSpeed, UsageError } from '../../core/index.js';
import {
  createLoopbackFunction,
  createSourceSinkFunction,
  TestFunctionState,
  UsbFnService,
  type UsbFnPort,
  type UsbFnServiceOptions,
  type UsbFunction,
} from '../../device-side/index.js';
import {
  createSimulation,
  loopbackFunctionConfig,
  UsbmonPcapWriter,
  type SimUsbFnPort,
  type SimulationOptions,
  type UrbEvent,
  type UrbSink,
  type UsbFnRegistryConfig,
} from '../../simulator/index.js';
import type { SessionCapture, TestFunctionKind, WorldOptions } from '../rig.js';
import { SimControls } from './sim-controls.js';
import { LocalDeviceSide } from './local-device-side.js';
import { StartedSimWorld } from './started-sim-world.js';

/** Bound on the world's own waits, on the virtual clock (generous: the simulated device answers in ms). */
export const DEFAULT_SIM_WAIT_MS = 10_000;

const SPEEDS: readonly UsbDeviceSpeed[] = ['full', 'high', 'super'];

/** Options of the device-side service the world runs. */
export interface SimServiceOptions {
  /** Bound on each step of opening the interface (the service's default when omitted). */
  readonly stepTimeoutMs?: number | undefined;
  /** BUS_EVENT_NOTIFICATION requests kept outstanding (default 4). */
  readonly busEventDepth?: number | undefined;
  /** How often the service lists interfaces again while it waits (0 = never; the service's default when omitted). */
  readonly rescanIntervalMs?: number | undefined;
  /** Driver-behaviour settings the first-light probe decides (device-side/driver-settings.ts). */
  readonly driverSettings?: UsbFnServiceOptions['driverSettings'];
}

/** Builds a simulated world: configure with the `with*` methods, then {@link SimWorldBuilder.start}. */
export function simWorld(): SimWorldBuilder {
  return new SimWorldBuilder();
}

export class SimWorldBuilder {
  #seed = 1;
  #speed: UsbDeviceSpeed = 'high';
  #fn: TestFunctionKind | UsbFunction = 'loopback';
  #config: UsbFnRegistryConfig | undefined;
  #pcap: UsbmonPcapWriter | undefined;
  readonly #sinks: UrbSink[] = [];
  #cmLatencyMs: SimulationOptions['cmNotificationLatencyMs'];
  #driver: SimulationOptions['driver'];
  #service: SimServiceOptions = {};
  #wrapPort: ((port: SimUsbFnPort) => UsbFnPort) | undefined;
  #powered = true;
  #attached = true;
  #startService = true;
  #waitMs = DEFAULT_SIM_WAIT_MS;
  #realTime = false;

  /**
   * Seed of the simulation's random source (CM latencies and everything else drawn at random).
   * @throws UsageError INVALID_ARGUMENT for a value that is not an integer.
   */
  withSeed(seed: number): this {
    if (!Number.isSafeInteger(seed)) throw new UsageError('INVALID_ARGUMENT', `seed ${seed} is not an integer: pass the scenario's seed (harness/seed.ts)`);
    this.#seed = seed;
    return this;
  }

  /**
   * Fastest speed of the device's controller and the host port (default high).
   * @throws UsageError INVALID_ARGUMENT for another value.
   */
  withSpeed(speed: UsbDeviceSpeed): this {
    if (!SPEEDS.includes(speed)) throw new UsageError('INVALID_ARGUMENT', `speed '${String(speed)}' is not one of ${SPEEDS.join(', ')}`);
    this.#speed = speed;
    return this;
  }

  /**
   * The function the service runs: a built-in test function (`loopback`, the default, or `sourceSink`), or
   * your own `UsbFunction` (docs/function-api.md).
   * @throws UsageError INVALID_ARGUMENT for an unknown name.
   */
  withFunction(fn: TestFunctionKind | UsbFunction): this {
    if (typeof fn === 'string' && fn !== 'loopback' && fn !== 'sourceSink') {
      throw new UsageError('INVALID_ARGUMENT', `unknown test function '${String(fn)}': use 'loopback', 'sourceSink' or a UsbFunction`);
    }
    this.#fn = fn;
    return this;
  }

  /** The device's USBFN registry configuration (default: the built-in test function's, VID 0x1209 PID 0x0001). */
  withConfig(config: UsbFnRegistryConfig): this {
    this.#config = config;
    return this;
  }

  /** Writes every URB of the link to `writer` (a usbmon pcap); the world's `capture` reads from it. */
  withCapture(writer: UsbmonPcapWriter): this {
    this.#pcap = writer;
    this.#sinks.push(writer);
    return this;
  }

  /** Also hands every URB of the link to `sink` (e.g. one that relocates records before a writer). */
  withUrbSink(sink: UrbSink): this {
    this.#sinks.push(sink);
    return this;
  }

  /**
   * Configuration Manager callback latency, drawn per delivery from the seeded random source (default none):
   * each seed delivers notifications at other moments, reproducibly.
   * @throws UsageError INVALID_ARGUMENT unless 0 ≤ min ≤ max.
   */
  withCmLatency(rangeMs: { readonly min: number; readonly max: number }): this {
    if (!(rangeMs.min >= 0 && rangeMs.max >= rangeMs.min)) {
      throw new UsageError('INVALID_ARGUMENT', `CM latency range ${rangeMs.min}..${rangeMs.max} ms is not 0 ≤ min ≤ max`);
    }
    this.#cmLatencyMs = rangeMs;
    return this;
  }

  /** GenericUSBFn model options (queue depth, exclusivity, switches of its assumptions). */
  withDriver(options: NonNullable<SimulationOptions['driver']>): this {
    this.#driver = options;
    return this;
  }

  /** Options of the device-side service. */
  withService(options: SimServiceOptions): this {
    this.#service = { ...this.#service, ...options };
    return this;
  }

  /** Runs the service on what `wrap` makes of the simulation's port (e.g. a port that records the calls). */
  withPort(wrap: (port: SimUsbFnPort) => UsbFnPort): this {
    this.#wrapPort = wrap;
    return this;
  }

  /**
   * Bound on the world's own waits when a call gives none (agent open, device-side waits); default 10 s.
   * @throws UsageError INVALID_ARGUMENT unless positive.
   */
  withDefaultWaitMs(ms: number): this {
    if (!(ms > 0)) throw new UsageError('INVALID_ARGUMENT', `default wait ${ms} ms must be positive`);
    this.#waitMs = ms;
    return this;
  }

  /** Whether the device is powered at start (its function devnode present in CM). Default true. */
  powered(on = true): this {
    this.#powered = on;
    return this;
  }

  /** Whether the cable is plugged at start (VBUS). Default true. */
  attached(on = true): this {
    this.#attached = on;
    return this;
  }

  /** Whether `start()` starts the device-side service. Default true. */
  serviceStarted(on = true): this {
    this.#startService = on;
    return this;
  }

  /** Applies a scenario's {@link WorldOptions} (what `test.override({ world })` asks for). */
  withOptions(world: WorldOptions): this {
    if (world.fn !== undefined) this.withFunction(world.fn);
    if (world.speed !== undefined) this.withSpeed(world.speed);
    if (world.powered !== undefined) this.powered(world.powered);
    if (world.attached !== undefined) this.attached(world.attached);
    if (world.startService !== undefined) this.serviceStarted(world.startService);
    if (world.busEventDepth !== undefined) this.withService({ busEventDepth: world.busEventDepth });
    return this;
  }

  /**
   * Runs the simulation on the wall clock (timers fire when real time reaches them) instead of virtual
   * time: for a world another process talks to (the device agent's sim backend, `usbfn-hil usbip serve`),
   * where time cannot jump while a remote peer is thinking.
   */
  withRealTime(on = true): this {
    this.#realTime = on;
    return this;
  }

  /**
   * Assembles the world and, unless `serviceStarted(false)`, starts the service (register, list, open,
   * activate when powered). The host agent opens on the first `agent()` call.
   * @throws UsageError INVALID_CONFIG for an inconsistent registry configuration.
   */
  async start(): Promise<StartedSimWorld> {
    const config = this.#config ?? loopbackFunctionConfig();
    const simulation = createSimulation({
      config,
      seed: this.#seed,
      speed: this.#speed,
      capture: fanOut(this.#sinks),
      driver: this.#driver,
      powered: this.#powered,
      attached: this.#attached,
      cmNotificationLatencyMs: this.#cmLatencyMs,
      realTime: this.#realTime,
    });
    const { fn, functionState } = makeFunction(this.#fn);
    const port = this.#wrapPort?.(simulation.port) ?? simulation.port;
    const service = new UsbFnService({
      port,
      interfaceClassGuid: simulation.function().interfaceGuid,
      fn,
      stepTimeoutMs: this.#service.stepTimeoutMs,
      busEventDepth: this.#service.busEventDepth,
      rescanIntervalMs: this.#service.rescanIntervalMs,
      driverSettings: this.#service.driverSettings,
    });
    const device = new LocalDeviceSide(service, simulation.clock, this.#waitMs);
    const world = new StartedSimWorld({
      seed: this.#seed,
      speed: this.#speed,
      simulation,
      port,
      service,
      fn,
      functionState,
      sim: new SimControls({ seed: this.#seed, simulation, service, functionState }),
      device,
      capture: captureOf(this.#pcap),
      filter: { vendorId: config.idVendor, productId: config.idProduct },
      defaultWaitMs: this.#waitMs,
    });
    if (this.#startService) {
      try {
        await device.startService();
      } catch (err) {
        await world.close();
        throw err;
      }
    }
    return world;
  }
}

function makeFunction(kind: TestFunctionKind | UsbFunction): { fn: UsbFunction; functionState: TestFunctionState | undefined } {
  if (typeof kind !== 'string') {
    // A built-in function passed as an object (e.g. `createLoopbackFunction({ depth: 2 })`) keeps its state reachable.
    const state = (kind as { state?: unknown }).state;
    return { fn: kind, functionState: state instanceof TestFunctionState ? state : undefined };
  }
  const fn = kind === 'loopback' ? createLoopbackFunction() : createSourceSinkFunction();
  return { fn, functionState: fn.state };
}

/** One sink for the simulation: none, the only one, or each in turn. */
function fanOut(sinks: readonly UrbSink[]): UrbSink | undefined {
  if (sinks.length <= 1) return sinks[0];
  return {
    record(event: UrbEvent): void {
      for (const sink of sinks) sink.record(event);
    },
  };
}

/** The session's view of the pcap; without a writer, an empty capture (a pcap with no records). */
function captureOf(writer: UsbmonPcapWriter | undefined): SessionCapture {
  if (writer === undefined) {
    return { pcap: () => new UsbmonPcapWriter().toBytes(), recordCount: 0 };
  }
  return {
    pcap: () => writer.toBytes(),
    get recordCount() {
      return writer.recordCount;
    },
  };
}
