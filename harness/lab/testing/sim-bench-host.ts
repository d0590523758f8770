/**
 * The host half of a bench for tests of the lab rig without hardware: the simulator's USB host with the
 * real device-side service and loopback function running on the simulated link, so the rig's host path
 * (find the device, check its speed, open it, loop data back) runs for real. The device *agent* is the msw
 * fake meanwhile: the two halves are not linked, which these tests do not need.
 */
import type { UsbDeviceSpeed } from '../../../core/index.js';
import type { UsbHost } from '../../../host-side/index.js';
import { TEST_FUNCTION_PID, TEST_FUNCTION_VID, type Simulation } from '../../../simulator/index.js';
import { simWorld } from '../../world/index.js';

export interface SimBenchHost {
  readonly host: UsbHost;
  readonly simulation: Simulation;
  dispose(): Promise<void>;
}

/** A simulated device enumerating at `speed`, its service started. */
export async function startSimBenchHost(speed: UsbDeviceSpeed, seed = 1): Promise<SimBenchHost> {
  const world = await simWorld().withSeed(seed).withSpeed(speed).withFunction('loopback').start();
  return { host: world.host, simulation: world.simulation, dispose: () => world.close() };
}

/** The lab config of such a bench (raw form, for validateLabConfig). */
export function simBenchConfig(overrides: { speed?: UsbDeviceSpeed; url?: string; trace?: boolean } = {}): Record<string, unknown> {
  return {
    bench: { id: 'lab-01', tags: ['sim'], speed: overrides.speed ?? 'high' },
    device: { vendorId: TEST_FUNCTION_VID, productId: TEST_FUNCTION_PID },
    function: { interfaceNumber: 0, bulkOut: '0x01', bulkIn: '0x81' },
    agent: { url: overrides.url ?? 'http://agent.test:7311', trace: overrides.trace ?? false },
    lease: { ttlMs: 60_000, waitMs: 0, holder: 'lab-rig-test' },
  };
}
