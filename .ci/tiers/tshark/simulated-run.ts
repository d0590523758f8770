/**
 * A real simulated run for the tshark tier: the device-side service with the loopback test
 * function on the simulator, driven from the host by HostAgent, with every URB of the link written by a
 * UsbmonPcapWriter (enumeration, class requests, bulk loopback of several sizes, a stall).
 */
import { createLoopbackFunction } from '../../../device-side/functions/loopback-function.js';
import { UsbFnService } from '../../../device-side/service/usbfn-service.js';
import { HostAgent } from '../../../host-side/agent/host-agent.js';
import { UsbmonPcapWriter } from '../../../simulator/capture/usbmon-pcap-writer.js';
import { createSimulation } from '../../../simulator/simulation.js';

export interface SimulatedRun {
  readonly capture: UsbmonPcapWriter;
  /** What the host saw, for the record. */
  readonly loopbacksOk: boolean;
  readonly stallStatus: string;
}

/** Runs the session and returns its capture. */
export async function simulatedRun(seed = 1): Promise<SimulatedRun> {
  const capture = new UsbmonPcapWriter();
  await using sim = createSimulation({ seed, capture });
  const service = new UsbFnService({ port: sim.port, interfaceClassGuid: sim.function().interfaceGuid, fn: createLoopbackFunction() });
  await service.start();
  try {
    const info = await sim.host.waitForDevice({ vendorId: 0x1209, productId: 0x0001 }, { timeoutMs: 5000 });
    await using dev = await sim.host.open(info);
    const iface = sim.function().interfaceNumber;
    await dev.claimInterface(iface);
    const agent = new HostAgent({ handle: dev, interfaceNumber: iface, clock: sim.clock, timeoutMs: 2000 });
    await agent.resetState();
    await agent.getCounters();
    await agent.echoWrite(Uint8Array.of(1, 2, 3, 4, 5));
    await agent.echoRead(5);
    let ok = true;
    for (const n of [1, 511, 512, 1024, 3000]) ok = (await agent.loopback(n, { seed: n })).ok && ok;
    const stall = await agent.classIn(0x7e, 4);
    return { capture, loopbacksOk: ok, stallStatus: stall.status };
  } finally {
    await service.stop();
  }
}
