import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/index.js';
import { formatDoctorReport, runDoctor, udevRule } from './doctor.js';
import { libusbError } from './libusb-error.js';
import type { UsbDeviceHandle, UsbDeviceInfo, UsbHost } from './usb-host.js';

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

describe('runDoctor', () => {
  it('reports ready when the expected device opens and claims', async () => {
    const host = fakeHost([OTHER, DEV]);
    const r = await runDoctor({ createHost: async () => host, expected, interfaceNumber: 0, platform: 'linux' });
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
    const r = await runDoctor({ createHost: async () => fakeHost([DEV], { openErrno: -3 }), expected, platform: 'linux' });
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
    const missing = await runDoctor({ createHost: async () => fakeHost([DEV], { claimErrno: -5 }), expected, interfaceNumber: 4, platform: 'linux' });
    expect(missing.findings[0]).toMatchObject({ code: 'INTERFACE_MISSING' });
  });

  it('says the expected device is missing and points at a same-vendor device', async () => {
    const r = await runDoctor({ createHost: async () => fakeHost([OTHER, { ...DEV, productId: 2 }]), expected, platform: 'linux' });
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
    });
    expect(r).toMatchObject({ ok: false, backend: undefined, devices: [] });
    expect(r.findings[0]).toMatchObject({ code: 'LIBUSB_UNAVAILABLE' });
    expect(formatDoctorReport(r)).toContain('backend not loaded');
  });

  it('accepts the CLI shorthand vendorId/productId and says when nothing was checked', async () => {
    const r = await runDoctor({ createHost: async () => fakeHost([DEV], { openErrno: -3 }), vendorId: 0x1209, productId: 1, platform: 'linux' });
    expect(r.findings[0]?.code).toBe('LINUX_PERMISSIONS');
    const none = await runDoctor({ createHost: async () => fakeHost([DEV]), platform: 'linux' });
    expect(none.findings.map((f) => f.code)).toEqual(['NO_EXPECTED_DEVICE']);
    expect(none.ok).toBe(true);
  });

  it('builds the udev rule with 4-digit lowercase hex', () => {
    expect(udevRule(0xabc, 0x1)).toBe('SUBSYSTEM=="usb", ATTR{idVendor}=="0abc", ATTR{idProduct}=="0001", MODE="0660", GROUP="plugdev"');
  });
});
