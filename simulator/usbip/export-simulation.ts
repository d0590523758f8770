/**
 * `exportSimulation`: the simulated device on the USB/IP wire (docs/usbip.md). A {@link UsbIpServer} over
 * the simulation's `SimUsbHost`, so every URB a client submits runs through the simulated link with its
 * packet rules, stalls, ZLPs, resets and detach, exactly as the in-process host's transfers do.
 *
 * The simulation must run on the wall clock (`createSimulation({ realTime: true })`): the client's timeouts
 * are real time, and a virtual clock would let simulated time jump ahead while the client is still
 * deciding (a 5-second device-side timeout would fire in the gap of one TCP round trip).
 *
 * @example
 * const simulation = createSimulation({ realTime: true });
 * await using server = await exportSimulation(simulation, { port: 0 });
 * // usbip --tcp-port <server.port> list -r 127.0.0.1
 */
import { UsageError } from '../../core/index.js';
import { UsbIpServer, type UsbIpLimits, type UsbIpLogEntry } from '../../host-side/index.js';
import type { Simulation } from '../index.js';

export interface SimulationExportOptions {
  /** Address to bind. Default 127.0.0.1 (USB/IP has no authentication: see docs/usbip.md). */
  readonly listenHost?: string | undefined;
  /** TCP port; 0 picks a free one. Default 3240. */
  readonly port?: number | undefined;
  /** Which client addresses are served. Default: loopback only. */
  readonly allowClient?: ((address: string) => boolean) | undefined;
  readonly limits?: Partial<UsbIpLimits> | undefined;
  readonly log?: ((entry: UsbIpLogEntry) => void) | undefined;
  /**
   * Export a simulation on virtual time anyway. Only for a measurement in one process whose device side
   * sets no timers while the client is busy (the USB/IP throughput benchmark); never for a client with
   * real-time timeouts of its own.
   */
  readonly allowVirtualClock?: boolean | undefined;
}

/**
 * Starts a USB/IP server exporting the simulation's device.
 * @throws UsageError INVALID_CONFIG when the simulation runs on virtual time (see above); USBIP_LISTEN when
 * the address cannot be bound.
 */
export async function exportSimulation(simulation: Simulation, options: SimulationExportOptions = {}): Promise<UsbIpServer> {
  if (!simulation.clock.realTime && options.allowVirtualClock !== true) {
    throw new UsageError(
      'INVALID_CONFIG',
      'exportSimulation: the simulation runs on virtual time, which would jump ahead of the USB/IP client\'s real-time timeouts: create it with createSimulation({ realTime: true })',
    );
  }
  return UsbIpServer.listen({
    host: simulation.host,
    listenHost: options.listenHost,
    port: options.port,
    allowClient: options.allowClient,
    limits: options.limits,
    log: options.log,
  });
}
