/**
 * `usbfn-hil doctor`: what the host can see and, in plain words, why a device cannot be used yet
 * (issue 5). The CLI prints {@link formatDoctorReport}; tests pass a fake host.
 */
import { HarnessError, LibusbError } from '../core/index.js';
import { NodeUsbHost } from './node-usb/node-usb-host.js';
import type { UsbDeviceFilter, UsbDeviceInfo, UsbHost } from './usb-host.js';

export type DoctorSeverity = 'ok' | 'info' | 'warning' | 'error';

export interface DoctorFinding {
  readonly severity: DoctorSeverity;
  /** Stable id, e.g. `LINUX_PERMISSIONS`, `WINDOWS_NO_WINUSB`, `DEVICE_MISSING`, `LIBUSB_UNAVAILABLE`. */
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  /** What to do, ready to copy (commands, a udev rule). */
  readonly fix?: string | undefined;
}

export interface DoctorDevice {
  readonly info: UsbDeviceInfo;
  /** `ok`, a libusb name from open/claim (`LIBUSB_ERROR_ACCESS`), or `not-checked` (not the expected device). */
  readonly access: string;
}

export interface DoctorReport {
  readonly platform: string;
  readonly backend: string | undefined;
  readonly devices: DoctorDevice[];
  readonly findings: DoctorFinding[];
  /** No `error` finding. */
  readonly ok: boolean;
}

export interface DoctorOptions {
  /** The device the harness expects (VID/PID, serial, interface). Only matching devices are opened. */
  readonly expected?: UsbDeviceFilter | undefined;
  /** Shorthand for `expected.vendorId` (the CLI's `--vid`). */
  readonly vendorId?: number | undefined;
  /** Shorthand for `expected.productId` (the CLI's `--pid`). */
  readonly productId?: number | undefined;
  /** Also claim this interface on the expected device (finds kernel drivers and other programs holding it). */
  readonly interfaceNumber?: number | undefined;
  /** Default `process.platform`. */
  readonly platform?: string | undefined;
  /** Default: `NodeUsbHost.create()`. The doctor closes the host it gets. */
  readonly createHost?: (() => Promise<UsbHost>) | undefined;
  readonly timeoutMs?: number | undefined;
}

const hex4 = (n: number): string => n.toString(16).padStart(4, '0');

/** The udev rule that gives the `plugdev` group access to one VID:PID (Linux). */
export function udevRule(vendorId: number, productId: number): string {
  return `SUBSYSTEM=="usb", ATTR{idVendor}=="${hex4(vendorId)}", ATTR{idProduct}=="${hex4(productId)}", MODE="0660", GROUP="plugdev"`;
}

function linuxPermissions(info: UsbDeviceInfo): DoctorFinding {
  const rule = udevRule(info.vendorId, info.productId);
  return {
    severity: 'error',
    code: 'LINUX_PERMISSIONS',
    title: `No permission to open ${hex4(info.vendorId)}:${hex4(info.productId)} (LIBUSB_ERROR_ACCESS)`,
    detail: `Linux gives USB device nodes (/dev/bus/usb/${String(info.busNumber).padStart(3, '0')}/${String(info.deviceAddress).padStart(3, '0')}) to root only unless a udev rule says otherwise.`,
    fix: [
      `echo '${rule}' | sudo tee /etc/udev/rules.d/50-usbfn-hil.rules`,
      'sudo udevadm control --reload-rules && sudo udevadm trigger',
      'sudo usermod -aG plugdev "$USER"   # then log out and back in',
      'Unplug and replug the device.',
    ].join('\n'),
  };
}

function windowsNoWinusb(info: UsbDeviceInfo, name: string): DoctorFinding {
  return {
    severity: 'error',
    code: 'WINDOWS_NO_WINUSB',
    title: `Windows has no WinUSB driver on ${hex4(info.vendorId)}:${hex4(info.productId)} (${name})`,
    detail: 'libusb on Windows can only talk to interfaces bound to WinUSB (or libusbK/usbdk); a vendor-class interface without an INF gets no driver or the wrong one.',
    fix: [
      'Either: run Zadig (https://zadig.akeo.ie), pick the device/interface, choose WinUSB, "Replace Driver";',
      'or: let the device ask for WinUSB itself with Microsoft OS 2.0 descriptors (a BOS platform capability + MS OS 2.0 descriptor set with the WINUSB compatible ID), then replug.',
    ].join('\n'),
  };
}

function busy(info: UsbDeviceInfo, iface: number, platform: string): DoctorFinding {
  return {
    severity: 'error',
    code: 'INTERFACE_BUSY',
    title: `Interface ${iface} of ${hex4(info.vendorId)}:${hex4(info.productId)} is held (LIBUSB_ERROR_BUSY)`,
    detail:
      platform === 'darwin'
        ? 'On macOS a kernel driver (e.g. for a CDC or HID class interface) owns it; libusb cannot detach it without entitlements.'
        : 'Another program has claimed it, or a kernel driver is bound that could not be detached.',
    fix: platform === 'darwin' ? 'Use a vendor-specific (0xFF) interface for the test function.' : 'Close other programs using the device (another harness run, a vendor tool) and retry.',
  };
}

