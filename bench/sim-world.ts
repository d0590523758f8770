/**
 * One simulated world for a benchmark, built like every other with `simWorld()` (harness/world): the real
 * device-side service and loopback test function over `SimUsbFnPort`, the real `HostAgent` over
 * `SimUsbHost`, on a virtual clock. No capture sink: a benchmark measures the model, not the pcap writer.
 */
import { createLoopbackFunction, type LoopbackFunction, type UsbFnService } from '../device-side/index.js';
import type { HostAgent, UsbDeviceHandle } from '../host-side/index.js';
import type { Simulation } from '../simulator/index.js';
// harness/index.ts also exports the vitest fixtures, which load only inside a vitest run; bench/run.ts runs
// without vitest, so it enters the harness through the world's own index.
import { simWorld } from '../harness/world/index.js';

/** A started world: simulation, service, function and an agent on the opened, claimed device. */
export interface BenchWorld extends AsyncDisposable {
  readonly simulation: Simulation;
  readonly service: UsbFnService;
  readonly fn: LoopbackFunction;
  readonly handle: UsbDeviceHandle;
  readonly agent: HostAgent;
  close(): Promise<void>;
}

/**
 * Builds and starts a world at `speed` and opens the agent (its bulk endpoints read from the device);
 * `timeoutMs` is the agent's per-transfer timeout.
 * @throws TimeoutError when the device does not enumerate or configure within 10 s of scenario time.
 */
export async function openBenchWorld(options: { speed?: 'full' | 'high'; seed?: number; timeoutMs?: number } = {}): Promise<BenchWorld> {
  const fn = createLoopbackFunction();
  const world = await simWorld()
    .withSpeed(options.speed ?? 'high')
    .withSeed(options.seed ?? 1)
    .withFunction(fn)
    .start();
  try {
    const agent = await world.agent({ transferTimeoutMs: options.timeoutMs });
    const close = (): Promise<void> => world.close();
    return { simulation: world.simulation, service: world.service, fn, handle: agent.handle, agent, close, [Symbol.asyncDispose]: close };
  } catch (err) {
    await world.close();
    throw err;
  }
}
