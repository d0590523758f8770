/**
 * Device traces the simulator records itself, for the tests of `trace check`: the first-light probe pair,
 * and the real service with the loopback function under bulk traffic. And a helper to edit a trace.
 * Test-only.
 */
import { MemoryTraceSink, UsbFnService, createLoopbackFunction, recordingPort, runDeviceProbe, type TraceLine } from '../../device-side/index.js';
import { HostAgent, runHostProbe } from '../../host-side/index.js';
import { createSimulation, USBFN_HIL_TEST_INTERFACE_GUID } from '../../simulator/index.js';

/** The probe pair on one simulation (the host probe starts when the device probe asks for the cable), the device side recorded. */
export async function recordProbePairTrace(seed: number): Promise<string> {
  await using sim = createSimulation({ seed, attached: false });
  const trace = new MemoryTraceSink();
  let prompted: () => void = () => undefined;
  const plugged = new Promise<void>((resolve) => (prompted = resolve));
  const device = runDeviceProbe({
    port: sim.port,
    interfaceClassGuid: USBFN_HIL_TEST_INTERFACE_GUID,
    trace,
    backend: 'sim',
    print: (line) => {
      if (line.includes('NOW PLUG THE CABLE')) {
        sim.attach();
        prompted();
      }
    },
  });
  await plugged;
  await Promise.all([device, runHostProbe({ host: sim.host, vendorId: 0x1209, productId: 0x0001, clock: sim.clock, print: () => undefined })]);
  return trace.text();
}

/** The real service with the loopback function, bulk traffic of several sizes, recorded. */
export async function recordLoopbackTrace(seed: number): Promise<string> {
  await using sim = createSimulation({ seed, attached: false });
  const sink = new MemoryTraceSink();
  const port = recordingPort(sim.port, sink, { backend: 'sim' });
  const service = new UsbFnService({ port, interfaceClassGuid: USBFN_HIL_TEST_INTERFACE_GUID, fn: createLoopbackFunction({ depth: 2, bufferBytes: 8192 }) });
  await service.start();
  await service.whenActive({ timeoutMs: 1000 });
  sim.attach();
  await service.whenConfigured({ timeoutMs: 2000 });
  const handle = await sim.host.open(await sim.host.waitForDevice({ vendorId: 0x1209 }, { timeoutMs: 2000 }));
  await handle.claimInterface(0);
  const agent = new HostAgent({ handle, interfaceNumber: 0, clock: sim.clock });
  await agent.resetState();
  for (const n of [0, 1, 512, 1000, 4096]) {
    const r = await agent.loopback(n, { seed: n });
    if (!r.ok) throw new Error(`recording the loopback trace: the ${n}-byte loopback failed (${JSON.stringify(r)})`);
  }
  await agent.echoWrite(Uint8Array.of(1, 2, 3));
  await handle.close();
  await service.stop();
  await port.finish();
  return sink.text();
}

/**
 * The real service through the function's life: the interface arrives (power on), the host enumerates,
 * the device is surprise-removed (power off), arrives again, and is query-removed; recorded.
 */
export async function recordRemovalTrace(seed: number): Promise<string> {
  await using sim = createSimulation({ seed, powered: false });
  const sink = new MemoryTraceSink();
  const port = recordingPort(sim.port, sink, { backend: 'sim' });
  const service = new UsbFnService({ port, interfaceClassGuid: USBFN_HIL_TEST_INTERFACE_GUID, fn: createLoopbackFunction({ depth: 2, bufferBytes: 8192 }), rescanIntervalMs: 0 });
  await service.start();
  sim.powerOn();
  await service.whenConfigured({ timeoutMs: 2000 });
  await sim.powerOff();
  await service.whenWaiting({ timeoutMs: 2000 });
  sim.powerOn();
  sim.attach();
  await service.whenConfigured({ timeoutMs: 2000 });
  if ((await sim.cm.queryAndRemove(sim.function().instanceId)) !== 'removed') throw new Error('recording the removal trace: the query-remove was vetoed');
  await service.whenWaiting({ timeoutMs: 2000 });
  await service.stop();
  await port.finish();
  return sink.text();
}

/** `text` with its lines after the header changed by `edit` (JSON objects, changed in place). */
export function editTrace(text: string, edit: (lines: TraceLine[]) => void): string {
  const [header, ...body] = text.trim().split('\n');
  const lines = body.map((l) => JSON.parse(l) as TraceLine);
  edit(lines);
  return [header, ...lines.map((l) => JSON.stringify(l))].join('\n') + '\n';
}
