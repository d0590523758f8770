import { describe, expect, it, vi } from 'vitest';
import { ConfigRetError, UsageError, Win32Error } from '../../core/index.js';
import {
  CM_NOTIFY_ACTION,
  CONFIGRET,
  IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
  WIN32_ERROR,
  decodeMultiSz,
  encodeCmNotifyFilter,
  encodeUsbfnNotification,
  normalizeGuid,
} from '../abi/index.js';
import { listInterfaces } from '../list-interfaces.js';
import type { UsbFnFile } from '../usbfn-port.js';
import { FakeWin32Api } from './testing/index.js';
import { FILE_FLAG_OVERLAPPED, GENERIC_READ, GENERIC_WRITE, OPEN_EXISTING } from './kernel32-constants.js';
import { Win32UsbFnPort, type Win32PortDiagnostic } from './win32-usbfn-port.js';
import { MemoryTraceSink, parseDeviceTrace, recordingPort } from '../trace/index.js';

const GUID = '{7A1F0C6E-3C56-4E0B-9D5A-2B8C4F1E6A01}';
const LINK = '\\\\?\\USBFN#LOOPBACK#1&2&3#{7a1f0c6e-3c56-4e0b-9d5a-2b8c4f1e6a01}';

async function setup(options: { onListenerError?: (err: unknown, id: string) => void; onDiagnostic?: (d: Win32PortDiagnostic) => void } = {}) {
  const api = new FakeWin32Api();
  api.present.add(LINK);
  const port = await Win32UsbFnPort.create({ api, completionPort: { waitSliceMs: 200, drainTimeoutMs: 200 }, ...options });
  return { api, port };
}

