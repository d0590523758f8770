/** Unit tests of the fault-injecting port decorator over a scripted FakeUsbFnPort. */
import { describe, expect, it } from 'vitest';
import { UsageError, Win32Error } from '../../../core/index.js';
import {
  CM_NOTIFY_ACTION,
  IOCTL_GENERICUSBFN_GET_CLASS_INFO,
  IOCTL_GENERICUSBFN_TRANSFER_OUT,
  WIN32_ERROR,
} from '../../abi/index.js';
import { FakeUsbFnPort } from '../../testing/index.js';
import { FaultyUsbFnPort, type FaultFiring } from './faulty-usbfn-port.js';

const LINK = '\\\\?\\USBFN#X#1#{7A1C9E52-3B4D-4F86-A0E1-5D2C8B6F9A13}';
const pipeInput = (pipe: number): Uint8Array => new Uint8Array(new Uint32Array([pipe]).buffer);

async function setup(): Promise<{ fake: FakeUsbFnPort; port: FaultyUsbFnPort; fired: FaultFiring[] }> {
  const fake = new FakeUsbFnPort();
  const fired: FaultFiring[] = [];
  const port = new FaultyUsbFnPort(fake, (f) => fired.push(f));
  return { fake, port, fired };
}

describe('FaultyUsbFnPort', () => {
  it('passes everything through when no fault is armed', async () => {
    const { fake, port } = await setup();
    const file = await port.open(LINK);
    fake.files[0]!.onIoctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, () => ({ complete: true, bytesReturned: 7 }));
    expect(await file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeInput(1), new Uint8Array(8))).toBe(7);
    expect(file.symbolicLink).toBe(LINK);
    expect(port.clock).toBe(fake.clock);
  });

  it('fails calls nth..nth+count-1 of the named IOCTL with the Win32 error, labelled as injected, on that pipe only', async () => {
    const { fake, port, fired } = await setup();
    const file = await port.open(LINK);
    fake.files[0]!.onIoctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, () => ({ complete: true, bytesReturned: 1 }));
    port.failIoctl({ faultId: 'F1', ioctl: 'transfer_out', win32: WIN32_ERROR.ERROR_GEN_FAILURE, nth: 2, count: 2, pipe: 1 });
    const out = (pipe: number): Promise<number> => file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeInput(pipe), new Uint8Array(4), { target: `pipe ${pipe}` });
    expect(await out(2)).toBe(1); // other pipe: not counted
    expect(await out(1)).toBe(1); // 1st match: skipped
    const err = await out(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Win32Error);
    expect(err).toMatchObject({ win32: 31, win32Name: 'ERROR_GEN_FAILURE', ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_OUT', target: 'pipe 1' });
    expect((err as Error).message).toContain('injected at the seam (fault F1)');
    await expect(out(1)).rejects.toBeInstanceOf(Win32Error);
    expect(await out(1)).toBe(1); // used up
    expect(port.armed).toBe(0);
    expect(fired).toEqual([
      { kind: 'failIoctl', faultId: 'F1', ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_OUT', win32: 31, win32Name: 'ERROR_GEN_FAILURE', target: 'pipe 1' },
      { kind: 'failIoctl', faultId: 'F1', ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_OUT', win32: 31, win32Name: 'ERROR_GEN_FAILURE', target: 'pipe 1' },
    ]);
    // The injected calls never reached the driver.
    expect(fake.files[0]!.callsOf(IOCTL_GENERICUSBFN_TRANSFER_OUT)).toHaveLength(3);
  });

  it('accepts the full header name and refuses unknown IOCTLs and actions with the list of names', async () => {
    const { fake, port } = await setup();
    const file = await port.open(LINK);
    port.failIoctl({ faultId: 'F2', ioctl: 'IOCTL_GENERICUSBFN_GET_CLASS_INFO', win32: WIN32_ERROR.ERROR_DEVICE_REMOVED });
    await expect(file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, null, new Uint8Array(748))).rejects.toMatchObject({ win32Name: 'ERROR_DEVICE_REMOVED' });
    expect(fake.files[0]!.calls).toHaveLength(0);
    expect(() => port.failIoctl({ faultId: 'F3', ioctl: 'TRANSFER_SIDEWAYS', win32: 31 })).toThrow(UsageError);
    expect(() => port.failIoctl({ faultId: 'F3', ioctl: 'TRANSFER_SIDEWAYS', win32: 31 })).toThrow(/TRANSFER_OUT/);
    expect(() => port.dropNotification({ faultId: 'F4', action: 'UNPLUG' })).toThrow(/DEVICEQUERYREMOVE/);
  });

  it('drops the next count notifications of an action before the listener, answering ERROR_SUCCESS', async () => {
    const { fake, port, fired } = await setup();
    const seen: number[] = [];
    const file = await port.open(LINK);
    await port.watchHandle(file, (action) => {
      seen.push(action);
      return WIN32_ERROR.ERROR_CANCELLED; // a veto, to tell the listener's answer from the decorator's
    });
    port.dropNotification({ faultId: 'F5', action: 'DEVICEQUERYREMOVE', count: 2 });
    const qr = CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEQUERYREMOVE;
    expect(fake.notify('deviceHandle', qr, new Uint8Array(36))).toEqual([WIN32_ERROR.ERROR_SUCCESS]);
    expect(fake.notify('deviceHandle', CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEREMOVECOMPLETE, new Uint8Array(36))).toEqual([WIN32_ERROR.ERROR_CANCELLED]);
    expect(fake.notify('deviceHandle', qr, new Uint8Array(36))).toEqual([WIN32_ERROR.ERROR_SUCCESS]);
    expect(fake.notify('deviceHandle', qr, new Uint8Array(36))).toEqual([WIN32_ERROR.ERROR_CANCELLED]);
    expect(seen).toEqual([CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEREMOVECOMPLETE, qr]);
    expect(fired).toEqual([
      { kind: 'dropNotification', faultId: 'F5', action: 'CM_NOTIFY_ACTION_DEVICEQUERYREMOVE' },
      { kind: 'dropNotification', faultId: 'F5', action: 'CM_NOTIFY_ACTION_DEVICEQUERYREMOVE' },
    ]);
  });

  it('registers handle notifications on the inner handle, and closes the newest open handle behind the caller', async () => {
    const { fake, port } = await setup();
    expect(await port.closeHandle()).toBeUndefined();
    const first = await port.open(LINK);
    await first.close();
    const second = await port.open(LINK);
    const reg = await port.watchHandle(second, () => 0);
    expect(fake.registrations).toBe(1);
    expect(await port.closeHandle()).toBe(LINK);
    expect(second.isOpen).toBe(false);
    expect(fake.files[1]!.isOpen).toBe(false);
    await expect(second.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeInput(1), new Uint8Array(1))).rejects.toMatchObject({ win32Name: 'ERROR_INVALID_HANDLE' });
    await reg.unregister();
    expect(fake.registrations).toBe(0);
  });
});
