/**
 * Test and tool support: a simulation on the wall clock with the real device-side service and loopback test
 * function (device-side) running over it, exported by a {@link UsbIpServer} on an ephemeral 127.0.0.1 port.
 * What `usbfn-hil usbip serve` runs, in one call, for the contract, fuzz and system-tool tests.
 *
 * Test support of the harness layer (the world comes from the one world builder).
 */
import type { UsbDeviceSpeed } from '../../core/index.js';
import type { UsbFnService } from '../../device-side/index.js';
import type { UsbIpLimits, UsbIpLogEntry, UsbIpServer } from '../../host-side/index.js';
import { exportSimulation, type Simulation } from '../../simulator/index.js';
import { simWorld } from '../world/index.js';

export interface LoopbackExportOptions {
  readonly speed?: UsbDeviceSpeed | undefined;
  readonly seed?: number | undefined;
  /** Default true; false only for a throughput measurement (see exportSimulation's allowVirtualClock). */
  readonly realTime?: boolean | undefined;
  readonly port?: number | undefined;
  readonly limits?: Partial<UsbIpLimits> | undefined;
  readonly log?: ((entry: UsbIpLogEntry) => void) | undefined;
}

export interface StartedLoopbackExport extends AsyncDisposable {
  readonly simulation: Simulation;
  readonly service: UsbFnService;
  readonly server: UsbIpServer;
  readonly port: number;
  /** Stops the server (ending its connections), the service and the simulation. */
  close(): Promise<void>;
}

/** Starts the world and resolves once the server listens (the device enumerates on its own schedule). */
export async function startLoopbackExport(options: LoopbackExportOptions = {}): Promise<StartedLoopbackExport> {
  const realTime = options.realTime ?? true;
  const world = await simWorld()
    .withSeed(options.seed ?? 1)
    .withSpeed(options.speed ?? 'high')
    .withFunction('loopback')
    .withRealTime(realTime)
    .start();
  let server: UsbIpServer;
  try {
    server = await exportSimulation(world.simulation, { port: options.port ?? 0, limits: options.limits, log: options.log, allowVirtualClock: !realTime });
  } catch (err) {
    await world.close();
    throw err;
  }
  const close = async (): Promise<void> => {
    try {
      await server.close();
    } finally {
      await world.close();
    }
  };
  return { simulation: world.simulation, service: world.service, server, port: server.port, close, [Symbol.asyncDispose]: close };
}