/**
 * Looks at the host's USB side and explains the usual blockers.
 * Never throws for a blocker (it becomes a finding); throws only on a bug in the doctor itself.
 */
export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const platform = options.platform ?? process.platform;
  const findings: DoctorFinding[] = [];
  const devices: DoctorDevice[] = [];
  let host: UsbHost;
  try {
    host = await (options.createHost ?? (() => NodeUsbHost.create()))();
  } catch (e) {
    findings.push({
      severity: 'error',
      code: 'LIBUSB_UNAVAILABLE',
      title: 'libusb could not be loaded',
      detail: e instanceof Error ? e.message : String(e),
      fix:
        platform === 'linux'
          ? 'Run `npm ci` on this machine (the usb package ships a prebuilt libusb); in a container, mount /dev/bus/usb and /run/udev.'
          : platform === 'darwin'
            ? 'Run `npm ci` on this machine; if the prebuilt binary does not match, `brew install libusb` and rebuild (`npm rebuild usb`).'
            : 'Run `npm ci` on this machine (the usb package ships a prebuilt binary for Windows x64/arm64).',
    });
    return { platform, backend: undefined, devices, findings, ok: false };
  }
  try {
    await examine(host, options, platform, devices, findings);
  } finally {
    await host.close();
  }
  if (platform === 'darwin') {
    findings.push({
      severity: 'info',
      code: 'MACOS_NOTES',
      title: 'macOS needs nothing extra for vendor-class interfaces',
      detail: 'IOKit lets libusb claim a vendor-specific (0xFF) interface without a driver; class interfaces (CDC, HID, mass storage) are held by Apple kernel drivers.',
    });
  }
  return { platform, backend: host.backend, devices, findings, ok: !findings.some((f) => f.severity === 'error') };
}

async function examine(host: UsbHost, options: DoctorOptions, platform: string, devices: DoctorDevice[], findings: DoctorFinding[]): Promise<void> {
  let all: UsbDeviceInfo[];
  try {
    all = await host.listDevices();
  } catch (e) {
    findings.push({ severity: 'error', code: 'LIST_FAILED', title: 'Listing USB devices failed', detail: e instanceof Error ? e.message : String(e) });
    return;
  }
  const expected: UsbDeviceFilter | undefined =
    options.vendorId !== undefined || options.productId !== undefined
      ? { ...options.expected, vendorId: options.vendorId ?? options.expected?.vendorId, productId: options.productId ?? options.expected?.productId }
      : options.expected;
  const matches = (d: UsbDeviceInfo): boolean =>
    expected !== undefined &&
    (expected.vendorId === undefined || d.vendorId === expected.vendorId) &&
    (expected.productId === undefined || d.productId === expected.productId) &&
    (expected.serialNumber === undefined || d.serialNumber === expected.serialNumber) &&
    (expected.interfaceNumber === undefined || d.interfaces.some((i) => i.interfaceNumber === expected.interfaceNumber)) &&
    (expected.interfaceClass === undefined || d.interfaces.some((i) => i.interfaceClass === expected.interfaceClass));

  for (const info of all) {
    if (!matches(info)) {
      devices.push({ info, access: 'not-checked' });
      continue;
    }
    const access = await checkAccess(host, info, options, platform, findings);
    devices.push({ info, access });
  }
  if (expected !== undefined && !all.some(matches)) {
    const want = [
      expected.vendorId !== undefined ? `VID 0x${hex4(expected.vendorId)}` : undefined,
      expected.productId !== undefined ? `PID 0x${hex4(expected.productId)}` : undefined,
      expected.serialNumber !== undefined ? `serial '${expected.serialNumber}'` : undefined,
      expected.interfaceNumber !== undefined ? `interface ${expected.interfaceNumber}` : undefined,
    ]
      .filter((s) => s !== undefined)
      .join(', ');
    const sameVid = expected.vendorId !== undefined ? all.filter((d) => d.vendorId === expected.vendorId) : [];
    findings.push({
      severity: 'error',
      code: 'DEVICE_MISSING',
      title: `The expected device (${want}) is not attached`,
      detail:
        `The host sees ${all.length} USB device(s)` +
        (sameVid.length > 0 ? `, including ${sameVid.map((d) => `${hex4(d.vendorId)}:${hex4(d.productId)}`).join(', ')} with the same vendor ID (wrong PID or serial in the config?)` : '') +
        '.',
      fix: [
        'Check the cable goes to the device\'s USB function port (not a host port) and to a data-capable port on this PC.',
        'Check the device-side service is running and has activated the bus (the device only connects after ACTIVATE_USB_BUS).',
        'Check the USBFN registry values idVendor/idProduct/SerialNumberString on the device match the lab config.',
        platform === 'win32' ? 'Look in Device Manager for an unknown device or a Code 43 (enumeration failure).' : 'Run `lsusb` (Linux) or `system_profiler SPUSBDataType` (macOS) to compare.',
      ].join('\n'),
    });
  }
  if (expected === undefined && all.length > 0) {
    findings.push({
      severity: 'info',
      code: 'NO_EXPECTED_DEVICE',
      title: 'No expected device given: nothing was opened',
      detail: 'Pass the VID/PID of the device under test (usbfn-hil doctor --vid 0x1209 --pid 0x0001) to check access to it.',
    });
  }
  if (findings.length === 0 && expected !== undefined) {
    findings.push({ severity: 'ok', code: 'READY', title: 'The expected device is attached and usable', detail: 'Open (and claim, if asked) succeeded.' });
  }
}

