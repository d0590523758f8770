/**
 * One simulated world for a benchmark, wired like the `sim` rig (harness/rig-sim.ts): the real device-side
 * service and loopback test function over `SimUsbFnPort`, the real `HostAgent` over `SimUsbHost`, on a
 * virtual clock. No capture sink: a benchmark measures the model, not the pcap writer.
 */
import { createLoopbackFunction, type LoopbackFunction } from '../device-side/functions/loopback-function.js';
import { UsbFnService } from '../device-side/service/usbfn-service.js';
import { HostAgent, type UsbDeviceHandle } from '../host-side/index.js';
import { createSimulation, loopbackFunctionConfig, type Simulation } from '../simulator/index.js';

/** A started world: simulation, service, function and an agent on the opened, claimed device. */
export interface BenchWorld extends AsyncDisposable {
  readonly simulation: Simulation;
  readonly service: UsbFnService;
  readonly fn: LoopbackFunction;
  readonly handle: UsbDeviceHandle;
  readonly agent: HostAgent;
  close(): Promise<void>;
}

const WAIT_MS = 10_000;

/**
 * Builds and starts a world at `speed`, waits until the host configured the device.
 * @throws TimeoutError when the device does not enumerate or configure within 10 s of scenario time.
 */
export async function openBenchWorld(options: { speed?: 'full' | 'high'; seed?: number; timeoutMs?: number } = {}): Promise<BenchWorld> {
  const speed = options.speed ?? 'high';
  const simulation = createSimulation({ config: loopbackFunctionConfig(), seed: options.seed ?? 1, speed });
  const fn = createLoopbackFunction();
  const service = new UsbFnService({ port: simulation.port, interfaceClassGuid: simulation.function().interfaceGuid, fn });
  await service.start();
  const config = loopbackFunctionConfig();
  const info = await simulation.host.waitForDevice({ vendorId: config.idVendor, productId: config.idProduct }, { timeoutMs: WAIT_MS });
  const handle = await simulation.host.open(info, { timeoutMs: WAIT_MS });
  await handle.claimInterface(simulation.function().interfaceNumber);
  await service.whenConfigured({ timeoutMs: WAIT_MS });
  const agent = new HostAgent({
    handle,
    interfaceNumber: simulation.function().interfaceNumber,
    clock: simulation.clock,
    maxPacketSize: speed === 'full' ? 64 : 512,
    timeoutMs: options.timeoutMs,
  });
  const close = async (): Promise<void> => {
    await handle.close();
    await service.stop();
    await simulation.dispose();
  };
  return { simulation, service, fn, handle, agent, close, [Symbol.asyncDispose]: close };
}
