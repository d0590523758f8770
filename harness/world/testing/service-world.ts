/**
 * Test support for the world-level tests of harness/world: a world from `simWorld()` whose service runs on a
 * {@link RecordingUsbFnPort}, not yet started, with the shortcuts those tests use (the driver's IOCTL log,
 * the service's log kinds, opening the host side). Not a test file.
 */
import { TimeoutError, type UsbDeviceSpeed } from '../../../core/index.js';
import type { UsbFnService, UsbFunction } from '../../../device-side/index.js';
import type { HostAgent, UsbDeviceHandle } from '../../../host-side/index.js';
import type { DriverLogEntry, IoctlLogEntry, Simulation, UrbSink } from '../../../simulator/index.js';
import { simWorld } from '../sim-world.js';
import type { StartedSimWorld } from '../started-sim-world.js';
import { RecordingUsbFnPort } from './recording-usbfn-port.js';

export interface ServiceWorldOptions {
  readonly seed?: number | undefined;
  readonly speed?: UsbDeviceSpeed | undefined;
  readonly powered?: boolean | undefined;
  readonly attached?: boolean | undefined;
  readonly stepTimeoutMs?: number | undefined;
  readonly busEventDepth?: number | undefined;
  readonly rescanIntervalMs?: number | undefined;
  /** Receives every URB of the link. */
  readonly urbSink?: UrbSink | undefined;
}

/** One simulated device + its host PC with the real service (not started) and `fn` on top. */
export class ServiceWorld<F extends UsbFunction = UsbFunction> implements AsyncDisposable {
  readonly world: StartedSimWorld;
  readonly port: RecordingUsbFnPort;
  readonly fn: F;

  constructor(world: StartedSimWorld, port: RecordingUsbFnPort, fn: F) {
    this.world = world;
    this.port = port;
    this.fn = fn;
  }

  get simulation(): Simulation {
    return this.world.simulation;
  }

  get service(): UsbFnService {
    return this.world.service;
  }

  get clock(): Simulation['clock'] {
    return this.world.clock;
  }

  get driver(): Simulation['functions'][number]['driver'] {
    return this.simulation.function().driver;
  }

  get instanceId(): string {
    return this.simulation.function().instanceId;
  }

  /** Kinds of the service's event log, in order. */
  kinds(): string[] {
    return this.service.log.entries.map((e) => e.kind);
  }

  /** The driver's IOCTL log entries completed at or after `sinceMs` (optionally one IOCTL, short name). */
  ioctls(sinceMs = 0, name?: string): IoctlLogEntry[] {
    return this.driver.log
      .entries()
      .filter((e: DriverLogEntry): e is IoctlLogEntry => e.kind === 'ioctl' && e.timeMs >= sinceMs)
      .filter((e) => name === undefined || e.ioctl === `IOCTL_GENERICUSBFN_${name}`);
  }

  /** Starts the service and waits until the host has configured the device. */
  async startConfigured(timeoutMs = 5_000): Promise<void> {
    await this.service.start();
    await this.service.whenConfigured({ timeoutMs });
  }

  /** A fresh host agent on the function (the previous one's handle closed), with a 1 s per-transfer timeout. */
  async connectHost(timeoutMs = 5_000): Promise<{ handle: UsbDeviceHandle; agent: HostAgent }> {
    const agent = await this.world.reopenAgent({ timeoutMs, transferTimeoutMs: 1_000 });
    return { handle: agent.handle, agent };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.world.close();
  }
}

/** A {@link ServiceWorld} running `fn`; the test starts the service. */
export async function serviceWorld<F extends UsbFunction>(fn: F, options: ServiceWorldOptions = {}): Promise<ServiceWorld<F>> {
  let port: RecordingUsbFnPort | undefined;
  const builder = simWorld();
  if (options.urbSink !== undefined) builder.withUrbSink(options.urbSink);
  const world = await builder
    .withSeed(options.seed ?? 1)
    .withSpeed(options.speed ?? 'high')
    .withFunction(fn)
    .powered(options.powered ?? true)
    .attached(options.attached ?? true)
    .withService({ stepTimeoutMs: options.stepTimeoutMs, busEventDepth: options.busEventDepth, rescanIntervalMs: options.rescanIntervalMs })
    .withPort((inner) => (port = new RecordingUsbFnPort(inner)))
    .serviceStarted(false)
    .start();
  if (port === undefined) throw new Error('simWorld() did not build the service port through withPort');
  return new ServiceWorld(world, port, fn);
}

/** Resolves once `predicate` holds, checking after each virtual millisecond; rejects after `timeoutMs` virtual ms. */
export async function until(simulation: Simulation, predicate: () => boolean, what: string, timeoutMs = 1_000): Promise<void> {
  const deadline = simulation.clock.now() + timeoutMs;
  while (!predicate()) {
    if (simulation.clock.now() > deadline) throw new TimeoutError(what, timeoutMs);
    await new Promise<void>((resolve) => simulation.clock.setTimer(1, resolve));
  }
}
