/**
 * The UsbFnService façade over FakeUsbFnPort on a manual clock: the watcher and the bus session wired
 * together (the public getters, the waits, the event log in order), a bus-event loop failure that ends in a
 * rescan, the function's part in removal, and a stop that cancels everything.
 */
import { describe, expect, it } from 'vitest';
import { TimeoutError } from '../../core/index.js';
import { IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, IOCTL_GENERICUSBFN_TRANSFER_OUT, USBFN_BUS_SPEED, WIN32_ERROR } from '../abi/index.js';
import {
  deliverBusEvent,
  FakeUsbFnFile,
  FakeUsbFnPort,
  ManualClock,
  notifyHandle,
  scriptActivation,
  settle,
  TEST_INTERFACE_GUID,
  testSymbolicLink,
} from '../testing/index.js';
import type { FunctionContext, UsbFunction } from './function-api.js';
import { UsbFnService, type UsbFnServiceOptions } from './usbfn-service.js';

const LINK = testSymbolicLink(1);
const HIGH = USBFN_BUS_SPEED.UsbfnBusSpeedHigh;
const FULL = USBFN_BUS_SPEED.UsbfnBusSpeedFull;

function recordingFunction(): UsbFunction & { events: string[]; ctx: FunctionContext | undefined; verdict: 'allow' | 'veto' } {
  const fn = {
    name: 'recorder',
    pipes: { in: { direction: 'in' as const }, out: { direction: 'out' as const } },
    events: [] as string[],
    ctx: undefined as FunctionContext | undefined,
    verdict: 'allow' as 'allow' | 'veto',
    onConfigured(ctx: FunctionContext, value: number) {
      fn.ctx = ctx;
      fn.events.push(`configured:${value}:${ctx.speed}`);
    },
    onDeconfigured: (reason: string) => fn.events.push(`deconfigured:${reason}`),
    onQueryRemove: () => {
      fn.events.push(`queryRemove:${fn.verdict}`);
      return fn.verdict;
    },
    onCustomEvent: (guid: string, data: Uint8Array) => fn.events.push(`custom:${guid}:${data.length}`),
  };
  return fn;
}

/** Whether `wait` has resolved once pending jobs ran (without moving the clock). */
async function resolvedNow(wait: Promise<void>): Promise<boolean> {
  let done = false;
  wait.then(() => (done = true), () => undefined);
  await settle();
  return done;
}

/** A port with LINK present whose next `opens` handles activate like GenericUSBFn handles. */
function setup(options: Partial<UsbFnServiceOptions> = {}, opens = 3) {
  const clock = new ManualClock();
  const port = new FakeUsbFnPort({ clock });
  port.interfaces = [LINK];
  for (let i = 0; i < opens; i++) port.nextFiles.push(scriptActivation(new FakeUsbFnFile(LINK)));
  const fn = recordingFunction();
  const service = new UsbFnService({ port, interfaceClassGuid: TEST_INTERFACE_GUID, fn, ...options });
  const file = (i = 0): FakeUsbFnFile => port.files[i] as FakeUsbFnFile;
  const configure = async (i = 0, speed: number = HIGH): Promise<void> => {
    deliverBusEvent(file(i), { type: 'reset', busSpeed: speed });
    deliverBusEvent(file(i), { type: 'configured', configurationValue: 1 });
    await settle();
  };
  return { clock, port, fn, service, file, configure };
}

