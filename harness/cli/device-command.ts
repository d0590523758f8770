/**
 * `usbfn-hil device probe`: first light on the Windows USB function device (docs/first-light.md). Walks the
 * driver step by step over the real `Win32UsbFnPort`, prints every IOCTL with its raw buffers, writes the
 * device trace (JSON Lines) and a JSON result naming each assumption it confirmed or refuted and the driver
 * settings to use. Run `usbfn-hil probe --vid … --pid …` on the host PC at the same time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../../core/index.js';
import type { UsbFnPort } from '../../device-side/index.js';
import { fileStamp, parseCommandArgs, parseSeconds, parseUsbId, type Command } from './command.js';
import { REPORTS_DIR } from './paths.js';

/** The port the command runs on, and how to release it. */
export interface ProbePort {
  readonly port: UsbFnPort;
  /** The trace header's backend (`win32`, `sim`). */
  readonly backend: string;
  close(): Promise<void>;
}

/** What the command needs from its surroundings (tests give a simulated port). */
export interface DeviceCommandDeps {
  readonly createPort: () => Promise<ProbePort>;
  readonly print: (line: string) => void;
}

const usage = `usage: usbfn-hil device probe [--guid <InterfaceGUID>] [--vid <id> --pid <id>] [--trace <file>] [--result <file>] [--timeout <s>]
  On the Windows USB function device: opens the function's interface, walks GET_CLASS_INFO, ACTIVATE_USB_BUS
  and the bus events, then answers the requests of 'usbfn-hil probe' run on the host PC at the same time,
  printing every IOCTL with its raw buffers, byte counts and status.
  --guid       the function's InterfaceGUID (default: the built-in test function's)
  --vid, --pid the USB ids the host will see, for the prompt (default: the test function's 0x1209/0x0001)
  --trace      the device trace, JSON Lines (default reports/probe/device-trace-<time>.jsonl)
  --result     the result: each assumption confirmed or refuted, the settings to use (default reports/probe/device-probe-<time>.json)
  --timeout    one deadline for the whole probe, plugging the cable included, in seconds (default 180)
Exit status: 0 when every step ran, 1 when the probe stopped early, 2 for bad usage or no Win32 backend.`;

async function win32Port(): Promise<ProbePort> {
  const { Win32UsbFnPort } = await import('../../device-side/index.js');
  const port = await Win32UsbFnPort.create();
  return { port, backend: 'win32', close: () => port.close() };
}

/** The command over `deps` (the default one uses Win32UsbFnPort and the terminal). */
export function createDeviceCommand(deps: Partial<DeviceCommandDeps> = {}): Command {
  const print = deps.print ?? ((line: string) => console.log(line));
  return {
    name: 'device',
    summary: 'on the Windows device: device probe (first light, with the host running `usbfn-hil probe`)',
    usage,
    async run(argv) {
      const { values, positionals } = parseCommandArgs(
        this,
        argv,
        {
          guid: { type: 'string' },
          vid: { type: 'string' },
          pid: { type: 'string' },
          trace: { type: 'string' },
          result: { type: 'string' },
          timeout: { type: 'string' },
        },
        true,
      );
      if (positionals.length !== 1 || positionals[0] !== 'probe') {
        throw new UsageError('INVALID_ARGUMENT', `device: unknown subcommand '${positionals.join(' ')}'; the one subcommand is 'probe' (see usbfn-hil device --help)`);
      }
      const timeoutMs = parseSeconds(values.timeout, '--timeout', 180);
      const sim = await import('../../simulator/index.js');
      const vid = parseUsbId(values.vid, '--vid') ?? sim.TEST_FUNCTION_VID;
      const pid = parseUsbId(values.pid, '--pid') ?? sim.TEST_FUNCTION_PID;
      const device = await import('../../device-side/index.js');
      let guid: string;
      try {
        guid = device.normalizeGuid(values.guid ?? device.USBFN_HIL_TEST_INTERFACE_GUID);
      } catch (err) {
        throw new UsageError('INVALID_ARGUMENT', `--guid '${values.guid ?? ''}' is not a braced GUID: give the function's InterfaceGUID, e.g. {7A1C9E52-3B4D-4F86-A0E1-5D2C8B6F9A13}`, {}, { cause: err });
      }
      const stamp = fileStamp();
      const tracePath = values.trace ?? join(REPORTS_DIR, 'probe', `device-trace-${stamp}.jsonl`);
      const resultPath = values.result ?? join(REPORTS_DIR, 'probe', `device-probe-${stamp}.json`);
      const opened = await (deps.createPort ?? win32Port)();
      const trace = new device.JsonLinesFileSink(tracePath);
      let result;
      try {
        result = await device.runDeviceProbe({
          port: opened.port,
          backend: opened.backend,
          interfaceClassGuid: guid,
          print,
          trace,
          timeoutMs,
          hostCommand: `usbfn-hil probe --vid 0x${vid.toString(16).padStart(4, '0')} --pid 0x${pid.toString(16).padStart(4, '0')}`,
        });
      } finally {
        await opened.close();
      }
      mkdirSync(dirname(resultPath), { recursive: true });
      writeFileSync(resultPath, JSON.stringify({ ...result, trace: tracePath }, null, 2) + '\n');
      print(`\ndevice trace: ${tracePath}\nresult: ${resultPath}`);
      return result.complete ? 0 : 1;
    },
  };
}

export const deviceCommand: Command = createDeviceCommand();
