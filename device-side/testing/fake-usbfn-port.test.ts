import { describe, expect, it } from 'vitest';
import { ConfigRetError, Win32Error } from '../../core/index.js';
import { CONFIGRET, IOCTL_GENERICUSBFN_GET_CLASS_INFO, IOCTL_GENERICUSBFN_TRANSFER_IN, WIN32_ERROR } from '../abi/index.js';
import { FakeUsbFnFile, FakeUsbFnPort } from './fake-usbfn-port.js';

describe('FakeUsbFnFile', () => {
  it('fails calls that break the IOCTL_TABLE buffer rules with ERROR_INVALID_PARAMETER and records them', async () => {
    const file = new FakeUsbFnFile();
    file.onIoctl(IOCTL_GENERICUSBFN_TRANSFER_IN, () => ({ complete: true }));
    await expect(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, new Uint8Array(2), new Uint8Array(1))).rejects.toMatchObject({
      win32: WIN32_ERROR.ERROR_INVALID_PARAMETER,
      message: expect.stringMatching(/input buffer expected exactly 4 bytes/),
    });
    await expect(file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, null, new Uint8Array(10))).rejects.toThrow(/at least 748/);
    expect(file.calls.map((c) => c.state)).toEqual(['failed', 'failed']);
  });

  it('fails unknown codes, unscripted calls, and calls after close', async () => {
    const file = new FakeUsbFnFile();
    await expect(file.ioctl(0x220003, null, null)).rejects.toMatchObject({ win32Name: 'ERROR_INVALID_FUNCTION', ioctl: 'IOCTL_0x00220003' });
    await expect(file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, null, new Uint8Array(748))).rejects.toThrow(/no response scripted/);
    file.respond(IOCTL_GENERICUSBFN_TRANSFER_IN, { pending: true });
    const p = file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, new Uint8Array(4), new Uint8Array(1));
    await file.close();
    await expect(p).rejects.toMatchObject({ win32Name: 'ERROR_OPERATION_ABORTED' });
    await expect(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, new Uint8Array(4), null)).rejects.toMatchObject({ win32Name: 'ERROR_INVALID_HANDLE' });
    expect(file.isOpen).toBe(false);
  });

  it('copies the input at call time', async () => {
    const file = new FakeUsbFnFile();
    file.respond(IOCTL_GENERICUSBFN_TRANSFER_IN, { complete: true });
    const input = Uint8Array.of(1, 0, 0, 0);
    await file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, input, null);
    input[0] = 9;
    expect(file.calls[0]!.input).toEqual(Uint8Array.of(1, 0, 0, 0));
  });
});

describe('FakeUsbFnPort', () => {
  it('opens files, injects failures, and tracks registrations', async () => {
    const port = new FakeUsbFnPort();
    const f = await port.open('L1');
    expect(f.symbolicLink).toBe('L1');
    expect(port.files).toEqual([f]);
    port.failNext('CreateFileW', WIN32_ERROR.ERROR_FILE_NOT_FOUND);
    await expect(port.open('L2')).rejects.toBeInstanceOf(Win32Error);
    const seen: number[] = [];
    const reg = await port.watchInterfaces('{6e29b7d8-0a39-4a4f-9b1b-3c8c3a5e1b20}', (a) => {
      seen.push(a);
      return 0;
    });
    expect(port.notify('deviceInterface', 0, new Uint8Array(36))).toEqual([0]);
    expect(seen).toEqual([0]);
    await reg.unregister();
    expect(port.registrations).toBe(0);
    await expect(reg.unregister()).rejects.toBeInstanceOf(ConfigRetError);
    port.failNext('CM_Register_Notification', CONFIGRET.CR_FAILURE);
    await expect(port.watchHandle(f, () => 0)).rejects.toMatchObject({ crName: 'CR_FAILURE' });
  });

  it('names every call in order, the IOCTLs and CloseHandle of its files included', async () => {
    const port = new FakeUsbFnPort();
    port.interfaces = ['L1'];
    const reg = await port.watchInterfaces('{6e29b7d8-0a39-4a4f-9b1b-3c8c3a5e1b20}', () => 0);
    await port.getInterfaceListSize({ interfaceClassGuid: 'g' });
    const f = (await port.open('L1')) as FakeUsbFnFile;
    f.respond(IOCTL_GENERICUSBFN_TRANSFER_IN, { complete: true });
    await f.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, new Uint8Array(4), null);
    await port.watchHandle(f, () => 0);
    await f.close();
    await reg.unregister();
    expect(port.calls).toEqual([
      'CM_Register_Notification(DEVICEINTERFACE)',
      'CM_Get_Device_Interface_List_SizeW',
      'CreateFileW',
      'IOCTL_GENERICUSBFN_TRANSFER_IN',
      'CM_Register_Notification(DEVICEHANDLE)',
      'CloseHandle',
      `CM_Unregister_Notification(${reg.id})`,
    ]);
  });

  it('rejects an unregister made from inside the registration\'s own callback (it deadlocks on Windows)', async () => {
    const port = new FakeUsbFnPort();
    let inside: Promise<void> | undefined;
    const reg = await port.watchInstance('USB\\X', () => {
      inside = reg.unregister();
      return 0;
    });
    port.notify('deviceInstance', 0, new Uint8Array(36));
    await expect(inside).rejects.toMatchObject({ code: 'FAKE_UNREGISTER_IN_CALLBACK' });
    expect(port.unregisterInCallback).toBe(1);
    expect(port.registrations).toBe(1);
    await reg.unregister(); // outside the callback it works
    expect(port.registrations).toBe(0);
  });
});