describe('Win32UsbFnPort', () => {
  it('refuses to start on a non-Windows machine with a clear WIN32_UNAVAILABLE error', async () => {
    if (process.platform === 'win32') return; // the CI host is Linux; on Windows the real bindings load
    const err = await Win32UsbFnPort.create().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(err).toMatchObject({ code: 'WIN32_UNAVAILABLE' });
    expect((err as Error).message).toMatch(/Windows USB function device/);
    expect((err as Error).message).toMatch(/mode 'sim'/);
  });

  describe('open / ioctl / close', () => {
    it('opens with GENERIC_READ|GENERIC_WRITE, share 0, OPEN_EXISTING, FILE_FLAG_OVERLAPPED and runs an overlapped ioctl', async () => {
      const { api, port } = await setup();
      const file = await port.open(LINK);
      expect(api.createFileCalls).toEqual([
        { name: LINK, access: GENERIC_READ | GENERIC_WRITE, share: 0, disposition: OPEN_EXISTING, flags: FILE_FLAG_OVERLAPPED },
      ]);
      expect(file.isOpen).toBe(true);
      const out = new Uint8Array(12);
      const p = file.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, out);
      api.complete(api.ioctls[0]!, { write: new Uint8Array([7, 0, 0, 0, 1, 0]), bytes: 12 });
      await expect(p).resolves.toBe(12);
      expect(out[0]).toBe(7);
      await file.close();
      expect(file.isOpen).toBe(false);
      expect(port.openFiles).toHaveLength(0);
    });

    it('maps a missing device path to Win32Error CreateFileW ERROR_FILE_NOT_FOUND naming the link', async () => {
      const { port } = await setup();
      const err = await port.open('\\\\?\\USBFN#GONE').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Win32Error);
      expect(err).toMatchObject({ api: 'CreateFileW', win32: 2, win32Name: 'ERROR_FILE_NOT_FOUND', target: '\\\\?\\USBFN#GONE' });
    });

    it('names the symbolic link (or the caller target) in ioctl errors', async () => {
      const { api, port } = await setup();
      const file = await port.open(LINK);
      api.behaviour = () => ({ kind: 'fail', win32: WIN32_ERROR.ERROR_BAD_COMMAND });
      await expect(file.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, new Uint8Array(12))).rejects.toMatchObject({
        ioctl: 'IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION',
        target: LINK,
        win32Name: 'ERROR_BAD_COMMAND',
      });
      await expect(file.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, null, { target: 'pipe 0' })).rejects.toMatchObject({
        target: 'pipe 0',
      });
    });
  });

  describe('interface lists', () => {
    it('returns the size in WCHARs and the raw REG_MULTI_SZ; an unknown GUID gives an empty list', async () => {
      const { api, port } = await setup();
      api.interfaces.set(normalizeGuid(GUID), [LINK]);
      const chars = await port.getInterfaceListSize({ interfaceClassGuid: GUID });
      expect(chars).toBe(LINK.length + 2);
      expect(decodeMultiSz(await port.getInterfaceList({ interfaceClassGuid: GUID }, chars))).toEqual([LINK]);
      const other = { interfaceClassGuid: '{00000000-0000-0000-0000-0000000000AA}' };
      expect(await port.getInterfaceListSize(other)).toBe(1);
      expect(decodeMultiSz(await port.getInterfaceList(other, 1))).toEqual([]);
    });

    it('surfaces CR_BUFFER_SMALL as ConfigRetError so listInterfaces retries with a new size', async () => {
      const { api, port } = await setup();
      const key = normalizeGuid(GUID);
      api.interfaces.set(key, [LINK, `${LINK}-2`]); // grew after a size query that saw one link
      const err = await port.getInterfaceList({ interfaceClassGuid: GUID }, LINK.length + 2).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigRetError);
      expect(err).toMatchObject({ api: 'CM_Get_Device_Interface_ListW', crName: 'CR_BUFFER_SMALL', cr: 0x1a });
      // The shared loop: size (1 link) → the list grows → CR_BUFFER_SMALL → size again → list.
      api.interfaces.set(key, [LINK]);
      let grown = false;
      api.afterSizeQuery = () => {
        if (!grown) api.interfaces.set(key, [LINK, `${LINK}-2`]);
        grown = true;
      };
      expect(await listInterfaces(port, { interfaceClassGuid: GUID })).toEqual([LINK, `${LINK}-2`]);
    });

    it('rejects a nonsensical buffer size before calling CM', async () => {
      const { port } = await setup();
      await expect(port.getInterfaceList({ interfaceClassGuid: GUID }, 0)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });
  });

  describe('notifications', () => {
    it('registers the encoded DEVICEINTERFACE filter and delivers a copy of the event data; the listener result is returned', async () => {
      const { api, port } = await setup();
      const seen: [number, Uint8Array][] = [];
      const reg = await port.watchInterfaces(GUID, (action, data) => {
        seen.push([action, data]);
        return 0;
      });
      const [h, live] = [...api.registrations.entries()][0]!;
      expect([...live.filter]).toEqual([...encodeCmNotifyFilter({ type: 'deviceInterface', classGuid: GUID })]);
      expect(reg.id).toContain(GUID);
      const data = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3]);
      expect(api.fire(h, CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL, data)).toBe(0);
      expect(seen).toHaveLength(1);
      expect(seen[0]![0]).toBe(0);
      expect([...seen[0]![1]]).toEqual([...data]); // a copy: CM's buffer was scribbled over after return
    });

    it('registers DEVICEHANDLE with the file handle, and passes a veto (ERROR_CANCELLED) back to CM', async () => {
      const { api, port } = await setup();
      const file = (await port.open(LINK)) as UsbFnFile & { handle: bigint };
      await port.watchHandle(file, (action) => (action === CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEQUERYREMOVE ? WIN32_ERROR.ERROR_CANCELLED : 0));
      const [h, live] = [...api.registrations.entries()][0]!;
      expect([...live.filter]).toEqual([...encodeCmNotifyFilter({ type: 'deviceHandle', hTarget: file.handle })]);
      expect(api.fire(h, CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEQUERYREMOVE, new Uint8Array(36))).toBe(1223);
      expect(api.fire(h, CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEREMOVECOMPLETE, new Uint8Array(36))).toBe(0);
    });

    it('rejects watchHandle for a file it did not open', async () => {
      const { port } = await setup();
      const foreign: UsbFnFile = { symbolicLink: 'x', isOpen: true, ioctl: () => Promise.resolve(0), close: () => Promise.resolve() };
      await expect(port.watchHandle(foreign, () => 0)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });

    it('registers DEVICEINSTANCE filters', async () => {
      const { api, port } = await setup();
      await port.watchInstance('USB\\VID_1209&PID_0001\\1', () => 0);
      const live = [...api.registrations.values()][0]!;
      expect([...live.filter]).toEqual([...encodeCmNotifyFilter({ type: 'deviceInstance', instanceId: 'USB\\VID_1209&PID_0001\\1' })]);
    });

    it('refuses unregister from inside its own callback; a deferred unregister works and releases the callback after CM returned', async () => {
      const { api, port } = await setup();
      let inside: unknown;
      let deferred: Promise<void> | undefined;
      const reg = await port.watchInterfaces(GUID, () => {
        const p = reg.unregister();
        p.catch((e: unknown) => (inside = e));
        deferred = new Promise<void>((resolve, reject) => setImmediate(() => reg.unregister().then(resolve, reject)));
        return 0;
      });
      const h = [...api.registrations.keys()][0]!;
      api.fire(h, 0, new Uint8Array(36));
      await Promise.resolve();
      expect(inside).toBeInstanceOf(UsageError);
      expect(inside).toMatchObject({ code: 'UNREGISTER_IN_CALLBACK' });
      expect(api.unregisterCalls).toEqual([]);
      expect(api.callbacks.size).toBe(1);
      await deferred;
      expect(api.unregisterCalls).toEqual([h]);
      expect(api.callbacks.size).toBe(0); // koffi.unregister only after CM_Unregister_Notification returned
      await expect(reg.unregister()).rejects.toMatchObject({ crName: 'CR_INVALID_POINTER' });
    });

    it('keeps the callback slot when CM_Unregister_Notification fails, and reports the CONFIGRET', async () => {
      const { api, port } = await setup();
      const reg = await port.watchInterfaces(GUID, () => 0);
      api.unregisterResult = CONFIGRET.CR_FAILURE;
      await expect(reg.unregister()).rejects.toMatchObject({ api: 'CM_Unregister_Notification', crName: 'CR_FAILURE' });
      expect(api.callbacks.size).toBe(1);
      api.unregisterResult = CONFIGRET.CR_SUCCESS;
      await reg.unregister();
      expect(api.callbacks.size).toBe(0);
    });

    it('maps a failed registration to ConfigRetError and releases the callback slot', async () => {
      const { api, port } = await setup();
      api.registerResult = CONFIGRET.CR_INVALID_DATA;
      const err = await port.watchInterfaces(GUID, () => 0).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigRetError);
      expect(err).toMatchObject({ api: 'CM_Register_Notification', cr: 0x1f, crName: 'CR_INVALID_DATA' });
      expect(api.callbacks.size).toBe(0);
    });

    it('explains a CfgMgr32.dll without CM_Register_Notification (pre-Windows 8, Wine 8.0) as CR_CALL_NOT_IMPLEMENTED', async () => {
      const { api, port } = await setup();
      api.missingExports.push('CM_Register_Notification');
      api.registerResult = CONFIGRET.CR_CALL_NOT_IMPLEMENTED; // what the binding returns for a missing export
      const err = await port.watchInterfaces(GUID, () => 0).catch((e: unknown) => e);
      expect(err).toMatchObject({ crName: 'CR_CALL_NOT_IMPLEMENTED', cr: 0x34 });
      expect((err as Error).message).toMatch(/no CM_Register_Notification export/);
    });

    it('returns ERROR_SUCCESS when a listener throws, and reports the error', async () => {
      const onListenerError = vi.fn();
      const { api, port } = await setup({ onListenerError });
      await port.watchInterfaces(GUID, () => {
        throw new Error('listener bug');
      });
      const h = [...api.registrations.keys()][0]!;
      expect(api.fire(h, CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEQUERYREMOVE, new Uint8Array(36))).toBe(0);
      expect(onListenerError).toHaveBeenCalledTimes(1);
      expect(onListenerError.mock.calls[0]![0]).toMatchObject({ message: 'listener bug' });
    });
  });

  describe('audit regressions (docs/win32-backend.md#configuration-manager-notifications-and-the-deadlock-rule)', () => {
    it('calls CM_Register_Notification off the main thread: a callback of another registration runs while a registration is in flight', async () => {
      const { api, port } = await setup();
      const seen: number[] = [];
      await port.watchInterfaces(GUID, (action) => {
        seen.push(action);
        return 0;
      });
      const first = [...api.registrations.keys()][0]!;
      api.holdRegistrations = true;
      const second = port.watchInstance('USB\\VID_1209&PID_0001\\1', () => 0);
      expect(api.registerCallsInFlight).toBe(1);
      // CM delivers to the first registration while the second CM_Register_Notification has not returned.
      await new Promise((r) => setImmediate(r));
      expect(api.fire(first, CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL, new Uint8Array(36))).toBe(0);
      expect(seen).toEqual([CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL]);
      api.releaseRegistrations();
      await expect(second).resolves.toMatchObject({ id: expect.stringContaining('instance') });
      expect(api.registrations.size).toBe(2);
    });

    it('unregisters a registration that completed after the port was closed, and reports PORT_CLOSED', async () => {
      const { api, port } = await setup();
      api.holdRegistrations = true;
      const late = port.watchInterfaces(GUID, () => 0);
      await new Promise((r) => setImmediate(r));
      const closing = port.close();
      api.releaseRegistrations();
      await expect(late).rejects.toMatchObject({ code: 'PORT_CLOSED' });
      await closing;
      expect(api.registrations.size).toBe(0);
      expect(api.callbacks.size).toBe(0);
    });

    it('treats a listener that returns a Promise as "allow" (ERROR_SUCCESS), reports it once per registration and routes its rejection', async () => {
      const diagnostics: unknown[] = [];
      const onListenerError = vi.fn();
      const { api, port } = await setup({ onListenerError, onDiagnostic: (d) => diagnostics.push(d) });
      // A listener that "vetoes" asynchronously: the veto cannot reach CM.
      const listener = ((): Promise<number> => Promise.resolve(WIN32_ERROR.ERROR_CANCELLED)) as unknown as () => number;
      const reg = await port.watchInterfaces(GUID, listener);
      const h = [...api.registrations.keys()][0]!;
      expect(api.fire(h, CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEQUERYREMOVE, new Uint8Array(36))).toBe(WIN32_ERROR.ERROR_SUCCESS);
      expect(api.fire(h, CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEQUERYREMOVE, new Uint8Array(36))).toBe(WIN32_ERROR.ERROR_SUCCESS);
      expect(diagnostics).toEqual([{ kind: 'asyncListener', registrationId: reg.id, action: CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEQUERYREMOVE }]);
      const failing = (() => Promise.reject(new Error('async listener bug'))) as unknown as () => number;
      await port.watchInstance('USB\\X\\1', failing);
      const h2 = [...api.registrations.keys()][1]!;
      expect(api.fire(h2, 0, new Uint8Array(36))).toBe(0);
      await new Promise((r) => setImmediate(r));
      expect(onListenerError).toHaveBeenCalledTimes(1);
      expect(onListenerError.mock.calls[0]![0]).toMatchObject({ message: 'async listener bug' });
    });
  });

  it('close(): cancels and closes files, unregisters notifications, closes the port; later calls fail with PORT_CLOSED', async () => {
    const { api, port } = await setup();
    const file = await port.open(LINK);
    const pending = file.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, new Uint8Array(12)).catch((e: unknown) => e);
    await port.watchInterfaces(GUID, () => 0);
    await port.close();
    await expect(pending).resolves.toMatchObject({ win32Name: 'ERROR_OPERATION_ABORTED' });
    expect(file.isOpen).toBe(false);
    expect(api.registrations.size).toBe(0);
    expect(api.callbacks.size).toBe(0);
    expect(api.liveBlocks).toBe(0);
    await expect(port.open(LINK)).rejects.toMatchObject({ code: 'PORT_CLOSED' });
    await port.close(); // idempotent
  });
});

