/**
 * `usbfn-hil doctor`'s capture check: can this host PC capture the device's bus (usbmon readable and
 * dumpcap/tshark installed on Linux; USBPcap installed on Windows)? Capture is optional, so its absence is
 * a `warning` with the fix, never an `error`.
 */
import type { DoctorCheck, DoctorCheckContext, DoctorFinding } from '../../../host-side/index.js';
import { CommandError, COMMAND_ERROR, ExecFileCommandRunner, type CommandRunner } from '../power/index.js';
import { nodeCaptureFileSystem, type CaptureFileSystem } from './capture-file-system.js';
import { checkUsbmon } from './usbmon-check.js';
import { usbpcapCandidates } from './usbpcap-capture-source.js';

export interface CaptureDoctorCheckOptions {
  readonly fileSystem?: CaptureFileSystem | undefined;
  /** Runs `dumpcap --version` / `tshark --version`. */
  readonly runner?: CommandRunner | undefined;
  readonly env?: NodeJS.ProcessEnv | undefined;
  readonly timeoutMs?: number | undefined;
}

/** The first line a tool prints for --version, or undefined when it is not installed. */
async function version(runner: CommandRunner, tool: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<string | undefined> {
  try {
    const r = await runner.run(tool, ['--version'], { timeoutMs, signal });
    if (r.exitCode !== 0) return undefined;
    // "Dumpcap (Wireshark) 4.0.17 (Git v4.0.17 packaged as 4.0.17-0+deb12u3)." → "dumpcap 4.0.17"
    const v = /\d+\.\d+\.\d+/.exec(r.stdout)?.[0];
    return v === undefined ? tool : `${tool} ${v}`;
  } catch (err) {
    if (err instanceof CommandError && err.code === COMMAND_ERROR.notFound) return undefined;
    throw err;
  }
}

export function hostCaptureDoctorCheck(options: CaptureDoctorCheckOptions = {}): DoctorCheck {
  const fs = options.fileSystem ?? nodeCaptureFileSystem;
  const runner = options.runner ?? new ExecFileCommandRunner();
  const timeoutMs = options.timeoutMs ?? 5_000;
  return {
    name: 'host capture',
    async run(context: DoctorCheckContext): Promise<DoctorFinding[]> {
      if (context.platform === 'win32') {
        for (const path of usbpcapCandidates(options.env ?? process.env)) {
          if ((await fs.access(path, 'exists')) === 'ok') {
            return [{ severity: 'ok', code: 'CAPTURE_USBPCAP', title: `USBPcap is installed (${path})`, detail: 'The harness must run elevated for USBPcapCMD to capture (no UAC prompt on a bench).' }];
          }
        }
        return [
          {
            severity: 'warning',
            code: 'CAPTURE_UNAVAILABLE',
            title: 'No host capture: USBPcap is not installed',
            detail: `Looked for ${usbpcapCandidates(options.env ?? process.env).join(', ')}.`,
            fix: 'Install USBPcap from https://desowin.org/usbpcap/ (or with Wireshark) and reboot.',
          },
        ];
      }
      if (context.platform !== 'linux') {
        return [{ severity: 'info', code: 'CAPTURE_UNSUPPORTED', title: `No host capture on ${context.platform}`, detail: 'The harness captures with usbmon (Linux) or USBPcap (Windows).' }];
      }
      const findings: DoctorFinding[] = [];
      const bus = context.expected?.busNumber;
      const check = await checkUsbmon(fs, bus ?? 1, 'linux');
      if (check.ok) {
        findings.push({
          severity: 'ok',
          code: 'CAPTURE_USBMON',
          title: `usbmon is loaded and ${check.device} is readable`,
          detail: bus === undefined ? 'Give --vid/--pid to check the bus of the device itself.' : `The device is on bus ${bus}: the capture interface is ${check.interfaceName}.`,
        });
      } else if (check.problem === 'no-bus' && bus === undefined) {
        findings.push({ severity: 'info', code: 'CAPTURE_USBMON', title: 'usbmon is loaded', detail: `${check.reason}. Give --vid/--pid to check the bus of the device.` });
      } else {
        const [why, fix] = check.reason.split(/\. Fix:\s*/);
        findings.push({ severity: 'warning', code: 'CAPTURE_UNAVAILABLE', title: 'No host capture (usbmon)', detail: why ?? check.reason, fix });
      }
      const tool = (await version(runner, 'dumpcap', timeoutMs, context.signal)) ?? (await version(runner, 'tshark', timeoutMs, context.signal));
      if (tool === undefined) {
        findings.push({
          severity: 'warning',
          code: 'CAPTURE_NO_DUMPCAP',
          title: 'Neither dumpcap nor tshark is installed',
          detail: 'Host capture runs dumpcap (or tshark) on usbmon.',
          fix: 'sudo apt install wireshark-common (dumpcap) or tshark; allow non-root capture with sudo dpkg-reconfigure wireshark-common. `dumpcap -D` should then list the usbmon interfaces.',
        });
      } else {
        findings.push({ severity: 'ok', code: 'CAPTURE_DUMPCAP', title: `${tool} is installed`, detail: '`dumpcap -D` lists the usbmon interfaces it can open.' });
      }
      return findings;
    },
  };
}
