/**
 * Test and tool support: a simulation on the wall clock with the real device-side service and loopback test
 * function (device-side) running over it, exported by a {@link UsbIpServer} on an ephemeral 127.0.0.1 port.
 * What `usbfn-hil usbip serve` runs, in one call, for the contract, fuzz and system-tool tests.
 *
 * Not part of the simulator's public API.
 */
import type { UsbDeviceSpeed } from '../../core/index.js';
import { createLoopbackFunction, UsbFnService } from '../../device-side/index.js';
import type { UsbIpLimits, UsbIpLogEntry, UsbIpServer } from '../../host-side/index.js';
import { createSimulation, loopbackFunctionConfig, type Simulation } from '../index.js';
import { exportSimulation } from './export-simulation.js';

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
  const simulation = createSimulation({ config: loopbackFunctionConfig(), seed: options.seed ?? 1, speed: options.speed ?? 'high', realTime });
  const service = new UsbFnService({ port: simulation.port, interfaceClassGuid: simulation.function().interfaceGuid, fn: createLoopbackFunction() });
  let server: UsbIpServer | undefined;
  try {
    await service.start();
    server = await exportSimulation(simulation, { port: options.port ?? 0, limits: options.limits, log: options.log, allowVirtualClock: !realTime });
  } catch (err) {
    await service.stop();
    await simulation.dispose();
    throw err;
  }
  const s = server;
  const close = async (): Promise<void> => {
    try {
      await s.close();
      await service.stop();
    } finally {
      await simulation.dispose();
    }
  };
  return { simulation, service, server: s, port: s.port, close, [Symbol.asyncDispose]: close };
}
