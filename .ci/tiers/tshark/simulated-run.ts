/**
 * A real simulated run for the tshark tier: a world from `simWorld()` (the device-side service with the
 * loopback test function on the simulator), driven from the host by HostAgent, with every URB of the link
 * written by a UsbmonPcapWriter (enumeration, class requests, bulk loopback of several sizes, a stall).
 */
import { simWorld } from '../../../harness/index.js';
import { UsbmonPcapWriter } from '../../../simulator/index.js';

export interface SimulatedRun {
  readonly capture: UsbmonPcapWriter;
  /** What the host saw, for the record. */
  readonly loopbacksOk: boolean;
  readonly stallStatus: string;
}

/** Runs the session and returns its capture. */
export async function simulatedRun(seed = 1): Promise<SimulatedRun> {
  const capture = new UsbmonPcapWriter();
  await using world = await simWorld().withSeed(seed).withCapture(capture).start();
  // The world finds the device by the VID/PID of its function configuration.
  const agent = await world.agent({ timeoutMs: 5000, transferTimeoutMs: 2000 });
  await agent.resetState();
  await agent.getCounters();
  await agent.echoWrite(Uint8Array.of(1, 2, 3, 4, 5));
  await agent.echoRead(5);
  let ok = true;
  for (const n of [1, 511, 512, 1024, 3000]) ok = (await agent.loopback(n, { seed: n })).ok && ok;
  const stall = await agent.classIn(0x7e, 4);
  return { capture, loopbacksOk: ok, stallStatus: stall.status };
}