async function checkAccess(host: UsbHost, info: UsbDeviceInfo, options: DoctorOptions, platform: string, findings: DoctorFinding[]): Promise<string> {
  let handle;
  try {
    handle = await host.open(info, { timeoutMs: options.timeoutMs });
  } catch (e) {
    return explain(e, info, undefined, platform, findings);
  }
  try {
    if (options.interfaceNumber !== undefined) {
      try {
        await handle.claimInterface(options.interfaceNumber);
        await handle.releaseInterface(options.interfaceNumber);
      } catch (e) {
        return explain(e, info, options.interfaceNumber, platform, findings);
      }
    }
    return 'ok';
  } finally {
    await handle.close();
  }
}

function explain(e: unknown, info: UsbDeviceInfo, iface: number | undefined, platform: string, findings: DoctorFinding[]): string {
  if (!(e instanceof LibusbError)) {
    findings.push({
      severity: 'error',
      code: e instanceof HarnessError ? e.code : 'UNEXPECTED',
      title: `Opening ${hex4(info.vendorId)}:${hex4(info.productId)} failed`,
      detail: e instanceof Error ? e.message : String(e),
    });
    return 'error';
  }
  const name = e.libusbName;
  if (name === 'LIBUSB_ERROR_ACCESS' && platform === 'linux') findings.push(linuxPermissions(info));
  else if ((name === 'LIBUSB_ERROR_ACCESS' || name === 'LIBUSB_ERROR_NOT_SUPPORTED') && platform === 'win32') findings.push(windowsNoWinusb(info, name));
  else if (name === 'LIBUSB_ERROR_BUSY' && iface !== undefined) findings.push(busy(info, iface, platform));
  else if (name === 'LIBUSB_ERROR_NOT_FOUND' && iface !== undefined) {
    findings.push({
      severity: 'error',
      code: 'INTERFACE_MISSING',
      title: `Interface ${iface} is not in the active configuration of ${hex4(info.vendorId)}:${hex4(info.productId)}`,
      detail: `The device reports interfaces ${info.interfaces.map((i) => i.interfaceNumber).join(', ') || 'none'}.`,
      fix: 'Check InterfaceNumber / InterfaceList in the device\'s USBFN registry configuration and the lab config.',
    });
  } else {
    findings.push({
      severity: 'error',
      code: name,
      title: `${iface === undefined ? 'Opening' : `Claiming interface ${iface} of`} ${hex4(info.vendorId)}:${hex4(info.productId)} failed`,
      detail: e.message,
    });
  }
  return name;
}

const MARK: Readonly<Record<DoctorSeverity, string>> = { ok: '[ok]   ', info: '[info] ', warning: '[warn] ', error: '[FAIL] ' };

/** The report as text for a terminal. */
export function formatDoctorReport(report: DoctorReport): string {
  const lines: string[] = [`usbfn-hil doctor (${report.platform}, backend ${report.backend ?? 'not loaded'})`, ''];
  lines.push(report.devices.length === 0 ? 'USB devices: none visible' : `USB devices (${report.devices.length}):`);
  for (const { info, access } of report.devices) {
    const strings = [info.manufacturer, info.product, info.serialNumber].filter((s) => s !== undefined).join(' / ');
    lines.push(
      `  ${hex4(info.vendorId)}:${hex4(info.productId)}  bus ${String(info.busNumber).padStart(3, '0')} address ${String(info.deviceAddress).padStart(3, '0')}  ${info.speed.padEnd(5)}` +
        (strings ? `  ${strings}` : '') +
        (access === 'not-checked' ? '' : `  [${access}]`),
    );
  }
  lines.push('');
  for (const f of report.findings) {
    lines.push(`${MARK[f.severity]}${f.title}`);
    for (const l of f.detail.split('\n')) lines.push(`       ${l}`);
    if (f.fix !== undefined) {
      lines.push('       Fix:');
      for (const l of f.fix.split('\n')) lines.push(`         ${l}`);
    }
  }
  lines.push('', report.ok ? 'Result: ready.' : 'Result: not ready (see [FAIL] above).');
  return lines.join('\n');
}
