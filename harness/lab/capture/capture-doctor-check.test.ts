import { describe, expect, it } from 'vitest';
import type { DoctorCheckContext, UsbDeviceInfo } from '../../../host-side/index.js';
import { hostCaptureDoctorCheck } from './capture-doctor-check.js';
import { AnsweringCommandRunner, FakeCaptureFileSystem } from './testing/index.js';

const DEV = { id: '2-1', busNumber: 2, deviceAddress: 5, vendorId: 0x1209, productId: 0x0001, deviceVersion: 0x100, speed: 'high', interfaces: [] } as UsbDeviceInfo;
const ctx = (platform: string, expected?: UsbDeviceInfo): DoctorCheckContext => ({ platform, devices: expected ? [expected] : [], expected });
const DUMPCAP = { 'dumpcap --version': { stdout: 'Dumpcap (Wireshark) 4.0.17 (Git v4.0.17 packaged as 4.0.17-0+deb12u3).\n\nCopyright 1998-2024 Gerald Combs\n' } };

async function run(fs: FakeCaptureFileSystem, answers: Record<string, { stdout: string }>, context: DoctorCheckContext, env?: NodeJS.ProcessEnv) {
  return hostCaptureDoctorCheck({ fileSystem: fs, runner: new AnsweringCommandRunner(answers), env }).run(context);
}

describe('hostCaptureDoctorCheck', () => {
  it('is ok when the device bus has a readable usbmon and dumpcap is installed', async () => {
    const findings = await run(new FakeCaptureFileSystem(['/sys/bus/usb/', '/dev/usbmon0', '/dev/usbmon2']), DUMPCAP, ctx('linux', DEV));
    expect(findings).toEqual([
      expect.objectContaining({ severity: 'ok', code: 'CAPTURE_USBMON', title: 'usbmon is loaded and /dev/usbmon2 is readable', detail: 'The device is on bus 2: the capture interface is usbmon2.' }),
      expect.objectContaining({ severity: 'ok', code: 'CAPTURE_DUMPCAP', title: 'dumpcap 4.0.17 is installed' }),
    ]);
  });

  it('says how to load usbmon and install dumpcap (tshark as the fallback)', async () => {
    const findings = await run(new FakeCaptureFileSystem(['/sys/bus/usb/']), {}, ctx('linux', DEV));
    expect(findings).toEqual([
      expect.objectContaining({ severity: 'warning', code: 'CAPTURE_UNAVAILABLE', detail: 'usbmon is not loaded (no /dev/usbmon* devices)', fix: expect.stringContaining('sudo modprobe usbmon') }),
      expect.objectContaining({ severity: 'warning', code: 'CAPTURE_NO_DUMPCAP', fix: expect.stringContaining('dumpcap -D') }),
    ]);
  });

  it('gives the permission fix for an unreadable usbmon', async () => {
    const fs = new FakeCaptureFileSystem(['/sys/bus/usb/', '/dev/usbmon0']).deny('/dev/usbmon2');
    const [usbmon] = await run(fs, DUMPCAP, ctx('linux', DEV));
    expect(usbmon).toMatchObject({ severity: 'warning', fix: expect.stringContaining('60-usbmon.rules') });
  });

  it('without an expected device, checks that usbmon is loaded at all', async () => {
    const [usbmon] = await run(new FakeCaptureFileSystem(['/sys/bus/usb/', '/dev/usbmon0', '/dev/usbmon3']), DUMPCAP, ctx('linux'));
    expect(usbmon).toMatchObject({ severity: 'info', code: 'CAPTURE_USBMON', title: 'usbmon is loaded' });
  });

  it('looks for USBPcap on Windows and says nothing can capture elsewhere', async () => {
    const env = { ProgramFiles: 'C:\\Program Files' };
    const installed = await run(new FakeCaptureFileSystem(['C:\\Program Files\\USBPcap\\USBPcapCMD.exe']), {}, ctx('win32', DEV), env);
    expect(installed[0]).toMatchObject({ severity: 'ok', code: 'CAPTURE_USBPCAP' });
    const missing = await run(new FakeCaptureFileSystem([]), {}, ctx('win32', DEV), env);
    expect(missing[0]).toMatchObject({ severity: 'warning', code: 'CAPTURE_UNAVAILABLE', fix: expect.stringContaining('desowin.org/usbpcap') });
    const mac = await run(new FakeCaptureFileSystem([]), {}, ctx('darwin', DEV));
    expect(mac[0]).toMatchObject({ severity: 'info', code: 'CAPTURE_UNSUPPORTED' });
  });
});
