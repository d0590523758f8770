/**
 * `usbfn-hil doctor`: what this host can see over USB and what blocks access to the function.
 */
import { parseCommandArgs, parseUsbId, type Command } from './command.js';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check this host PC: USB access, the function, what is missing',
  usage: `usage: usbfn-hil doctor [--vid <id> --pid <id>]
  Lists the USB devices this host can see and explains what blocks access to the function; says "ready"
  only when it found and opened the function. Also lists the hubs uhubctl can switch per port and checks
  host capture (usbmon on Linux, USBPcap on Windows).
  --vid, --pid   the function's USB ids (e.g. --vid 0x1209 --pid 0x0001): "ready" only when it is found
                 and can be opened`,
  async run(argv) {
    const { values } = parseCommandArgs(this, argv, { vid: { type: 'string' }, pid: { type: 'string' } });
    const vendorId = parseUsbId(values.vid, '--vid');
    const productId = parseUsbId(values.pid, '--pid');
    const { runDoctor, formatDoctorReport } = await import('../../host-side/index.js');
    // Bench checks: hubs uhubctl can switch per port, and host capture (usbmon / USBPcap).
    const { uhubctlDoctorCheck } = await import('../lab/power/index.js');
    const { hostCaptureDoctorCheck } = await import('../lab/capture/index.js');
    const report = await runDoctor({ vendorId, productId, checks: [uhubctlDoctorCheck(), hostCaptureDoctorCheck()] });
    console.log(formatDoctorReport(report));
    return report.ok ? 0 : 1;
  },
};
