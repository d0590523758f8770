/**
 * Runs replay operations on a simulated world (`simWorld()`: the device-side service with the loopback test
 * function, the host side over SimUsbHost), every URB of the link captured. The capture is placed at the
 * bus/address the umockdev description uses, so the replay finds it.
 */
import { UsbmonPcapWriter } from '../../../simulator/index.js';
// harness/index.ts also exports the vitest fixtures, which load only inside a vitest run; this tier runs as a
// plain node script (run.sh), so it enters the harness through the world's own index.
import { simWorld } from '../../../harness/world/index.js';
import { type ReplayOp, type ReplayResult, runOperations } from './replay-operations.js';
import { Relocate } from './replay-urb-sinks.js';

/** Bound on finding, opening, claiming and configuring the function, on the simulation's virtual clock. */
const OPEN_TIMEOUT_MS = 5000;

export async function simulatedRun(
  ops: readonly ReplayOp[],
  at: { busNumber: number; deviceAddress: number } = { busNumber: 1, deviceAddress: 7 },
  seed = 1,
): Promise<{ capture: UsbmonPcapWriter; results: ReplayResult[] }> {
  const capture = new UsbmonPcapWriter();
  await using world = await simWorld()
    .withSeed(seed)
    .withUrbSink(new Relocate(capture, at.busNumber, at.deviceAddress))
    .start();
  // A raw handle (no agent): the capture holds exactly the operations the replay client runs.
  const dev = await world.openHandle({ timeoutMs: OPEN_TIMEOUT_MS });
  return { capture, results: await runOperations(dev, ops) };
}
