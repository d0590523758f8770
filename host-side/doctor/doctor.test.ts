import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/index.js';
import { formatDoctorReport, runDoctor, udevRule, type DoctorCheck, type DoctorCheckContext, type DoctorFileSystem } from './doctor.js';
import { libusbError } from '../libusb-error.js';
import type { UsbDeviceHandle, UsbDeviceInfo, UsbHost } from '../usb-host.js';

const DEV: UsbDeviceInfo = {
  id: '1-3', busNumber: 1, deviceAddress: 7, vendorId: 0x1209, productId: 0x0001, deviceVersion: 0x100, speed: 'high',
  manufacturer: 'usbfn-hil', product: 'Loopback', serialNumber: 'SN1', interfaces: [{ interfaceNumber: 0, interfaceClass: 0xff }],
};
const OTHER: UsbDeviceInfo = { ...DEV, id: '1-4', deviceAddress: 8, vendorId: 0x046d, productId: 0xc52b, manufacturer: undefined, product: undefined, serialNumber: undefined };

function fakeHost(devices: UsbDeviceInfo[], opts: { openErrno?: number; claimErrno?: number } = {}): UsbHost & { closed: boolean; opened: string[] } {
  const host = {
    backend: 'fake',
    closed: false,
    opened: [] as string[],
    async listDevices() {
      return devices;
    },
    async waitForDevice(): Promise<UsbDeviceInfo> {
      throw new Error('unused');
    },
    async open(info: UsbDeviceInfo) {
      host.opened.push(info.id);
      if (opts.openErrno !== undefined) throw libusbError('open', opts.openErrno);
      return {
        info,
        async claimInterface() {
          if (opts.claimErrno !== undefined) throw libusbError('claimInterface', opts.claimErrno);
        },
        async releaseInterface() {},
        async close() {},
      } as unknown as UsbDeviceHandle;
    },
    hotplugEvents() {
      return { [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true as const, value: undefined }) }) };
    },
    async close() {
      host.closed = true;
    },
    async [Symbol.asyncDispose]() {},
  };
  return host;
}

const expected = { vendorId: 0x1209, productId: 0x0001 };

/** A file system where only `paths` exist; records what was asked. */
function fakeFs(paths: string[]): DoctorFileSystem & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async exists(path) {
      asked.push(path);
      return paths.includes(path);
    },
  };
}
/** A Linux host with usbfs (/dev/bus/usb). */
const withUsbfs = fakeFs(['/dev/bus/usb']);

