/**
 * `usbfn-hil doctor`'s power check: is uhubctl installed, which hubs can switch one port's power, and on
 * which hub and port the expected device hangs (the `hotplug` setting to copy into usbfn-hil.lab.json).
 * Findings are `info`/`warning`/`ok` unless a configured hub/port is given and wrong: power switching is
 * optional for a bench, so its absence alone does not make the host "not ready".
 */
import type { DoctorCheck, DoctorCheckContext, DoctorFinding, UsbDeviceInfo } from '../../../host-side/index.js';
import type { CommandRunner } from './command-runner.js';
import { UHUBCTL_PERMISSION_FIX, uhubctlInstallFix } from './uhubctl-power-control.js';
import { listUhubctlHubs } from './uhubctl-hubs.js';
import type { UhubctlHubStatus } from './uhubctl-output.js';

export interface UhubctlDoctorCheckOptions {
  readonly runner?: CommandRunner | undefined;
  /** Default `['uhubctl']`. */
  readonly command?: readonly string[] | undefined;
  readonly timeoutMs?: number | undefined;
  /** The configured hub location and port (usbfn-hil.lab.json `hotplug`), checked when given. */
  readonly hub?: string | undefined;
  readonly port?: number | undefined;
}

const hex4 = (n: number): string => n.toString(16).padStart(4, '0');

function hubLine(h: UhubctlHubStatus): string {
  const devices = h.ports.filter((p) => p.device !== undefined).map((p) => `port ${p.port}: ${p.device!.text}`);
  return `${h.location}  ${h.hub.text}${devices.length > 0 ? `\n    ${devices.join('\n    ')}` : ''}`;
}

/** Where the expected device hangs: every hub port whose device has its VID:PID. */
function whereIs(device: UsbDeviceInfo, hubs: readonly UhubctlHubStatus[]): { hub: UhubctlHubStatus; port: number }[] {
  const at: { hub: UhubctlHubStatus; port: number }[] = [];
  for (const hub of hubs) {
    for (const p of hub.ports) {
      if (p.device?.vendorId === device.vendorId && p.device.productId === device.productId) at.push({ hub, port: p.port });
    }
  }
  return at;
}

/** The doctor check for hubs with per-port power switching. */
export function uhubctlDoctorCheck(options: UhubctlDoctorCheckOptions = {}): DoctorCheck {
  return {
    name: 'hub power switching (uhubctl)',
    async run(context: DoctorCheckContext): Promise<DoctorFinding[]> {
      if (context.platform === 'win32') {
        return [
          {
            severity: 'info',
            code: 'UHUBCTL_UNSUPPORTED',
            title: 'Per-port power switching with uhubctl is not available on Windows',
            detail: uhubctlInstallFix('win32'),
          },
        ];
      }
      const listing = await listUhubctlHubs({ runner: options.runner, command: options.command, timeoutMs: options.timeoutMs, signal: context.signal });
      const configured = options.hub !== undefined;
      switch (listing.status) {
        case 'not-installed':
          return [
            {
              severity: configured ? 'error' : 'info',
              code: 'UHUBCTL_MISSING',
              title: 'uhubctl is not installed: hotplug kind "uhubctl" (VBUS off/on of a hub port) is unavailable',
              detail: 'Switching a hub port\'s power from the harness needs uhubctl on this host PC and a hub with per-port power switching.',
              fix: uhubctlInstallFix(context.platform),
            },
          ];
        case 'permission':
          return [
            {
              severity: configured ? 'error' : 'warning',
              code: 'UHUBCTL_PERMISSION',
              title: 'uhubctl may not open the hubs of this host (udev rule or root needed)',
              detail: listing.detail,
              fix: UHUBCTL_PERMISSION_FIX,
            },
          ];
        case 'failed':
          return [{ severity: configured ? 'error' : 'warning', code: 'UHUBCTL_FAILED', title: 'uhubctl could not list the hubs', detail: listing.detail }];
        case 'ok':
          return findingsFor(listing.switchable, listing.other, context.expected, options);
      }
    },
  };
}

