/**
 * `usbfn-hil doctor`: what the host can see and, in plain words, why a device cannot be used yet
 * (issue 5). The CLI prints {@link formatDoctorReport}; tests pass a fake host and a fake file system.
 *
 * "Ready" means one thing: the expected function (`--vid/--pid`) was found and opened (and its interface
 * claimed, if asked). Anything short of that says what is missing: no USB subsystem on the host, no
 * device to check, the device absent, no permission. Bench tools above the host side (power switching,
 * capture) add their findings through {@link DoctorCheck}s, so this file needs nothing from the harness.
 */
import { access } from 'node:fs/promises';
import { HarnessError, LibusbError } from '../../core/index.js';
import { NodeUsbHost } from '../node-usb/index.js';
import type { UsbDeviceFilter, UsbDeviceInfo, UsbHost } from '../usb-host.js';

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
  /** Ready: the expected device was found and opened (claimed, if asked), and no finding is an `error`. */
  readonly ok: boolean;
}

/** What the doctor needs of the file system (a fake in tests). */
export interface DoctorFileSystem {
  /** Whether `path` exists (a file, a directory or a device node). */
  exists(path: string): Promise<boolean>;
}

/** What a {@link DoctorCheck} is told about the host. */
export interface DoctorCheckContext {
  readonly platform: string;
  /** Every device libusb listed. */
  readonly devices: readonly UsbDeviceInfo[];
  /** The expected device, when it was found. */
  readonly expected: UsbDeviceInfo | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * An extra check contributed by a layer above the host side (e.g. hubs with per-port power switching,
 * host capture). It reports blockers as findings; a check that throws becomes a `warning` naming it.
 */
export interface DoctorCheck {
  readonly name: string;
  run(context: DoctorCheckContext): Promise<DoctorFinding[]>;
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
  /** Default: the real file system (node:fs). */
  readonly fileSystem?: DoctorFileSystem | undefined;
  /** Bench checks run after the USB checks, in order. */
  readonly checks?: readonly DoctorCheck[] | undefined;
}

/** The real file system. */
export const nodeDoctorFileSystem: DoctorFileSystem = {
  async exists(path) {
    try {
      await access(path);
      return true;
    } catch (err) {
      // EACCES on a parent still means the node exists somewhere we cannot look: report it as present and
      // let the open fail with the permission finding.
      return (err as NodeJS.ErrnoException).code === 'EACCES';
    }
  },
};

/** Where Linux exposes USB device nodes (usbfs); absent when the kernel has no USB or a container hides it. */
export const LINUX_USBFS = '/dev/bus/usb';

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
  const fs = options.fileSystem ?? nodeDoctorFileSystem;
  const findings: DoctorFinding[] = [];
  const devices: DoctorDevice[] = [];
  const noUsbfs = platform === 'linux' && !(await fs.exists(LINUX_USBFS));
  if (noUsbfs) findings.push(noUsbSubsystem());
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
  let expected: UsbDeviceInfo | undefined;
  try {
    expected = await examine(host, options, platform, devices, findings, noUsbfs);
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
  for (const check of options.checks ?? []) {
    try {
      findings.push(...(await check.run({ platform, devices: devices.map((d) => d.info), expected })));
    } catch (e) {
      findings.push({ severity: 'warning', code: 'CHECK_FAILED', title: `The ${check.name} check could not run`, detail: e instanceof Error ? e.message : String(e) });
    }
  }
  const opened = expected !== undefined && devices.some((d) => d.info === expected && d.access === 'ok');
  return { platform, backend: host.backend, devices, findings, ok: opened && !findings.some((f) => f.severity === 'error') };
}

function noUsbSubsystem(): DoctorFinding {
  return {
    severity: 'error',
    code: 'NO_USB_SUBSYSTEM',
    title: `This host has no USB subsystem: ${LINUX_USBFS} does not exist`,
    detail:
      'libusb opens devices through /dev/bus/usb. It is missing when the kernel was built without USB support (CONFIG_USB), ' +
      'when a container was started without the host\'s USB device nodes, or in a VM without a USB controller. Nothing can be seen or opened here.',
    fix: [
      'In a container: docker run --device /dev/bus/usb -v /run/udev:/run/udev:ro ... (or --privileged), then rerun the doctor.',
      'In a VM: add a USB controller and pass the device (or the hub it hangs off) through to the VM.',
      'On bare metal: use a kernel with USB host support (check `ls /sys/bus/usb/devices`).',
    ].join('\n'),
  };
}

/** Lists and opens; returns the expected device when it was found. */
async function examine(
  host: UsbHost,
  options: DoctorOptions,
  platform: string,
  devices: DoctorDevice[],
  findings: DoctorFinding[],
  noUsbfs: boolean,
): Promise<UsbDeviceInfo | undefined> {
  let all: UsbDeviceInfo[];
  try {
    all = await host.listDevices();
  } catch (e) {
    findings.push({ severity: 'error', code: 'LIST_FAILED', title: 'Listing USB devices failed', detail: e instanceof Error ? e.message : String(e) });
    return undefined;
  }
  if (all.length === 0 && !noUsbfs) {
    findings.push({
      severity: 'warning',
      code: 'NO_USB_DEVICES',
      title: 'libusb sees no USB device at all, not even a root hub',
      detail: 'Every host controller shows up as a root hub, so an empty list means libusb cannot see the USB buses of this machine.',
      fix:
        platform === 'linux'
          ? 'In a container, also mount /run/udev (libusb enumerates through udev) and /dev/bus/usb; check `lsusb` lists devices.'
          : 'Check that the OS lists USB devices (Device Manager, `system_profiler SPUSBDataType`) and rerun.',
    });
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

  let found: UsbDeviceInfo | undefined;
  for (const info of all) {
    if (!matches(info)) {
      devices.push({ info, access: 'not-checked' });
      continue;
    }
    found ??= info;
    const result = await checkAccess(host, info, options, platform, findings);
    devices.push({ info, access: result });
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
  if (expected === undefined) {
    findings.push({
      severity: 'warning',
      code: 'NO_EXPECTED_DEVICE',
      title: 'No expected device given: nothing was opened, so this host is not known to be ready',
      detail: 'Pass the VID/PID of the device under test (usbfn-hil doctor --vid 0x1209 --pid 0x0001) to check access to it.',
    });
  }
  if (found !== undefined && !findings.some((f) => f.severity === 'error')) {
    findings.push({ severity: 'ok', code: 'READY', title: 'The expected device is attached and usable', detail: 'Open (and claim, if asked) succeeded.' });
  }
  return found;
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

function resultLine(report: DoctorReport): string {
  if (report.ok) return 'Result: ready.';
  if (report.findings.some((f) => f.severity === 'error')) return 'Result: not ready (see [FAIL] above).';
  return 'Result: not ready: no device was checked. Give the function\'s --vid and --pid (e.g. usbfn-hil doctor --vid 0x1209 --pid 0x0001).';
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
  lines.push('', resultLine(report));
  return lines.join('\n');
}