describe('runDoctor', () => {
  it('reports ready when the expected device opens and claims', async () => {
    const host = fakeHost([OTHER, DEV]);
    const r = await runDoctor({ createHost: async () => host, expected, interfaceNumber: 0, platform: 'linux', fileSystem: withUsbfs });
    expect(r.ok).toBe(true);
    expect(r.findings.map((f) => f.code)).toEqual(['READY']);
    expect(r.devices.map((d) => d.access)).toEqual(['not-checked', 'ok']);
    expect(host.opened).toEqual(['1-3']);
    expect(host.closed).toBe(true);
    const text = formatDoctorReport(r);
    expect(text).toContain('1209:0001  bus 001 address 007  high   usbfn-hil / Loopback / SN1  [ok]');
    expect(text).toContain('046d:c52b');
    expect(text).toContain('Result: ready.');
  });

  it('gives a udev rule to copy for LIBUSB_ERROR_ACCESS on Linux', async () => {
    const r = await runDoctor({ createHost: async () => fakeHost([DEV], { openErrno: -3 }), expected, platform: 'linux', fileSystem: withUsbfs });
    expect(r.ok).toBe(false);
    const f = r.findings.find((x) => x.code === 'LINUX_PERMISSIONS');
    expect(f?.fix).toContain('SUBSYSTEM=="usb", ATTR{idVendor}=="1209", ATTR{idProduct}=="0001", MODE="0660", GROUP="plugdev"');
    expect(f?.fix).toContain('udevadm control --reload-rules');
    expect(f?.detail).toContain('/dev/bus/usb/001/007');
    expect(r.devices[0]?.access).toBe('LIBUSB_ERROR_ACCESS');
  });

  it.each([-3, -12])('explains WinUSB for errno %i on Windows', async (errno) => {
    const r = await runDoctor({ createHost: async () => fakeHost([DEV], { openErrno: errno }), expected, platform: 'win32' });
    const f = r.findings.find((x) => x.code === 'WINDOWS_NO_WINUSB');
    expect(f?.fix).toMatch(/Zadig/);
    expect(f?.fix).toMatch(/Microsoft OS 2\.0 descriptors/);
  });

  it('explains a busy interface and a missing interface', async () => {
    const busy = await runDoctor({ createHost: async () => fakeHost([DEV], { claimErrno: -6 }), expected, interfaceNumber: 0, platform: 'darwin' });
    expect(busy.findings.map((f) => f.code)).toEqual(['INTERFACE_BUSY', 'MACOS_NOTES']);
    const missing = await runDoctor({ createHost: async () => fakeHost([DEV], { claimErrno: -5 }), expected, interfaceNumber: 4, platform: 'linux', fileSystem: withUsbfs });
    expect(missing.findings[0]).toMatchObject({ code: 'INTERFACE_MISSING' });
  });

  it('says the expected device is missing and points at a same-vendor device', async () => {
    const r = await runDoctor({ createHost: async () => fakeHost([OTHER, { ...DEV, productId: 2 }]), expected, platform: 'linux', fileSystem: withUsbfs });
    const f = r.findings.find((x) => x.code === 'DEVICE_MISSING');
    expect(f?.title).toContain('VID 0x1209, PID 0x0001');
    expect(f?.detail).toContain('1209:0002 with the same vendor ID');
    expect(f?.fix).toContain('ACTIVATE_USB_BUS');
    expect(formatDoctorReport(r)).toContain('Result: not ready');
  });

  it('explains libusb that cannot load', async () => {
    const r = await runDoctor({
      createHost: async () => {
        throw new UsageError('LIBUSB_UNAVAILABLE', 'libusb failed to initialize');
      },
      platform: 'linux',
      fileSystem: withUsbfs,
    });
    expect(r).toMatchObject({ ok: false, backend: undefined, devices: [] });
    expect(r.findings[0]).toMatchObject({ code: 'LIBUSB_UNAVAILABLE' });
    expect(formatDoctorReport(r)).toContain('backend not loaded');
  });

  it('accepts the CLI shorthand vendorId/productId', async () => {
    const r = await runDoctor({ createHost: async () => fakeHost([DEV], { openErrno: -3 }), vendorId: 0x1209, productId: 1, platform: 'linux', fileSystem: withUsbfs });
    expect(r.findings[0]?.code).toBe('LINUX_PERMISSIONS');
  });

  it('is not ready when no device was given to check, and says what to pass', async () => {
    const host = fakeHost([DEV]);
    const none = await runDoctor({ createHost: async () => host, platform: 'linux', fileSystem: withUsbfs });
    expect(none.findings.map((f) => f.code)).toEqual(['NO_EXPECTED_DEVICE']);
    expect(none.ok).toBe(false);
    expect(host.opened).toEqual([]);
    const text = formatDoctorReport(none);
    expect(text).not.toContain('Result: ready.');
    expect(text).toContain("Result: not ready: no device was checked. Give the function's --vid and --pid");
  });

  it('says the host has no USB subsystem when /dev/bus/usb is absent (and is not ready)', async () => {
    const fs = fakeFs([]);
    const r = await runDoctor({ createHost: async () => fakeHost([]), platform: 'linux', fileSystem: fs });
    expect(fs.asked).toEqual(['/dev/bus/usb']);
    expect(r.ok).toBe(false);
    expect(r.findings.map((f) => f.code)).toEqual(['NO_USB_SUBSYSTEM', 'NO_EXPECTED_DEVICE']);
    const f = r.findings[0]!;
    expect(f.severity).toBe('error');
    expect(f.fix).toContain('--device /dev/bus/usb');
    const text = formatDoctorReport(r);
    expect(text).toContain('[FAIL] This host has no USB subsystem: /dev/bus/usb does not exist');
    expect(text).toContain('Result: not ready (see [FAIL] above).');
    // With --vid/--pid the missing device is reported too, after the cause.
    const withVid = await runDoctor({ createHost: async () => fakeHost([]), expected, platform: 'linux', fileSystem: fs });
    expect(withVid.findings.map((f) => f.code)).toEqual(['NO_USB_SUBSYSTEM', 'DEVICE_MISSING']);
  });

  it('warns when libusb lists nothing at all although usbfs exists', async () => {
    const r = await runDoctor({ createHost: async () => fakeHost([]), expected, platform: 'linux', fileSystem: withUsbfs });
    expect(r.findings.map((f) => f.code)).toEqual(['NO_USB_DEVICES', 'DEVICE_MISSING']);
    expect(r.findings[0]?.fix).toContain('/run/udev');
  });

  it('checks /dev/bus/usb on Linux only', async () => {
    const fs = fakeFs([]);
    const r = await runDoctor({ createHost: async () => fakeHost([DEV]), expected, platform: 'win32', fileSystem: fs });
    expect(fs.asked).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('runs bench checks with the expected device and keeps their findings', async () => {
    const seen: DoctorCheckContext[] = [];
    const hubs: DoctorCheck = {
      name: 'hub power',
      async run(context) {
        seen.push(context);
        return [{ severity: 'ok', code: 'UHUBCTL_HUBS', title: '1 hub with per-port power switching', detail: '1-1 port 2' }];
      },
    };
    const broken: DoctorCheck = {
      name: 'capture',
      async run() {
        throw new Error('fs exploded');
      },
    };
    const r = await runDoctor({ createHost: async () => fakeHost([OTHER, DEV]), expected, platform: 'linux', fileSystem: withUsbfs, checks: [hubs, broken] });
    expect(seen[0]?.expected?.id).toBe('1-3');
    expect(seen[0]?.devices.map((d) => d.id)).toEqual(['1-4', '1-3']);
    expect(r.findings.map((f) => [f.code, f.severity])).toEqual([
      ['READY', 'ok'],
      ['UHUBCTL_HUBS', 'ok'],
      ['CHECK_FAILED', 'warning'],
    ]);
    expect(r.findings[2]?.title).toBe('The capture check could not run');
    expect(r.ok).toBe(true);
    // A check that finds a blocker makes the host not ready.
    const failing: DoctorCheck = { name: 'x', run: async () => [{ severity: 'error', code: 'X', title: 'x', detail: 'x' }] };
    const r2 = await runDoctor({ createHost: async () => fakeHost([DEV]), expected, platform: 'linux', fileSystem: withUsbfs, checks: [failing] });
    expect(r2.ok).toBe(false);
  });

  it('builds the udev rule with 4-digit lowercase hex', () => {
    expect(udevRule(0xabc, 0x1)).toBe('SUBSYSTEM=="usb", ATTR{idVendor}=="0abc", ATTR{idProduct}=="0001", MODE="0660", GROUP="plugdev"');
  });
});
