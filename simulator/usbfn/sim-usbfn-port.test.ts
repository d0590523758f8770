/**
 * SimUsbFnPort: CreateFileW / overlapped DeviceIoControl / CancelIoEx / CloseHandle semantics over the
 * GenericUSBFn model, and the cfgmgr32 delegation to the CM model.
 */
import { describe, expect, it } from 'vitest';
import {
  IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS,
  IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
  IOCTL_GENERICUSBFN_GET_CLASS_INFO,
  IOCTL_GENERICUSBFN_TRANSFER_IN,
  IOCTL_GENERICUSBFN_TRANSFER_OUT,
  CM_NOTIFY_ACTION,
} from '../../device-side/index.js';
import { SimulatorError, Win32Error, isCancelled, isGone } from '../../core/index.js';
import { GENERIC_READ } from './usbfn-file-object.js';
import { flush, openActivated, openConfigured, openFile, pipeIdBuffer, track, makeSimDriverRig } from './testing/index.js';

const BULK_OUT = 1;
const BULK_IN = 2;

describe('open (CreateFileW)', () => {
  it('a missing interface fails with ERROR_FILE_NOT_FOUND (2), which isGone() recognises', async () => {
    const rig = makeSimDriverRig({ present: false });
    const err = await rig.port.open('\\\\?\\USBFN#NOPE#1#{3f0b8c4e-2a51-4d7c-9e63-1b8a0f5d2c47}').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Win32Error);
    expect(err).toMatchObject({ api: 'CreateFileW', win32: 2, win32Name: 'ERROR_FILE_NOT_FOUND' });
    expect(isGone(err)).toBe(true);
  });

  it('ASSUMPTION(drv-exclusive-open): the device is exclusive: a second open fails with ERROR_ACCESS_DENIED (5) until the first closes', async () => {
    const rig = makeSimDriverRig();
    const first = await openFile(rig);
    await expect(openFile(rig)).rejects.toMatchObject({ api: 'CreateFileW', win32: 5, win32Name: 'ERROR_ACCESS_DENIED' });
    await first.close();
    const second = await openFile(rig);
    expect(second.isOpen).toBe(true);
    expect(rig.cm.openHandle(rig.symbolicLink)).toBeDefined(); // CM still sees the device present
  });

  it('exclusive: false allows several handles, each with its own event queue', async () => {
    const rig = makeSimDriverRig({ model: { exclusive: false } });
    const a = await openActivated(rig);
    const b = await openFile(rig);
    rig.link.attach();
    await flush();
    const outs = [new Uint8Array(12), new Uint8Array(12)];
    await Promise.all([
      a.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, outs[0]!),
      b.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, outs[1]!),
    ]);
    expect(outs.map((o) => o[0])).toEqual([1, 1]); // UsbfnEventAttach on both
  });

  it('a read-only handle gets ERROR_ACCESS_DENIED (5) on IOCTLs needing FILE_WRITE_DATA (I/O manager rule, ASSUMPTION(drv-access-bits))', async () => {
    const rig = makeSimDriverRig();
    const file = await rig.port.open(rig.symbolicLink, { desiredAccess: GENERIC_READ });
    await expect(file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, null, new Uint8Array(748))).rejects.toMatchObject({
      win32: 5,
      win32Name: 'ERROR_ACCESS_DENIED',
    });
  });

  it('an interface whose device has no driver model is a simulator wiring error (SIM_NO_DRIVER)', async () => {
    const rig = makeSimDriverRig();
    const [link] = rig.cm.addDevice('USBFN\\OTHER\\1', [{ classGuid: rig.interfaceGuid }]);
    const err = await rig.port.open(link!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimulatorError);
    expect(err).toMatchObject({ code: 'SIM_NO_DRIVER' });
  });
});

