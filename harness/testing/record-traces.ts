/**
 * Device traces the simulator records itself, for the tests of `trace check`: the first-light probe pair,
 * and the real service with the loopback function under bulk traffic. And a helper to edit a trace.
 * Test-only.
 */
import { MemoryTraceSink, USBFN_HIL_TEST_INTERFACE_GUID, createLoopbackFunction, recordingPort, runDeviceProbe, type RecordingUsbFnPort, type TraceLine } from '../../device-side/index.js';
import { runHostProbe } from '../../host-side/index.js';
import { simWorld } from '../world/index.js';
import { createSimulation } from '../../simulator/index.js';

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
  const sink = new MemoryTraceSink();
  let port: RecordingUsbFnPort | undefined;
  const world = await simWorld()
    .withSeed(seed)
    .attached(false)
    .withFunction(createLoopbackFunction({ depth: 2, bufferBytes: 8192 }))
    .withPort((p) => (port = recordingPort(p, sink, { backend: 'sim' })))
    .start();
  try {
    await world.device.whenActive({ timeoutMs: 1000 });
    world.sim.replug();
    const agent = await world.agent({ timeoutMs: 2000 });
    await agent.resetState();
    for (const n of [0, 1, 512, 1000, 4096]) {
      const r = await agent.loopback(n, { seed: n });
      if (!r.ok) throw new Error(`recording the loopback trace: the ${n}-byte loopback failed (${JSON.stringify(r)})`);
    }
    await agent.echoWrite(Uint8Array.of(1, 2, 3));
  } finally {
    await world.close();
  }
  await port!.finish();
  return sink.text();
}

/**
 * The real service through the function's life: the interface arrives (power on), the host enumerates,
 * the device is surprise-removed (power off), arrives again, and is query-removed; recorded.
 */
export async function recordRemovalTrace(seed: number): Promise<string> {
  const sink = new MemoryTraceSink();
  let port: RecordingUsbFnPort | undefined;
  const world = await simWorld()
    .withSeed(seed)
    .powered(false)
    .withFunction(createLoopbackFunction({ depth: 2, bufferBytes: 8192 }))
    .withService({ rescanIntervalMs: 0 })
    .withPort((p) => (port = recordingPort(p, sink, { backend: 'sim' })))
    .start();
  try {
    world.sim.powerOn();
    await world.device.whenConfigured({ timeoutMs: 2000 });
    await world.sim.powerOff();
    await world.device.whenWaiting({ timeoutMs: 2000 });
    world.sim.powerOn();
    world.sim.replug();
    await world.device.whenConfigured({ timeoutMs: 2000 });
    if ((await world.sim.queryRemove()) !== 'removed') throw new Error('recording the removal trace: the query-remove was vetoed');
    await world.device.whenWaiting({ timeoutMs: 2000 });
  } finally {
    await world.close();
  }
  await port!.finish();
  return sink.text();
}

/** `text` with its lines after the header changed by `edit` (JSON objects, changed in place). */
export function editTrace(text: string, edit: (lines: TraceLine[]) => void): string {
  const [header, ...body] = text.trim().split('\n');
  const lines = body.map((l) => JSON.parse(l) as TraceLine);
  edit(lines);
  return [header, ...lines.map((l) => JSON.stringify(l))].join('\n') + '\n';
}