function findingsFor(
  switchable: readonly UhubctlHubStatus[],
  other: readonly UhubctlHubStatus[],
  expected: UsbDeviceInfo | undefined,
  options: UhubctlDoctorCheckOptions,
): DoctorFinding[] {
  const findings: DoctorFinding[] = [];
  if (switchable.length === 0) {
    findings.push({
      severity: options.hub !== undefined ? 'error' : 'warning',
      code: 'UHUBCTL_NO_HUBS',
      title: 'uhubctl finds no hub with per-port power switching',
      detail:
        other.length === 0
          ? 'No hub answered uhubctl at all.'
          : `Hubs without per-port power switching (ganged: all ports together; nops: none):\n${other.map(hubLine).join('\n')}`,
      fix: 'Use a hub from uhubctl\'s list of compatible hubs (docs/bench-hardware.md), or hotplug.kind "exec" (a relay or PDU) or "port-reset".',
    });
  } else {
    findings.push({
      severity: 'ok',
      code: 'UHUBCTL_HUBS',
      title: `uhubctl can switch the ports of ${switchable.length} hub${switchable.length === 1 ? '' : 's'}`,
      detail: switchable.map(hubLine).join('\n'),
    });
  }
  if (expected !== undefined) {
    const on = whereIs(expected, switchable);
    const onOther = whereIs(expected, other);
    const id = `${hex4(expected.vendorId)}:${hex4(expected.productId)}`;
    if (on.length > 0) {
      const { hub, port } = on[0]!;
      const rootHub = !hub.location.includes('-');
      findings.push({
        severity: 'ok',
        code: 'UHUBCTL_DEVICE_PORT',
        title: `The expected device ${id} is on port ${port} of hub ${hub.location}, which switches per port`,
        detail:
          `In usbfn-hil.lab.json: "hotplug": { "kind": "uhubctl", "hub": "${hub.location}", "port": ${port} }` +
          (rootHub ? '\nThis is a root hub (a port of the PC itself): many PCs report per-port switching on root ports without cutting VBUS. Check that the device really loses power (`uhubctl -l ' + hub.location + ' -p ' + port + ' -a off`), or use an external hub.' : ''),
      });
    } else if (onOther.length > 0) {
      const { hub, port } = onOther[0]!;
      findings.push({
        severity: 'warning',
        code: 'UHUBCTL_DEVICE_NOT_SWITCHABLE',
        title: `The expected device ${id} is on port ${port} of hub ${hub.location}, which cannot switch one port (${hub.hub.powerSwitching ?? 'unknown'})`,
        detail: `${hub.hub.text}`,
        fix: switchable.length > 0 ? `Move it to a port of ${switchable.map((h) => h.location).join(' or ')}.` : 'Plug it into a hub with per-port power switching.',
      });
    }
  }
  if (options.hub !== undefined) {
    const hub = switchable.find((h) => h.location === options.hub);
    const elsewhere = other.find((h) => h.location === options.hub);
    if (hub === undefined) {
      findings.push({
        severity: 'error',
        code: 'UHUBCTL_CONFIGURED_HUB',
        title:
          elsewhere !== undefined
            ? `The configured hub ${options.hub} cannot switch one port (${elsewhere.hub.powerSwitching ?? 'unknown'})`
            : `There is no hub at the configured location ${options.hub}`,
        detail: elsewhere !== undefined ? elsewhere.hub.text : `uhubctl sees hubs at: ${[...switchable, ...other].map((h) => h.location).join(', ') || 'none'}`,
        fix: 'Set hotplug.hub/port in usbfn-hil.lab.json to where the device hangs (run `uhubctl` and `lsusb -t`).',
      });
    } else if (options.port !== undefined && !hub.ports.some((p) => p.port === options.port)) {
      findings.push({
        severity: 'error',
        code: 'UHUBCTL_CONFIGURED_PORT',
        title: `Hub ${options.hub} has no port ${options.port}`,
        detail: `${hub.hub.text}: ports ${hub.ports.map((p) => p.port).join(', ')}`,
        fix: 'Set hotplug.port to the port the device is plugged into.',
      });
    }
  }
  return findings;
}
