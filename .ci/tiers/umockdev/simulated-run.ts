/**
 * Runs replay operations on the simulator: the device-side service with the loopback test function on
 * `createSimulation`, the host side over SimUsbHost, every URB of the link captured. The capture is placed
 * at the bus/address the umockdev description uses, so the replay finds it.
 */
import { createLoopbackFunction } from '../../../device-side/functions/loopback-function.js';
import { UsbFnService } from '../../../device-side/service/usbfn-service.js';
import { UsbmonPcapWriter } from '../../../simulator/capture/usbmon-pcap-writer.js';
import { createSimulation } from '../../../simulator/simulation.js';
import { type ReplayOp, type ReplayResult, runOperations } from './replay-operations.js';
import { Relocate } from './replay-urb-sinks.js';

export async function simulatedRun(
  ops: readonly ReplayOp[],
  at: { busNumber: number; deviceAddress: number } = { busNumber: 1, deviceAddress: 7 },
  seed = 1,
): Promise<{ capture: UsbmonPcapWriter; results: ReplayResult[] }> {
  const capture = new UsbmonPcapWriter();
  await using sim = createSimulation({ seed, capture: new Relocate(capture, at.busNumber, at.deviceAddress) });
  const service = new UsbFnService({ port: sim.port, interfaceClassGuid: sim.function().interfaceGuid, fn: createLoopbackFunction() });
  await service.start();
  try {
    const info = await sim.host.waitForDevice({ vendorId: 0x1209, productId: 0x0001 }, { timeoutMs: 5000 });
    await using dev = await sim.host.open(info);
    await dev.claimInterface(sim.function().interfaceNumber);
    return { capture, results: await runOperations(dev, ops) };
  } finally {
    await service.stop();
  }
}
