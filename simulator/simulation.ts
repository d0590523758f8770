/**
 * `createSimulation`: one simulated Windows USB function device and its host PC, wired together
 * (docs/simulator.md): a virtual clock and seeded random source, the Configuration Manager model, the USB link
 * and UFX (`simulator/link`), one GenericUSBFn model per function, `SimUsbFnPort` for the
 * device-side code and `SimUsbHost` for the host-side code.
 *
 * Lifecycle, as on a device: **power** puts the function's device instance (the `USBFN\<Interface>` child
 * devnode GenericUSBFn.sys is loaded on) into CM, so its interface arrives for the service; the **cable**
 * (`attach`) gives VBUS; the host enumerates once every function's service sent ACTIVATE_USB_BUS (*Service page*).
 *
 * @example
 * await using sim = createSimulation({ seed: 7 });
 * const service = startService(sim.port);        // device side over the UsbFnPort seam
 * const info = await sim.host.waitForDevice({ vendorId: 0x1209 }, { timeoutMs: 2000 });
 */
import type { UsbDeviceSpeed } from '../core/index.js';
import type { UrbSink } from './capture/index.js';
import { SeededRandom, VirtualClock } from './clock/index.js';
import { ConfigManagerModel } from './cm/index.js';
import { loopbackFunctionConfig, type UsbFnRegistryConfig } from './config/index.js';
import { SimUsbHost, VirtualBus, UfxDevice, type UfxFunctionLink } from './link/index.js';
import { GenericUsbFnModel, type GenericUsbFnModelOptions, SimUsbFnPort } from './usbfn/index.js';

/** Options of {@link createSimulation}. */
export interface SimulationOptions {
  /** The function's USBFN registry configuration. Default: the built-in test function (loopback). */
  readonly config?: UsbFnRegistryConfig | undefined;
  /** Seed of the simulation's random source (print it with every failure). Default 1. */
  readonly seed?: number | undefined;
  /** Fastest speed of the device's function controller and of the host port. Default 'high'. */
  readonly speed?: UsbDeviceSpeed | undefined;
  /** Receives every URB of the link (e.g. a usbmon pcap writer). */
  readonly capture?: UrbSink | undefined;
  /** GenericUSBFn model options for every function (queue depth, exclusivity, assumptions' switches). */
  readonly driver?: Omit<GenericUsbFnModelOptions, 'clock' | 'interfaceName' | 'onUsbString'> | undefined;
  /** Device powered at creation (device instances present in CM). Default true. */
  readonly powered?: boolean | undefined;
  /** Cable plugged at creation (VBUS on). Default true. */
  readonly attached?: boolean | undefined;
  /**
   * Configuration Manager callback latency, drawn per delivery from the seeded random source: different seeds
   * explore different orders of CM notifications against bus and driver events, reproducibly. Default 0 (none).
   */
  readonly cmNotificationLatencyMs?: { readonly min: number; readonly max: number } | undefined;
  /**
   * Run on the wall clock: simulated time advances in step with wall time instead of jumping when idle
   * (simulator/clock/virtual-clock.ts). Needed when something outside the process talks to the simulation
   * with its own real-time timeouts (the `lab-sim` world, `usbfn-hil usbip serve`). Default false.
   */
  readonly realTime?: boolean | undefined;
}

/** One function (one interface of the configuration) of the simulated device. */
export interface SimFunction {
  /** The `InterfaceList` entry. */
  readonly interfaceName: string;
  readonly interfaceNumber: number;
  /** Braced device-interface class GUID the service listens for. */
  readonly interfaceGuid: string;
  /** Device instance ID of the function's devnode, e.g. `USBFN\USBFNHILLOOPBACK\6&0000002A&0&0`. */
  readonly instanceId: string;
  /** GenericUSBFn.sys for this function. */
  readonly driver: GenericUsbFnModel;
  /** The UFX link the driver drives. */
  readonly link: UfxFunctionLink;
  /** The interface's symbolic link while powered, else undefined. */
  readonly symbolicLink: string | undefined;
}

class SimFunctionRecord implements SimFunction {
  symbolicLink: string | undefined = undefined;
  constructor(
    readonly interfaceName: string,
    readonly interfaceNumber: number,
    readonly interfaceGuid: string,
    readonly instanceId: string,
    readonly driver: GenericUsbFnModel,
    readonly link: UfxFunctionLink,
  ) {}
}

/** A running simulation. Dispose it (`await using`) at the end of a test. */
export class Simulation implements AsyncDisposable {
  readonly seed: number;
  readonly clock: VirtualClock;
  readonly random: SeededRandom;
  readonly cm: ConfigManagerModel;
  readonly bus: VirtualBus;
  readonly ufx: UfxDevice;
  /** The device side's `UsbFnPort`. */
  readonly port: SimUsbFnPort;
  /** The host side's `UsbHost`. */
  readonly host: SimUsbHost;
  readonly functions: readonly SimFunction[];
  readonly #records: SimFunctionRecord[];
  #powered = false;

