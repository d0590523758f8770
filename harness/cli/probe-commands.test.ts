/**
 * First light in the simulator: `usbfn-hil device probe` over SimUsbFnPort and `usbfn-hil probe` over
 * SimUsbHost of one simulation, together, as an operator runs them (the host command starts when the device
 * probe asks for the cable). Checks the printed steps, the result file and the trace file, and the probe
 * against a driver that takes only one status-handshake direction.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDeviceTrace, readDriverSettingsFile, type UsbFnPort, type DeviceProbeResult } from '../../device-side/index.js';
import { createSimulation, type Simulation } from '../../simulator/index.js';
import { RefusingHandshakePort } from '../testing/index.js';
import { checkTrace } from '../trace/index.js';
import { createDeviceCommand } from './device-command.js';
import { createProbeCommand } from './probe-command.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'usbfn-hil-probe-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs both commands on `sim`; the host command starts when the device probe prompts for the cable. */
async function firstLight(sim: Simulation, port: UsbFnPort = sim.port) {
  const device: string[] = [];
  const host: string[] = [];
  let startHost: (() => void) | undefined;
  const prompted = new Promise<void>((resolve) => (startHost = resolve));
  const deviceCommand = createDeviceCommand({
    createPort: async () => ({ port, backend: 'sim', close: async () => undefined }),
    print: (line) => {
      device.push(line);
      if (line.includes('NOW PLUG THE CABLE')) {
        sim.attach();
        startHost?.();
      }
    },
  });
  const hostCommand = createProbeCommand({ createHost: async () => sim.host, clock: sim.clock, print: (line) => host.push(line) });
  const trace = join(dir, 'trace.jsonl');
  const resultFile = join(dir, 'result.json');
  const deviceExit = deviceCommand.run(['probe', '--trace', trace, '--result', resultFile, '--timeout', '60']);
  await prompted;
  const hostExit = hostCommand.run(['--vid', '0x1209', '--pid', '0x0001', '--timeout', '60', '--result', join(dir, 'host.json')]);
  const exits = await Promise.all([deviceExit, hostExit]);
  const result = JSON.parse(readFileSync(resultFile, 'utf8')) as DeviceProbeResult & { trace: string };
  return { exits, device, host, result, traceText: readFileSync(trace, 'utf8'), hostResult: JSON.parse(readFileSync(join(dir, 'host.json'), 'utf8')) as { steps: { name: string; ok: boolean }[] } };
}

