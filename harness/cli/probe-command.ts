/**
 * `usbfn-hil probe --vid … --pid …`: first light on the host PC (docs/first-light.md). Sends the probe's
 * class requests to the function while `usbfn-hil device probe` runs on the Windows device, printing every
 * request with its SETUP bytes, outcome, byte count and data, then the device's findings.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { RealClock, UsageError, type Clock } from '../../core/index.js';
import type { UsbHost } from '../../host-side/index.js';
import { parseCommandArgs, parseSeconds, parseUsbId, type Command } from './command.js';

/** What the command needs from its surroundings (tests give a simulated host). */
export interface ProbeCommandDeps {
  readonly createHost: () => Promise<UsbHost>;
  readonly clock: Clock;
  readonly print: (line: string) => void;
}

const usage = `usage: usbfn-hil probe --vid <id> --pid <id> [--interface <n>] [--timeout <s>] [--result <file>]
  On the host PC: waits for the function, then sends the first-light requests that drive
  'usbfn-hil device probe' on the Windows device (start that first), printing each with its raw bytes.
  --vid, --pid   the function's USB ids (e.g. --vid 0x1209 --pid 0x0001)
  --interface    the function's interface number (default: the device's first interface)
  --timeout      one deadline for waiting for the device and all steps, in seconds (default 180)
  --result       also write what the host saw as JSON
Exit status: 0 when the device's report arrived, 1 otherwise, 2 for bad usage.`;

/** The command over `deps` (the default one uses libusb and real time). */
export function createProbeCommand(deps: Partial<ProbeCommandDeps> = {}): Command {
  const print = deps.print ?? ((line: string) => console.log(line));
  return {
    name: 'probe',
    summary: 'on the host PC: first-light probe of the function (with `usbfn-hil device probe` on the device)',
    usage,
    async run(argv) {
      const { values } = parseCommandArgs(this, argv, {
        vid: { type: 'string' },
        pid: { type: 'string' },
        interface: { type: 'string' },
        timeout: { type: 'string' },
        result: { type: 'string' },
      });
      const vendorId = parseUsbId(values.vid, '--vid');
      const productId = parseUsbId(values.pid, '--pid');
      if (vendorId === undefined || productId === undefined) {
        throw new UsageError('INVALID_ARGUMENT', 'probe: give the function\'s ids, e.g. --vid 0x1209 --pid 0x0001 (see usbfn-hil probe --help)');
      }
      const iface = values.interface;
      if (iface !== undefined && (!/^\d{1,3}$/.test(iface) || Number(iface) > 255)) {
        throw new UsageError('INVALID_ARGUMENT', `--interface '${iface}' is not an interface number: give 0..255`);
      }
      const timeoutMs = parseSeconds(values.timeout, '--timeout', 180);
      const hostSide = await import('../../host-side/index.js');
      const host = await (deps.createHost ?? (() => hostSide.NodeUsbHost.create()))();
      let result;
      try {
        result = await hostSide.runHostProbe({
          host,
          vendorId,
          productId,
          clock: deps.clock ?? new RealClock(),
          print,
          timeoutMs,
          ...(iface === undefined ? {} : { interfaceNumber: Number(iface) }),
        });
      } finally {
        await host.close();
      }
      if (values.result !== undefined) {
        mkdirSync(dirname(values.result), { recursive: true });
        writeFileSync(values.result, JSON.stringify(result, null, 2) + '\n');
        print(`result: ${values.result}`);
      }
      return result.complete ? 0 : 1;
    },
  };
}

export const probeCommand: Command = createProbeCommand();