describe('overlapped completion', () => {
  it('an immediate IOCTL still settles asynchronously, after ioctl() returned', async () => {
    const rig = makeSimDriverRig();
    const file = await openFile(rig);
    const order: string[] = [];
    const p = file.ioctl(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, null, null).then(() => order.push('completed'));
    order.push('returned');
    await p;
    expect(order).toEqual(['returned', 'completed']);
  });

  it('CancelIoEx (signal abort) ends a pending request with ERROR_OPERATION_ABORTED (995) (Overlapped I/O pages)', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    const ac = new AbortController();
    const p = file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeIdBuffer(BULK_OUT), new Uint8Array(64), { signal: ac.signal });
    await flush();
    ac.abort();
    const err = await p.catch((e: unknown) => e);
    expect(err).toMatchObject({ win32: 995, win32Name: 'ERROR_OPERATION_ABORTED', ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_OUT' });
    expect(isCancelled(err)).toBe(true);
    expect(rig.link.pending()).toHaveLength(0); // the UFX request was cancelled too
  });

  it('CancelIoEx on a BUS_EVENT_NOTIFICATION removes it from the waiters (the next event goes to the next request)', async () => {
    const rig = makeSimDriverRig();
    const file = await openActivated(rig);
    const ac = new AbortController();
    const first = file.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, new Uint8Array(12), { signal: ac.signal });
    const out = new Uint8Array(12);
    const second = file.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, out);
    ac.abort();
    await expect(first).rejects.toMatchObject({ win32: 995 });
    rig.link.attach();
    await expect(second).resolves.toBe(12);
    expect(out[0]).toBe(1);
  });

  it('an abort after completion changes nothing: the request completed normally (Overlapped I/O pages)', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    const ac = new AbortController();
    const p = file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipeIdBuffer(BULK_IN), new Uint8Array(5), { signal: ac.signal });
    await flush();
    rig.link.hostTake(0x81);
    ac.abort(); // the UFX request already finished: cancel() returns false
    await expect(p).resolves.toBe(5);
  });

  it('an already-aborted signal cancels a pending IOCTL but lets an immediate one complete', async () => {
    const rig = makeSimDriverRig();
    const file = await openActivated(rig); // no bus event queued: BUS_EVENT_NOTIFICATION pends
    const signal = AbortSignal.abort();
    await expect(file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, null, new Uint8Array(748), { signal })).resolves.toBe(748);
    await expect(file.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, new Uint8Array(12), { signal })).rejects.toMatchObject({
      win32: 995,
    });
  });

  it('options.target names the request in the error message', async () => {
    const file = await openFile(makeSimDriverRig());
    await expect(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipeIdBuffer(2), null, { target: 'bulk IN' })).rejects.toMatchObject({
      target: 'bulk IN',
      message: expect.stringContaining('[WIN32 ERROR_BAD_COMMAND(22)] DeviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_IN, bulk IN)'),
    });
  });
});

describe('close (CloseHandle)', () => {
  it('cancels every pending request of the handle with 995 (IRP_MJ_CLEANUP, WDF pages)', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    for (let i = 0; i < 3; i++) await file.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, new Uint8Array(12));
    const ev = file.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, new Uint8Array(12));
    const xfer = file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeIdBuffer(BULK_OUT), new Uint8Array(64));
    await flush();
    await file.close();
    await expect(ev).rejects.toMatchObject({ win32: 995 });
    await expect(xfer).rejects.toMatchObject({ win32: 995 });
    expect(rig.link.pending()).toHaveLength(0);
    expect(file.isOpen).toBe(false);
  });

  it('I/O on a closed handle fails with ERROR_INVALID_HANDLE (6); closing twice is a no-op', async () => {
    const rig = makeSimDriverRig();
    const file = await openFile(rig);
    await file.close();
    await file.close();
    await expect(file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, null, new Uint8Array(748))).rejects.toMatchObject({
      win32: 6,
      win32Name: 'ERROR_INVALID_HANDLE',
    });
    expect(rig.model.openHandles).toBe(0);
  });

  it('closes the CM handle synchronously, so a query-remove right after succeeds', async () => {
    const rig = makeSimDriverRig();
    const file = await openFile(rig);
    void file.close();
    await expect(rig.cm.queryAndRemove(rig.instanceId)).resolves.toBe('removed');
  });

  it('an open handle vetoes query-remove (CM model)', async () => {
    const rig = makeSimDriverRig();
    await openFile(rig);
    await expect(rig.cm.queryAndRemove(rig.instanceId)).resolves.toBe('vetoed');
  });
});