describe('usbfn-hil device probe + usbfn-hil probe in one simulation (docs/first-light.md)', () => {
  it('walks every step on both sides, prints the raw IOCTLs, and writes a result that settles each assumption', async () => {
    await using sim = createSimulation({ seed: 11, attached: false });
    const { exits, device, host, result, traceText, hostResult } = await firstLight(sim);
    expect(exits).toEqual([0, 0]);
    const text = device.join('\n');
    // The device side prints each step, every IOCTL with its buffers, byte counts and status.
    for (const step of ['step 1: find the interface', 'step 2: GET_CLASS_INFO before ACTIVATE_USB_BUS', 'step 3: ACTIVATE_USB_BUS', 'step 4: bus events', 'step 5: configured at high speed', 'done: the host has the report']) {
      expect(text).toContain(step);
    }
    expect(text).toMatch(/GET_CLASS_INFO h1 in=- outSize=748 → bytesReturned=748 out=0002.*ERROR_SUCCESS\(0\)/);
    expect(text).toMatch(/BUS_EVENT_NOTIFICATION h1 in=- outSize=12 → bytesReturned=12 out=010000000000000000000000 {2}ERROR_SUCCESS\(0\)/);
    expect(text).toContain('no-data request (IN first): HANDSHAKE_IN completed the status stage');
    expect(text).toContain('no-data request (OUT first): HANDSHAKE_OUT completed the status stage');
    expect(text).toMatch(/TRANSFER_IN h1 in=02000000 outSize=NULL → bytesReturned=0 {2}ERROR_SUCCESS\(0\)/);
    expect(text).toMatch(/CreateFileW\(.*\) → no handle {2}ERROR_ACCESS_DENIED\(5\)/);
    // The host side prints its requests with their SETUP bytes and outcomes.
    const hostText = host.join('\n');
    expect(hostText).toContain('ok   NO_DATA (device tries HANDSHAKE_IN first)  setup 2170000000000000  → ok  0 bytes');
    expect(hostText).toContain('ok   bulk IN 0x81 (expecting a ZLP)  → ok  0 bytes');
    expect(hostText).toContain('ok   bulk IN 0x81 on the halted endpoint  → stall');
    expect(hostText).toContain('ok   HALT_STATE (device reads GET_PIPE_STATE)  setup a175000000810100  → ok  1 bytes  data 00');
    expect(hostText).toContain('host probe: 12 steps, 0 not as expected');
    expect(hostResult.steps.every((s) => s.ok)).toBe(true);
    // The result file: every assumption the simulator models is confirmed, and the settings follow.
    expect(result).toMatchObject({ format: 'usbfn-hil-probe-result', version: 1, complete: true });
    expect(Object.fromEntries(result.findings.map((f) => [f.id, f.verdict]))).toEqual({
      'drv-early-ioctls': 'confirmed',
      'drv-bytes-returned': 'confirmed',
      'drv-pipe-ids': 'confirmed',
      'drv-enumeration-events': 'confirmed',
      'drv-no-data-handshake': 'confirmed',
      'link-zero-length-in': 'confirmed',
      'drv-exclusive-open': 'confirmed',
    });
    expect(result.recommendedSettings).toEqual({ busEventBytes: 'strict', ep0PipeId: 'auto', statusHandshake: 'in', zeroLengthIn: 'null-buffer' });
    // The simulated host enumerates as Linux usbcore does: two resets below SuperSpeed.
    expect(result.observations.enumerationEvents.map((e) => [e.type, e.speed])).toEqual([['attach', undefined], ['reset', 'high'], ['reset', 'high'], ['configured', undefined]]);
    // The trace file is a valid, finished device trace of the same run.
    const trace = parseDeviceTrace(traceText);
    expect(trace.finished).toBe(true);
    expect(trace.header).toMatchObject({ backend: 'sim', version: 2 });
    expect(trace.lines.filter((l) => l.kind === 'ioctl').length).toBeGreaterThan(30);
    expect(result.trace).toBe(join(dir, 'trace.jsonl'));
  });

  it('at SuperSpeed the host resets once (usbcore\'s old scheme): drv-enumeration-events is still confirmed, and the trace replays without a divergence', async () => {
    await using sim = createSimulation({ seed: 14, attached: false, speed: 'super' });
    const { exits, result, traceText } = await firstLight(sim);
    expect(exits).toEqual([0, 0]);
    expect(result.observations.enumerationEvents.map((e) => [e.type, e.speed])).toEqual([['attach', undefined], ['reset', 'super'], ['configured', undefined]]);
    expect(result.findings.find((f) => f.id === 'drv-enumeration-events')).toEqual({ id: 'drv-enumeration-events', verdict: 'confirmed', observed: 'events up to Configured: attach, reset, configured (super speed)' });
    const report = await checkTrace(traceText);
    expect(report.checks.filter((c) => c.divergences.length > 0)).toEqual([]);
    expect(report.checks.find((c) => c.id === 'drv-enumeration-events')?.agreed).toBeGreaterThanOrEqual(3);
  });

  it('against a driver that takes only HANDSHAKE_OUT for no-data requests: the probe falls back, refutes drv-no-data-handshake and recommends out', async () => {
    await using sim = createSimulation({ seed: 12, attached: false });
    const port = new RefusingHandshakePort(sim.port, 'in');
    const { exits, device, host, result } = await firstLight(sim, port);
    expect(exits).toEqual([0, 0]);
    expect(device.join('\n')).toContain('no-data request (IN first): HANDSHAKE_IN ERROR_INVALID_PARAMETER');
    expect(device.join('\n')).toContain('no-data request (IN first): HANDSHAKE_OUT completed the status stage');
    expect(host.join('\n')).toContain('host probe: 12 steps, 0 not as expected');
    const finding = result.findings.find((f) => f.id === 'drv-no-data-handshake');
    expect(finding).toEqual({
      id: 'drv-no-data-handshake',
      verdict: 'refuted',
      observed: 'IN first: HANDSHAKE_IN ERROR_INVALID_PARAMETER, then HANDSHAKE_OUT ok; OUT first: HANDSHAKE_OUT ok',
    });
    expect(result.recommendedSettings.statusHandshake).toBe('out');
    expect(port.refusals.length).toBe(1); // the later no-data steps were acknowledged with OUT straight away
    // The result file is what `agent serve --driver-settings` takes, as written.
    expect(readDriverSettingsFile(join(dir, 'result.json'))).toMatchObject({ kind: 'probe-result', given: result.recommendedSettings, settings: { statusHandshake: 'out' } });
  });

  it('stops at its deadline when no host comes, with the steps so far and the rest not settled (exit 1)', async () => {
    await using sim = createSimulation({ seed: 13, attached: false });
    const lines: string[] = [];
    const command = createDeviceCommand({ createPort: async () => ({ port: sim.port, backend: 'sim', close: async () => undefined }), print: (l) => lines.push(l) });
    const resultFile = join(dir, 'r.json');
    await expect(command.run(['probe', '--trace', join(dir, 't.jsonl'), '--result', resultFile, '--timeout', '5'])).resolves.toBe(1);
    const result = JSON.parse(readFileSync(resultFile, 'utf8')) as DeviceProbeResult;
    expect(result.complete).toBe(false);
    expect(result.error).toMatchObject({ code: 'TIMEOUT' });
    expect(lines.join('\n')).toContain('the probe stopped: [TIMEOUT] device probe did not happen within 5000 ms');
    expect(result.findings.find((f) => f.id === 'drv-early-ioctls')?.verdict).toBe('confirmed');
    expect(result.findings.find((f) => f.id === 'drv-no-data-handshake')?.verdict).toBe('not-settled');
    expect(parseDeviceTrace(readFileSync(join(dir, 't.jsonl'), 'utf8')).finished).toBe(true);
  });

  it('checks its arguments before touching anything', async () => {
    const never = async (): Promise<never> => {
      throw new Error('must not open a port');
    };
    const device = createDeviceCommand({ createPort: never, print: () => undefined });
    await expect(device.run(['probes'])).rejects.toThrow(/unknown subcommand 'probes'/);
    await expect(device.run(['probe', '--timeout', '0'])).rejects.toThrow(/--timeout '0'/);
    await expect(device.run(['probe', '--guid', 'not-a-guid'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining("--guid 'not-a-guid' is not a braced GUID") });
    const host = createProbeCommand({ createHost: never, print: () => undefined });
    await expect(host.run([])).rejects.toThrow(/--vid 0x1209 --pid 0x0001/);
    await expect(host.run(['--vid', '0x1209', '--pid', '0x0001', '--interface', '300'])).rejects.toThrow(/--interface '300'/);
  });
});
