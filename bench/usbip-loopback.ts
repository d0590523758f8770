/**
 * usbipLoopback: the bulkLoopback figure (bench/bulk-loopback.ts: 1 MiB transfers, 4 queued, every byte
 * verified by HostAgent.loopbackPipelined) with the host side across a USB/IP connection over 127.0.0.1:
 * `UsbIpUsbHost` → TCP → `UsbIpServer` → `SimUsbHost` → the simulated link → the real device-side service and
 * loopback function. It measures what the protocol, its codec and the loopback socket cost on top of the
 * in-process path.
 *
 * The simulation runs on virtual time, as for the in-process figure (exportSimulation's allowVirtualClock:
 * in one process, with no device-side timer pending while bytes cross the socket, simulated time cannot run
 * ahead of anything), so the figure is the software's, not the simulated bus's: on the wall clock the
 * high-speed bus model alone caps bulk at 53 MB/s (bench/bus-model.ts).
 */
import { RealClock } from '../core/index.js';
import { HostAgent, UsbIpUsbHost } from '../host-side/index.js';
import { exportSimulation, loopbackFunctionConfig } from '../simulator/index.js';
import { simWorld } from '../harness/world/index.js';
import { MiB } from './bulk-loopback.js';
import { median, repeat } from './stats.js';
import { atLeast, row, type Row } from './verdict.js';

export interface UsbIpLoopbackFigures {
  readonly transferBytes: number;
  readonly queued: number;
  /** Median over runs, wall bytes per second. */
  readonly bytesPerSecond: number;
  readonly runs: number;
  readonly transfersPerRun: number;
  readonly warmupTransfers: number;
}

const WAIT_MS = 10_000;

/**
 * @throws Error when a run does not come back byte-exact.
 */
export async function measureUsbIpLoopback(options: { runs: number; transfersPerRun: number; queued?: number; warmupTransfers?: number }): Promise<UsbIpLoopbackFigures> {
  const queued = options.queued ?? 4;
  const warmupTransfers = options.warmupTransfers ?? 512;
  // The same world as the in-process figure (virtual time: the bus model, not the wall clock, paces the data).
  const world = await simWorld().withSeed(1).withSpeed('high').withFunction('loopback').start();
  const { simulation, service } = world;
  const server = await exportSimulation(simulation, { port: 0, allowVirtualClock: true });
  const host = new UsbIpUsbHost({ port: server.port, pollIntervalMs: 20, defaultTimeoutMs: 60_000 });
  try {
    const config = loopbackFunctionConfig();
    const info = await host.waitForDevice({ vendorId: config.idVendor, productId: config.idProduct }, { timeoutMs: WAIT_MS });
    const handle = await host.open(info, { timeoutMs: WAIT_MS });
    await handle.claimInterface(simulation.function().interfaceNumber);
    await service.whenConfigured({ timeoutMs: WAIT_MS });
    const agent = await HostAgent.open({ handle, interfaceNumber: simulation.function().interfaceNumber, clock: new RealClock(), timeoutMs: 60_000 });
    const warm = await agent.loopbackPipelined(MiB, warmupTransfers, queued);
    if (!warm.ok) throw new Error(`USB/IP bulk loopback warm-up was not byte-exact: ${JSON.stringify(warm)}`);
    const results = await repeat(options.runs, async () => {
      const t0 = performance.now();
      const r = await agent.loopbackPipelined(MiB, options.transfersPerRun, queued);
      const wall = (performance.now() - t0) / 1000;
      if (!r.ok) throw new Error(`USB/IP bulk loopback run was not byte-exact: ${JSON.stringify(r)}`);
      return r.bytesRead / wall;
    });
    await handle.close();
    return { transferBytes: MiB, queued, bytesPerSecond: median(results), runs: options.runs, transfersPerRun: options.transfersPerRun, warmupTransfers };
  } finally {
    await host.close();
    await server.close();
    await world.close();
  }
}

/** The target of issue 13: bulk loopback through USB/IP over 127.0.0.1. */
export const USBIP_LOOPBACK_TARGET_BYTES_PER_SECOND = 100e6;

/** A bench table row and a note for `usbipLoopback`, beside the in-process figure. */
export interface UsbIpLoopbackEntry {
  readonly row: Row;
  readonly note: string;
  readonly figures: UsbIpLoopbackFigures;
}

/** Turns the figures into bench/run.ts's row and note (pure, for tests). */
export function usbipLoopbackEntry(figures: UsbIpLoopbackFigures, inProcessBytesPerSecond: number): UsbIpLoopbackEntry {
  const mb = (v: number): string => `${(v / 1e6).toFixed(0)} MB/s`;
  const beside = inProcessBytesPerSecond > 0 ? `; in process ${mb(inProcessBytesPerSecond)} (× ${(inProcessBytesPerSecond / figures.bytesPerSecond).toFixed(1)})` : '';
  return {
    figures,
    row: row('usbipLoopback.bytesPerSecond', mb(figures.bytesPerSecond), `≥ ${mb(USBIP_LOOPBACK_TARGET_BYTES_PER_SECOND)}`, atLeast(figures.bytesPerSecond, USBIP_LOOPBACK_TARGET_BYTES_PER_SECOND)),
    note: `usbipLoopback: ${figures.runs} runs × ${figures.transfersPerRun} transfers of 1 MiB, ${figures.queued} queued, over USB/IP on 127.0.0.1 after ${figures.warmupTransfers} warm-up transfers, every byte verified${beside}`,
  };
}

/** Measures and judges `usbipLoopback` for bench/run.ts. */
export async function benchUsbIpLoopback(options: { runs: number; inProcessBytesPerSecond: number }): Promise<UsbIpLoopbackEntry> {
  return usbipLoopbackEntry(await measureUsbIpLoopback({ runs: options.runs, transfersPerRun: 512 }), options.inProcessBytesPerSecond);
}