describe('device removal while open', () => {
  it('ASSUMPTION(drv-removed-while-open): surprise removal cancels pending I/O (995); new I/O fails with ERROR_DEVICE_REMOVED (1617)', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    const pending = track(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeIdBuffer(BULK_OUT), new Uint8Array(8)));
    await flush();
    await rig.cm.surpriseRemove(rig.instanceId);
    await flush();
    expect(pending.error).toMatchObject({ win32: 995 });
    const err = await file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, null, new Uint8Array(748)).catch((e: unknown) => e);
    expect(err).toMatchObject({ win32: 1617, win32Name: 'ERROR_DEVICE_REMOVED' });
    expect(isGone(err)).toBe(true);
    await file.close();
    await expect(rig.port.open(rig.symbolicLink)).rejects.toMatchObject({ win32: 2 });
  });

  it('after the device comes back, the interface opens again', async () => {
    const rig = makeSimDriverRig();
    const file = await openFile(rig);
    await rig.cm.surpriseRemove(rig.instanceId);
    await file.close();
    rig.addDevice();
    const again = await openFile(rig);
    await expect(again.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, null, new Uint8Array(748))).resolves.toBe(748);
  });

  it('ASSUMPTION(drv-second-activate): a removed device comes back with a fresh driver instance (ACTIVATE needed again)', async () => {
    const rig = makeSimDriverRig();
    const file = await openActivated(rig);
    expect(rig.model.activated).toBe(true);
    await rig.cm.surpriseRemove(rig.instanceId);
    await file.close();
    expect(rig.model.activated).toBe(false);
    rig.addDevice();
    const again = await openActivated(rig);
    expect(rig.link.activations).toBe(2);
    await again.close();
  });
});

describe('Configuration Manager delegation', () => {
  it('lists the present interface (size → list) and reports arrival to an interface registration', async () => {
    const rig = makeSimDriverRig({ present: false });
    const seen: number[] = [];
    const reg = await rig.port.watchInterfaces(rig.interfaceGuid, (action) => {
      seen.push(action);
      return 0;
    });
    const link = rig.addDevice();
    await rig.clock.idle();
    expect(seen).toEqual([CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL]);
    const query = { interfaceClassGuid: rig.interfaceGuid };
    const chars = await rig.port.getInterfaceListSize(query);
    expect(chars).toBe(link.length + 2);
    const raw = await rig.port.getInterfaceList(query, chars);
    expect(Buffer.from(raw).toString('utf16le').split('\0')[0]).toBe(link);
    await reg.unregister();
  });

  it('watchHandle registers a DEVICEHANDLE filter that sees custom events', async () => {
    const rig = makeSimDriverRig();
    const file = await openFile(rig);
    const actions: number[] = [];
    await rig.port.watchHandle(file, (a) => {
      actions.push(a);
      return 0;
    });
    await rig.cm.sendCustomEvent(rig.instanceId, '{11111111-2222-3333-4444-555555555555}', Uint8Array.of(1));
    await rig.clock.idle();
    expect(actions).toEqual([CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICECUSTOMEVENT]);
  });

  it('watchHandle with a file from another port is a SimulatorError', async () => {
    const rig = makeSimDriverRig();
    const foreign = { symbolicLink: 'x', isOpen: true, ioctl: () => Promise.resolve(0), close: () => Promise.resolve() };
    await expect(rig.port.watchHandle(foreign, () => 0)).rejects.toMatchObject({ code: 'SIM_FOREIGN_HANDLE' });
  });

  it('CM errors reject (they do not throw synchronously)', async () => {
    const rig = makeSimDriverRig();
    const p = rig.port.watchInterfaces('not-a-guid', () => 0);
    await expect(p).rejects.toMatchObject({ name: 'ConfigRetError', crName: 'CR_INVALID_DATA' });
  });
});
