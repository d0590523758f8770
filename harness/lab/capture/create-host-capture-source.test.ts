import { describe, expect, it } from 'vitest';
import { createHostCaptureSource } from './create-host-capture-source.js';
import { UnavailableCaptureSource } from './unavailable-capture-source.js';
import { UsbmonCaptureSource } from './usbmon-capture-source.js';
import { UsbpcapCaptureSource } from './usbpcap-capture-source.js';

describe('createHostCaptureSource', () => {
  it('picks usbmon on Linux and USBPcap on Windows, on the device bus', () => {
    const linux = createHostCaptureSource({ device: { busNumber: 3 } }, { platform: 'linux' });
    expect(linux).toBeInstanceOf(UsbmonCaptureSource);
    expect((linux as UsbmonCaptureSource).interfaceName).toBe('usbmon3');
    const windows = createHostCaptureSource({ device: 2, usbpcapInterface: '\\\\.\\USBPcap5' }, { platform: 'win32' });
    expect(windows).toBeInstanceOf(UsbpcapCaptureSource);
    expect((windows as UsbpcapCaptureSource).interfaceName).toBe('\\\\.\\USBPcap5');
  });

  it('says why there is no capture elsewhere', async () => {
    const mac = createHostCaptureSource({ device: 1 }, { platform: 'darwin' });
    expect(mac).toBeInstanceOf(UnavailableCaptureSource);
    await mac.start();
    expect(await mac.stop()).toEqual({ unavailable: expect.stringContaining('no host capture on darwin') });
    const ac = new AbortController();
    ac.abort();
    await expect(mac.start({ signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('rejects a bus that is not one', () => {
    expect(() => createHostCaptureSource({ device: { busNumber: 0 } }, { platform: 'linux' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