describe('recordingPort over Win32UsbFnPort (the scripted Win32 API)', () => {
  it('records the real backend: handle registrations reach it with its own file, and every IOCTL is written', async () => {
    const api = new FakeWin32Api();
    const link = LINK;
    api.present.add(link);
    const win32 = await Win32UsbFnPort.create({ api, completionPort: { waitSliceMs: 50, drainTimeoutMs: 100 } });
    const sink = new MemoryTraceSink();
    const port = recordingPort(win32, sink, { backend: 'win32' });
    const file = await port.open(link);
    await port.watchHandle(file, () => 0); // Win32UsbFnPort accepts only its own files
    const p = file.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, new Uint8Array(12));
    api.complete(api.ioctls[0]!, { write: encodeUsbfnNotification({ type: 'attach' }), bytes: 12 });
    await expect(p).resolves.toBe(12);
    await win32.close();
    await port.finish();
    const trace = parseDeviceTrace(sink.text());
    expect(trace.header.backend).toBe('win32');
    expect(trace.lines.map((l) => l.kind)).toEqual(['open', 'cmRegister', 'ioctl', 'end']);
    expect(trace.lines[2]).toMatchObject({ name: 'IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION', bytesReturned: 12, output: '010000000000000000000000', win32: 0 });
  });
});