  constructor(options: SimulationOptions = {}) {
    this.seed = options.seed ?? 1;
    this.clock = new VirtualClock({ realTime: options.realTime });
    this.random = new SeededRandom(this.seed);
    this.cm = new ConfigManagerModel({
      clock: this.clock,
      random: this.random,
      notificationLatencyMs: options.cmNotificationLatencyMs,
    });
    const speed = options.speed ?? 'high';
    this.bus = new VirtualBus({ clock: this.clock, portSpeed: speed, urbSink: options.capture });
    this.ufx = new UfxDevice(this.bus, options.config ?? loopbackFunctionConfig(), { maxSpeed: speed });
    const tag = (this.seed >>> 0).toString(16).toUpperCase().padStart(8, '0');
    this.#records = this.ufx.links().map((link) => {
      const driver = new GenericUsbFnModel(link, {
        ...options.driver,
        clock: this.clock,
        interfaceName: link.interfaceName,
        onUsbString: (index, text) => link.registerString(index, text),
      });
      // Device instance ID: enumerator USBFN, device ID = the Interfaces key (the child hardware ID
      // `USBFN\<InterfaceName>`, docs/reference/registry.md#interfaces), an instance-specific ID like PnP's `6&<hash>&0&<n>`.
      const instanceId = `USBFN\\${link.interfaceName.toUpperCase()}\\6&${tag}&0&${link.interfaceNumber}`;
      return new SimFunctionRecord(link.interfaceName, link.interfaceNumber, link.interfaceGuid, instanceId, driver, link);
    });
    this.functions = this.#records;
    const byInstance = new Map(this.#records.map((r) => [r.instanceId.toUpperCase(), r.driver] as const));
    this.port = new SimUsbFnPort({ clock: this.clock, cm: this.cm, driverFor: (id) => byInstance.get(id.toUpperCase()) });
    this.host = new SimUsbHost({ clock: this.clock, ports: [this.bus] });
    if (options.powered ?? true) this.powerOn();
    if (options.attached ?? true) this.attach();
  }

  /** The function named `interfaceName`, or the first one. */
  function(interfaceName?: string): SimFunction {
    const f = interfaceName === undefined ? this.functions[0] : this.functions.find((x) => x.interfaceName === interfaceName);
    if (f === undefined) {
      throw new RangeError(`no function '${interfaceName}'; the device has ${this.functions.map((x) => x.interfaceName).join(', ')}`);
    }
    return f;
  }

  get powered(): boolean {
    return this.#powered;
  }

  /** Power on: every function's device instance arrives in CM (interface arrival notifications follow). */
  powerOn(): void {
    if (this.#powered) return;
    this.#powered = true;
    for (const r of this.#records) {
      const [link] = this.cm.addDevice(r.instanceId, [{ classGuid: r.interfaceGuid }]);
      r.symbolicLink = link;
    }
  }

  /**
   * Power off: the cable's VBUS goes (detach) and every device instance leaves CM without a query
   * (surprise removal: open handles go stale, their I/O fails).
   */
  async powerOff(): Promise<void> {
    if (!this.#powered) return;
    this.#powered = false;
    this.detach();
    for (const r of this.#records) {
      r.symbolicLink = undefined;
      await this.cm.surpriseRemove(r.instanceId);
    }
  }

  /** Plugs the cable (VBUS on); the host enumerates once every service activated its bus. */
  attach(): void {
    this.bus.attach();
  }

  /** Unplugs the cable: pending transfers are purged (995 on the device side, no-device on the host). */
  detach(): void {
    this.bus.detach();
  }

  /** Removes every fault override and prepended handler (the rig calls this after each test, docs/architecture.md#faults-as-overrides). */
  resetFaults(): void {
    for (const r of this.#records) r.driver.faults.reset();
    this.ufx.resetHandlers();
    this.cm.clearFaults();
  }

  /** The device event log of every function (for a report attachment). */
  driverLog(): string {
    return this.#records.map((r) => `# ${r.interfaceName} (${r.instanceId})\n${r.driver.log.format()}`).join('\n');
  }

  /** Unplugs and lets pending simulated work drain. */
  async dispose(): Promise<void> {
    this.detach();
    await this.clock.idle();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/**
 * Builds and starts a simulation (powered and attached unless told otherwise).
 * @throws UsageError INVALID_CONFIG for an inconsistent registry configuration.
 */
export function createSimulation(options: SimulationOptions = {}): Simulation {
  return new Simulation(options);
}