describe('UsbFnService', () => {
  it('runs the watcher and a bus session in Microsoft order, and shows them through its getters and event log', async () => {
    const { port, service, file } = setup();
    expect(service.state).toBe('idle');
    await service.start();
    expect(await resolvedNow(service.whenActive({ timeoutMs: 1_000 }))).toBe(true);
    expect(service.log.entries.map((e) => e.kind)).toEqual(['start', 'registered', 'listed', 'open', 'registered', 'classInfo', 'activate']);
    expect(service.log.entries[0]?.detail).toEqual({ interfaceClassGuid: TEST_INTERFACE_GUID, function: 'recorder' });
    expect(port.calls).toEqual([
      'CM_Register_Notification(DEVICEINTERFACE)',
      'CM_Get_Device_Interface_List_SizeW',
      'CM_Get_Device_Interface_ListW',
      'CreateFileW',
      'CM_Register_Notification(DEVICEHANDLE)',
      'IOCTL_GENERICUSBFN_GET_CLASS_INFO',
      'IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS',
      ...Array<string>(4).fill('IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION'),
    ]);
    expect(service.state).toBe('active');
    expect(service.openCount).toBe(1);
    expect(service.symbolicLink).toBe(LINK);
    expect(service.client?.file).toBe(file());
    expect(service.classInfo?.interfaceName).toBe('Test');
    expect(service.busState).toBe('unknown');
  });

  it('resolves whenConfigured once the host configured the device, and hands the function its context', async () => {
    const { service, fn, configure } = setup();
    await service.start();
    const configured = service.whenConfigured({ timeoutMs: 1_000 });
    expect(await resolvedNow(configured)).toBe(false);
    await configure();
    expect(await resolvedNow(configured)).toBe(true);
    expect(service.busState).toBe('configured');
    expect(fn.events).toEqual(['configured:1:high']);
  });

  it('rejects a wait that times out with a TimeoutError naming the state and the bus', async () => {
    const { clock, service } = setup();
    await service.start();
    const waiting = service.whenConfigured({ timeoutMs: 100 });
    const outcome = expect(waiting).rejects.toSatisfy(
      (e) => e instanceof TimeoutError && e.message.includes("service state 'active', bus 'unknown'"),
    );
    await clock.advance(100);
    await outcome;
  });

  it('refuses a second start with a ServiceStateError', async () => {
    const { service } = setup();
    await service.start();
    await expect(service.start()).rejects.toMatchObject({ name: 'ServiceStateError', data: { action: 'start', actual: 'active' } });
    expect(service.log.ofKind('start')).toHaveLength(1);
  });

  it('closes the handle when its bus-event loop fails and reopens the interface on the next rescan', async () => {
    const { clock, service, file } = setup({ rescanIntervalMs: 1_000 });
    await service.start();
    file(0).pending(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION)[0]!.fail(WIN32_ERROR.ERROR_GEN_FAILURE);
    await settle();
    expect(service.log.ofKind('busEventLoopFailed')).toHaveLength(1);
    expect(service.log.ofKind('teardown').map((e) => e.detail)).toEqual([{ reason: 'busEventLoopFailed' }]);
    expect(file(0).isOpen).toBe(false);
    expect(service.state).toBe('waitingForInterface');
    expect(service.client).toBeUndefined();
    expect(service.classInfo?.interfaceName).toBe('Test'); // as read at the last open
    await clock.advance(1_000);
    expect(await resolvedNow(service.whenActive({ timeoutMs: 1_000 }))).toBe(true);
    expect(service.openCount).toBe(2);
    expect(service.client?.file).toBe(file(1));
  });

  it('asks the function about QUERYREMOVE and ends its configuration when the handle closes for removal', async () => {
    const { clock, port, service, fn, configure } = setup();
    await service.start();
    await configure();
    const ctx = fn.ctx!;
    notifyHandle(port, LINK, 'QUERYREMOVE');
    expect(fn.events).toEqual(['configured:1:high', 'queryRemove:allow', 'deconfigured:closed']);
    expect(ctx.signal.aborted).toBe(true);
    expect(service.busState).toBe('unknown');
    notifyHandle(port, LINK, 'REMOVECOMPLETE');
    await clock.advance(0);
    expect(await resolvedNow(service.whenWaiting({ timeoutMs: 1_000 }))).toBe(true);
    expect(port.registrations).toBe(1);
  });

  it('keeps the handle and the configuration when the function vetoes QUERYREMOVE; delivers CUSTOMEVENT to it', async () => {
    const { port, service, fn, configure, file } = setup();
    fn.verdict = 'veto';
    await service.start();
    await configure();
    expect(notifyHandle(port, LINK, 'QUERYREMOVE')).toEqual([WIN32_ERROR.ERROR_CANCELLED]);
    expect(file().isOpen).toBe(true);
    expect(service.busState).toBe('configured');
    const guid = '{11111111-2222-3333-4444-555555555555}';
    notifyHandle(port, LINK, 'CUSTOMEVENT', { eventGuid: guid, data: Uint8Array.of(7, 7), nameOffset: -1 });
    expect(fn.events.slice(-2)).toEqual(['queryRemove:veto', `custom:${guid}:2`]);
  });

  it('keeps the bus speed across a reopen after QUERYREMOVEFAILED (no new Reset reaches the new handle)', async () => {
    const { clock, port, service, fn, configure, file } = setup();
    await service.start();
    await configure(0, FULL);
    notifyHandle(port, LINK, 'QUERYREMOVE');
    notifyHandle(port, LINK, 'QUERYREMOVEFAILED');
    await clock.advance(0);
    expect(await resolvedNow(service.whenActive({ timeoutMs: 1_000 }))).toBe(true);
    expect(service.openCount).toBe(2);
    deliverBusEvent(file(1), { type: 'configured', configurationValue: 1 });
    await settle();
    expect(fn.events).toEqual(['configured:1:full', 'queryRemove:allow', 'deconfigured:closed', 'configured:1:full']);
  });

  it('stop cancels everything: the configuration, pending transfers and bus events, the handle, every registration, every timer', async () => {
    const { clock, port, service, fn, configure, file } = setup({ rescanIntervalMs: 1_000 });
    await service.start();
    await configure();
    file().onIoctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, () => ({ pending: true }));
    const transfer = fn.ctx!.transferOut('out', new Uint8Array(64));
    transfer.catch(() => undefined);
    await service.stop();
    await expect(transfer).rejects.toMatchObject({ win32Name: 'ERROR_OPERATION_ABORTED' });
    expect(fn.events).toEqual(['configured:1:high', 'deconfigured:stopped']);
    expect(file().pending()).toEqual([]);
    expect(file().isOpen).toBe(false);
    expect(port.registrations).toBe(0);
    expect(service.state).toBe('stopped');
    expect(service.busState).toBe('unknown');
    expect(clock.pendingTimers).toBe(0);
    expect(service.log.entries.filter((e) => e.level === 'error')).toEqual([]);
    await clock.advance(60_000);
    expect(port.calls.filter((c) => c === 'CreateFileW')).toHaveLength(1);
    await expect(service.stop()).resolves.toBeUndefined();
  });

  it('stops from idle without touching the port', async () => {
    const { port, service } = setup();
    await service.stop();
    expect(service.state).toBe('stopped');
    expect(port.calls).toEqual([]);
  });
});
