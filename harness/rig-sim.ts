/**
 * The `sim` rig: every session is a fresh simulated world (DESIGN.md §1): the real device-side service
 * and test function over `SimUsbFnPort`, the real host agent over `SimUsbHost`, on a virtual clock seeded
 * from the scenario's seed, with every URB written to a usbmon capture.
 */
import { type UsbDeviceSpeed, withTimeout, UsageError } from '../core/index.js';
import {
  createLoopbackFunction,
  createSourceSinkFunction,
  UsbFnService,
  type DeviceLogEntry,
  type TestFunctionState,
  type UsbFunction,
} from '../device-side/index.js';
import { HostAgent, type UsbDeviceHandle } from '../host-side/index.js';
import {
  createSimulation,
  loopbackFunctionConfig,
  UsbmonPcapWriter,
  type Simulation,
} from '../simulator/index.js';
import type { DeviceSide, DeviceStatus, Rig, Session, SessionCapture, WorldOptions } from './rig.js';
import { SimControls } from './sim-controls.js';

/** Bound on the harness's own waits, on the virtual clock (generous: the simulated device answers in ms). */
const DEFAULT_WAIT_MS = 10_000;
/** Captured bytes per URB record: enough to read any control transfer and the start of bulk data. */
const CAPTURE_SNAPLEN = 64 * 1024;

/** Range of the seeded Configuration Manager callback latency (real CM delivers from a worker thread, later). */
const CM_LATENCY_MS = { min: 0, max: 2 } as const;

const MAX_PACKET: Record<UsbDeviceSpeed, number> = { full: 64, high: 512, super: 1024 };

export class SimRig implements Rig {
  readonly mode = 'sim' as const;
  readonly #sessions = new Set<SimSession>();

  async openSession(args: { name: string; seed: number; world: WorldOptions }): Promise<Session> {
    const session = new SimSession(args.seed, args.world, () => this.#sessions.delete(session));
    this.#sessions.add(session);
    await session.start(args.world.startService ?? true);
    return session;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#sessions].map((s) => s.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

class SimSession implements Session {
  readonly mode = 'sim' as const;
  readonly seed: number;
  readonly speed: UsbDeviceSpeed;
  readonly simulation: Simulation;
  readonly service: UsbFnService;
  readonly sim: SimControls;
  readonly device: DeviceSide;
  readonly capture: SessionCapture;
  readonly #writer: UsbmonPcapWriter;
  readonly #onClose: () => void;
  #agent: Promise<HostAgent> | undefined;
  #handle: UsbDeviceHandle | undefined;
  #closed = false;

  constructor(seed: number, world: WorldOptions, onClose: () => void) {
    this.seed = seed;
    this.speed = world.speed ?? 'high';
    this.#onClose = onClose;
    this.#writer = new UsbmonPcapWriter({ snaplen: CAPTURE_SNAPLEN });
    this.simulation = createSimulation({
      config: loopbackFunctionConfig(),
      seed,
      speed: this.speed,
      capture: this.#writer,
      powered: world.powered ?? true,
      attached: world.attached ?? true,
      // Seeded jitter: each scenario seed delivers CM notifications at different moments, so a suite run
      // explores orderings a fixed schedule never would, and a failing order replays from its seed.
      cmNotificationLatencyMs: CM_LATENCY_MS,
    });
    const { fn, state } = makeFunction(world.fn ?? 'loopback');
    this.service = new UsbFnService({
      port: this.simulation.port,
      interfaceClassGuid: this.simulation.function().interfaceGuid,
      fn,
      busEventDepth: world.busEventDepth,
    });
    this.sim = new SimControls({ seed, simulation: this.simulation, service: this.service, functionState: state });
    this.device = new LocalDeviceSide(this.service, this.simulation);
    const writer = this.#writer;
    this.capture = {
      pcap: () => writer.toBytes(),
      get recordCount() {
        return writer.recordCount;
      },
    };
  }

  get clock(): Simulation['clock'] {
    return this.simulation.clock;
  }

  get host(): Simulation['host'] {
    return this.simulation.host;
  }

  async start(startService: boolean): Promise<void> {
    if (startService) await this.service.start();
  }

  agent(options: { timeoutMs?: number } = {}): Promise<HostAgent> {
    this.#agent ??= this.#openAgent(options.timeoutMs ?? DEFAULT_WAIT_MS);
    return this.#agent;
  }

  async reopenAgent(options: { timeoutMs?: number } = {}): Promise<HostAgent> {
    const old = this.#handle;
    this.#agent = undefined;
    this.#handle = undefined;
    await old?.close();
    return this.agent(options);
  }

  async #openAgent(timeoutMs: number): Promise<HostAgent> {
    const config = loopbackFunctionConfig();
    const fn = this.simulation.function();
    const info = await this.host.waitForDevice({ vendorId: config.idVendor, productId: config.idProduct }, { timeoutMs });
    const handle = await this.host.open(info, { timeoutMs });
    this.#handle = handle;
    await handle.claimInterface(fn.interfaceNumber);
    await this.device.whenConfigured({ timeoutMs });
    return new HostAgent({
      handle,
      interfaceNumber: fn.interfaceNumber,
      clock: this.clock,
      maxPacketSize: MAX_PACKET[info.speed === 'full' || info.speed === 'super' ? info.speed : 'high'],
    });
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

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#handle?.close();
      await this.service.stop();
    } finally {
      await this.simulation.dispose();
      this.#onClose();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function makeFunction(kind: 'loopback' | 'sourceSink'): { fn: UsbFunction; state: TestFunctionState } {
  switch (kind) {
    case 'loopback': {
      const fn = createLoopbackFunction();
      return { fn, state: fn.state };
    }
    case 'sourceSink': {
      const fn = createSourceSinkFunction();
      return { fn, state: fn.state };
    }
    default:
      throw new UsageError('INVALID_ARGUMENT', `unknown test function '${String(kind)}': use 'loopback' or 'sourceSink'`);
  }
}

/** The device side in sim: the service object itself, awaited on the virtual clock. */
class LocalDeviceSide implements DeviceSide {
  readonly #service: UsbFnService;
  readonly #simulation: Simulation;

  constructor(service: UsbFnService, simulation: Simulation) {
    this.#service = service;
    this.#simulation = simulation;
  }

  get functionName(): string {
    return this.#service.fn.name;
  }

  async status(): Promise<DeviceStatus> {
    return {
      service: this.#service.state,
      bus: this.#service.busState,
      openCount: this.#service.openCount,
      symbolicLink: this.#service.symbolicLink,
    };
  }

  async eventLog(): Promise<readonly DeviceLogEntry[]> {
    return this.#service.log.entries;
  }

  whenConfigured(options: { timeoutMs?: number } = {}): Promise<void> {
    return this.#service.whenConfigured({ timeoutMs: options.timeoutMs ?? DEFAULT_WAIT_MS });
  }

  whenActive(options: { timeoutMs?: number } = {}): Promise<void> {
    return this.#service.whenActive({ timeoutMs: options.timeoutMs ?? DEFAULT_WAIT_MS });
  }

  whenWaiting(options: { timeoutMs?: number } = {}): Promise<void> {
    return this.#service.whenWaiting({ timeoutMs: options.timeoutMs ?? DEFAULT_WAIT_MS });
  }

  startService(): Promise<void> {
    return withTimeout(this.#simulation.clock, this.#service.start(), 'service start', DEFAULT_WAIT_MS);
  }

  stopService(): Promise<void> {
    return this.#service.stop();
  }
}
