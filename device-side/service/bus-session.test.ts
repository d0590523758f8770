/**
 * BusSession over a scripted handle (FakeUsbFnFile) on a manual clock: the activation order, the bus-event
 * dispatch and the configuration context, EP0 in bus order, loop failure and end().
 */
import { describe, expect, it } from 'vitest';
import { AbortedError, TimeoutError } from '../../core/index.js';
import {
  IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS,
  IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
  IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN,
  IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT,
  IOCTL_GENERICUSBFN_GET_CLASS_INFO,
  IOCTL_GENERICUSBFN_TRANSFER_IN,
  IOCTL_GENERICUSBFN_TRANSFER_OUT,
  USBFN_BUS_SPEED,
  WIN32_ERROR,
  encodeUsbfnNotification,
} from '../abi/index.js';
import { resolveDriverSettings } from '../driver-settings.js';
import { deliverBusEvent, FakeUsbFnFile, ManualClock, scriptActivation, settle, TEST_CLASS_INFO } from '../testing/index.js';
import { BusSession, type BusSessionOptions } from './bus-session.js';
import { DeviceEventLog } from './device-event-log.js';
import type { FunctionContext, UsbFunction } from './function-api.js';

/** A function that records what the session told it. */
function recordingFunction(overrides: Partial<UsbFunction> = {}): UsbFunction & { events: string[]; ctx: FunctionContext | undefined } {
  const fn = {
    name: 'recorder',
    pipes: { in: { direction: 'in' as const }, out: { direction: 'out' as const } },
    events: [] as string[],
    ctx: undefined as FunctionContext | undefined,
    onConfigured(ctx: FunctionContext, value: number) {
      fn.ctx = ctx;
      fn.events.push(`configured:${value}:${ctx.speed}`);
    },
    onDeconfigured(reason: string) {
      fn.events.push(`deconfigured:${reason}`);
    },
    onSuspend: () => fn.events.push('suspend'),
    onResume: () => fn.events.push('resume'),
    onSetInterface: (i: number, alt: number) => fn.events.push(`setInterface:${i}/${alt}`),
    ...overrides,
  };
  return fn;
}

function setup(options: Partial<BusSessionOptions> = {}) {
  const clock = new ManualClock();
  const file = scriptActivation(new FakeUsbFnFile());
  const log = new DeviceEventLog(() => clock.now());
  const fn = recordingFunction();
  const failures: unknown[] = [];
  let busEvents = 0;
  const session = new BusSession({
    file,
    fn,
    log,
    clock,
    onLoopFailed: (err) => failures.push(err),
    onBusEvent: () => busEvents++,
    ...options,
  });
  const deliver = async (...events: Parameters<typeof deliverBusEvent>[1][]): Promise<void> => {
    for (const e of events) {
      deliverBusEvent(file, e);
      await settle();
    }
  };
  return { clock, file, log, fn, session, failures, deliver, busEvents: () => busEvents };
}

const HIGH = USBFN_BUS_SPEED.UsbfnBusSpeedHigh;
const FULL = USBFN_BUS_SPEED.UsbfnBusSpeedFull;

describe('BusSession.activate (step 4)', () => {
  it('sends GET_CLASS_INFO, then ACTIVATE_USB_BUS, then keeps busEventDepth BUS_EVENT_NOTIFICATIONs outstanding', async () => {
    const { file, session, log } = setup({ busEventDepth: 3 });
    await session.activate();
    expect(file.calls.map((c) => c.name)).toEqual([
      'IOCTL_GENERICUSBFN_GET_CLASS_INFO',
      'IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS',
      'IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION',
      'IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION',
      'IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION',
    ]);
    expect(file.pending(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION)).toHaveLength(3);
    expect(log.entries.map((e) => e.kind)).toEqual(['classInfo', 'activate']);
    expect(log.ofKind('classInfo')[0]?.detail).toEqual({ interfaceName: 'Test', pipes: { full: 2, high: 2, super: 2 }, ep0PipeId: 0, ep0PipeIdFrom: 'default' });
    expect(session.classInfo?.highSpeed.pipes).toHaveLength(2);
    expect(session.busState).toBe('unknown');
  });

  it('does not activate the bus when GET_CLASS_INFO fails, and rejects with the driver error', async () => {
    const { file, session } = setup();
    file.respond(IOCTL_GENERICUSBFN_GET_CLASS_INFO, { fail: WIN32_ERROR.ERROR_GEN_FAILURE });
    await expect(session.activate()).rejects.toMatchObject({ name: 'Win32Error', win32Name: 'ERROR_GEN_FAILURE' });
    expect(file.callsOf(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS)).toHaveLength(0);
    expect(file.callsOf(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION)).toHaveLength(0);
  });

  it('gives up on an ACTIVATE_USB_BUS that outlives the step timeout and cancels it', async () => {
    const { clock, file, session } = setup({ stepTimeoutMs: 500 });
    file.respond(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, { pending: true });
    const activating = session.activate();
    activating.catch(() => undefined);
    await clock.advance(499);
    expect(file.pending(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS)).toHaveLength(1);
    await clock.advance(1);
    await expect(activating).rejects.toBeInstanceOf(TimeoutError);
    expect(file.callsOf(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS)[0]?.state).toBe('cancelled');
    expect(file.callsOf(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION)).toHaveLength(0);
  });

  it('stops activating when its signal aborts (the watcher stops) and cancels the request in flight', async () => {
    const { file, session } = setup();
    file.respond(IOCTL_GENERICUSBFN_GET_CLASS_INFO, { pending: true });
    const stop = new AbortController();
    const activating = session.activate(stop.signal);
    stop.abort();
    await expect(activating).rejects.toBeInstanceOf(AbortedError);
    expect(file.callsOf(IOCTL_GENERICUSBFN_GET_CLASS_INFO)[0]?.state).toBe('cancelled');
    expect(session.ended).toBe(true);
  });
});

describe('BusSession: bus events (step 5)', () => {
  it('takes the speed from Reset and hands the function a context for that speed on Configured', async () => {
    const { session, fn, deliver, busEvents } = setup();
    await session.activate();
    await deliver({ type: 'attach' });
    expect(session.busState).toBe('attached');
    await deliver({ type: 'reset', busSpeed: FULL });
    expect(session.busState).toBe('default');
    expect(session.configured).toBe(false);
    await deliver({ type: 'configured', configurationValue: 1 });
    expect(session.busState).toBe('configured');
    expect(session.configured).toBe(true);
    expect(session.speed).toBe('full');
    expect(fn.events).toEqual(['configured:1:full']);
    expect(fn.ctx?.pipe('in')).toMatchObject({ pipeId: 1, endpointAddress: 0x81, maxPacketSize: 64 });
    expect(busEvents()).toBe(3);
  });

  it('uses the speed handed over from an earlier session when Configured comes without a Reset', async () => {
    const { session, fn, deliver } = setup({ speed: 'full' });
    await session.activate();
    await deliver({ type: 'configured', configurationValue: 1 });
    expect(fn.events).toEqual(['configured:1:full']);
  });

  it.each([
    [{ type: 'detach', busSpeed: 0 } as const, 'detach', 'detached'],
    [{ type: 'unConfigured' } as const, 'unConfigured', 'default'],
    [{ type: 'reset', busSpeed: HIGH } as const, 'reset', 'default'],
  ])('ends the configuration on %o: the context aborts, its pending transfer is cancelled, and it waits for Configured', async (event, reason, busState) => {
    const { file, session, fn, deliver } = setup();
    file.onIoctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, () => ({ pending: true }));
    await session.activate();
    await deliver({ type: 'reset', busSpeed: HIGH }, { type: 'configured', configurationValue: 1 });
    const ctx = fn.ctx!;
    const transfer = ctx.transferOut('out', new Uint8Array(512));
    transfer.catch(() => undefined); // awaited below, after the event
    await deliver(event);
    await expect(transfer).rejects.toMatchObject({ win32Name: 'ERROR_OPERATION_ABORTED' });
    expect(file.callsOf(IOCTL_GENERICUSBFN_TRANSFER_OUT)[0]?.state).toBe('cancelled');
    expect(ctx.signal.aborted).toBe(true);
    expect(fn.events).toEqual(['configured:1:high', `deconfigured:${reason}`]);
    expect(session.busState).toBe(busState);
    expect(session.configured).toBe(false);
    await expect(ctx.transferIn('in', Uint8Array.of(1))).rejects.toMatchObject({ code: 'ABORTED' });
    await deliver({ type: 'configured', configurationValue: 1 });
    expect(session.configured).toBe(true);
    expect(fn.ctx).not.toBe(ctx);
  });

  it('reports Suspend and Resume to the function; the configuration survives', async () => {
    const { session, fn, deliver } = setup();
    await session.activate();
    await deliver({ type: 'reset', busSpeed: HIGH }, { type: 'configured', configurationValue: 1 }, { type: 'suspend' });
    expect(session.busState).toBe('suspended');
    await deliver({ type: 'resume' });
    expect(session.busState).toBe('configured');
    expect(fn.events).toEqual(['configured:1:high', 'suspend', 'resume']);
    expect(fn.ctx?.signal.aborted).toBe(false);
  });

  it('resumes to the default state when nothing was configured', async () => {
    const { session, deliver } = setup();
    await session.activate();
    await deliver({ type: 'reset', busSpeed: HIGH }, { type: 'suspend' }, { type: 'resume' });
    expect(session.busState).toBe('default');
  });

  it('starts a new context after SetInterface (the endpoints are re-queried) without a deconfigure callback', async () => {
    const { session, fn, deliver } = setup();
    await session.activate();
    await deliver({ type: 'reset', busSpeed: HIGH }, { type: 'configured', configurationValue: 2 });
    const first = fn.ctx!;
    await deliver({ type: 'setInterface', interfaceNumber: 0, alternateInterfaceNumber: 1 });
    expect(first.signal.aborted).toBe(true);
    expect(fn.ctx).not.toBe(first);
    expect(fn.ctx?.signal.aborted).toBe(false);
    expect(fn.events).toEqual(['configured:2:high', 'configured:2:high', 'setInterface:0/1']);
  });

  it('logs configureFailed and gives no context when the function asks for a pipe the interface lacks', async () => {
    const { file, log, deliver } = setup();
    const fn = recordingFunction({ pipes: { irq: { direction: 'in', type: 'interrupt' } } });
    const session = new BusSession({ file, fn, log, clock: new ManualClock() });
    await session.activate();
    await deliver({ type: 'reset', busSpeed: HIGH }, { type: 'configured', configurationValue: 1 });
    expect(log.ofKind('configureFailed')[0]?.error).toMatchObject({ code: 'PIPE_NOT_FOUND' });
    expect(fn.events).toEqual([]);
    expect(session.configured).toBe(false);
  });

  it('logs a function callback that throws as functionError and keeps dispatching', async () => {
    const { file, log, deliver } = setup();
    const fn = recordingFunction({
      onSuspend: () => {
        throw new Error('bug in onSuspend');
      },
    });
    const session = new BusSession({ file, fn, log, clock: new ManualClock() });
    await session.activate();
    await deliver({ type: 'reset', busSpeed: HIGH }, { type: 'suspend' }, { type: 'resume' });
    expect(log.ofKind('functionError')[0]).toMatchObject({ detail: { where: 'onSuspend' }, error: { message: 'bug in onSuspend' } });
    expect(session.busState).toBe('default');
    expect(log.ofKind('busEventLoopFailed')).toEqual([]);
  });

  it('answers class setup packets on pipe 0 one at a time, in bus order', async () => {
    const { file, log, deliver } = setup();
    file.onIoctl(IOCTL_GENERICUSBFN_TRANSFER_IN, () => ({ pending: true }));
    file.onIoctl(IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT, () => ({ complete: true }));
    const seen: number[] = [];
    const fn = recordingFunction({
      onSetup: (setup) => {
        seen.push(setup.bRequest);
        return { stage: 'in', data: Uint8Array.of(setup.bRequest) };
      },
    });
    const session = new BusSession({ file, fn, log, clock: new ManualClock() });
    await session.activate();
    const classIn = (bRequest: number) => ({ bmRequestType: 0xa1, bRequest, wValue: 0, wIndex: 0, wLength: 8 });
    await deliver({ type: 'reset', busSpeed: HIGH }, { type: 'setupPacket', setupPacket: classIn(1) }, { type: 'setupPacket', setupPacket: classIn(2) });
    // The first data stage is still on the bus: the second request has not been looked at.
    expect(seen).toEqual([1]);
    expect(file.pending(IOCTL_GENERICUSBFN_TRANSFER_IN)).toHaveLength(1);
    file.pending(IOCTL_GENERICUSBFN_TRANSFER_IN)[0]!.complete(undefined, 1);
    await settle();
    expect(seen).toEqual([1, 2]);
    const ep0 = file.calls.filter((c) => c.code === IOCTL_GENERICUSBFN_TRANSFER_IN || c.code === IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT);
    // [IOCTL, USBFNPIPEID, data]: both on pipe 0; each data stage is followed by its handshake before the next.
    expect(ep0.map((c) => [c.name.replace('IOCTL_GENERICUSBFN_', ''), c.input?.[0], c.output?.[0]])).toEqual([
      ['TRANSFER_IN', 0, 1],
      ['CONTROL_STATUS_HANDSHAKE_OUT', 0, undefined],
      ['TRANSFER_IN', 0, 2],
    ]);
    expect(log.ofKind('setupFailed')).toEqual([]);
  });
});

describe('BusSession: loop failure and end', () => {
  it('reports a failed bus-event loop once (busEventLoopFailed), and stops asking for events', async () => {
    const { file, session, log, failures } = setup({ busEventDepth: 2 });
    await session.activate();
    file.pending(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION)[0]!.fail(WIN32_ERROR.ERROR_GEN_FAILURE);
    await settle();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ win32Name: 'ERROR_GEN_FAILURE' });
    expect(log.ofKind('busEventLoopFailed')).toHaveLength(1);
    expect(file.pending(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION)).toEqual([]);
  });

  it('end() deconfigures with its reason, cancels the outstanding requests, and never reports a loop failure', async () => {
    const { file, session, fn, failures, log, deliver } = setup({ busEventDepth: 2 });
    await session.activate();
    await deliver({ type: 'reset', busSpeed: HIGH }, { type: 'configured', configurationValue: 1 });
    const ended = session.end('closed');
    // Synchronous up to the promise: the function knows before the handle closes.
    expect(fn.events).toEqual(['configured:1:high', 'deconfigured:closed']);
    expect(session.busState).toBe('unknown');
    await ended;
    expect(file.callsOf(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION).every((c) => c.state !== 'pending')).toBe(true);
    expect(file.cancelIoExCount).toBeGreaterThanOrEqual(2);
    await file.close();
    await settle();
    expect(failures).toEqual([]);
    expect(log.ofKind('busEventLoopFailed')).toEqual([]);
    await expect(session.end('stopped')).resolves.toBeUndefined();
    expect(fn.events).toHaveLength(2);
  });

  it('ends cleanly when its handle is closed under it (IRP_MJ_CLEANUP cancels the requests)', async () => {
    const { file, session, failures } = setup();
    await session.activate();
    await file.close();
    await settle();
    expect(failures).toEqual([]);
    await expect(session.end('closed')).resolves.toBeUndefined();
  });
});

describe('BusSession: driver settings (docs/win32-backend.md#driver-settings)', () => {
  /** Completes the oldest pending BUS_EVENT_NOTIFICATION with `event` but reports `bytesReturned`. */
  const deliverWithCount = async (file: FakeUsbFnFile, event: Parameters<typeof encodeUsbfnNotification>[0], bytesReturned: number): Promise<void> => {
    file.pending(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION)[0]!.complete(encodeUsbfnNotification(event), bytesReturned);
    await settle();
  };

  it("busEventBytes 'tolerant' (default): an event with lpBytesReturned 8 is decoded from the zeroed buffer and warned about once", async () => {
    const { file, session, log, failures } = setup();
    await session.activate();
    await deliverWithCount(file, { type: 'attach' }, 8);
    await deliverWithCount(file, { type: 'reset', busSpeed: HIGH }, 8);
    await deliverWithCount(file, { type: 'configured', configurationValue: 1 }, 6);
    expect(failures).toEqual([]);
    expect(session.configured).toBe(true);
    expect(session.speed).toBe('high');
    expect(log.ofKind('busEventBytesReturned').map((e) => [e.level, e.detail?.['bytesReturned']])).toEqual([['warn', 8]]);
    // The re-armed requests were issued with their buffer zeroed (no bytes of the previous event left).
    const pending = file.pending(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION);
    expect(pending).toHaveLength(4);
    for (const call of pending) expect([...call.output!]).toEqual(new Array(12).fill(0));
  });

  it("busEventBytes 'tolerant' still fails the loop when lpBytesReturned has no Event field (< 4)", async () => {
    const { file, session, failures } = setup();
    await session.activate();
    await deliverWithCount(file, { type: 'attach' }, 3);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ code: 'ABI_DECODE' });
  });

  it("busEventBytes 'strict': any count other than 12 fails the bus-event loop", async () => {
    const { file, session, failures } = setup({ settings: resolveDriverSettings({ busEventBytes: 'strict' }) });
    await session.activate();
    await deliverWithCount(file, { type: 'attach' }, 8);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ code: 'ABI_DECODE', expectedBytes: 12, actualBytes: 8 });
  });

  it("ep0PipeId 'auto' takes EP0's PipeId from an endpoint-0 entry of PipeArr and answers setups on it", async () => {
    const ep0 = { epDesc: { bLength: 7, bDescriptorType: 5, bEndpointAddress: 0x00, bmAttributes: 0x00, wMaxPacketSize: 64, bInterval: 0 }, pipeId: 9 };
    const withEp0 = { ...TEST_CLASS_INFO, highSpeed: { ...TEST_CLASS_INFO.highSpeed, pipes: [ep0, ...TEST_CLASS_INFO.highSpeed.pipes] } };
    const clock = new ManualClock();
    const file = scriptActivation(new FakeUsbFnFile(), withEp0)
      .onIoctl(IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN, () => ({ complete: true }));
    const log = new DeviceEventLog(() => clock.now());
    const session = new BusSession({ file, log, clock, fn: { name: 'nodata', onSetup: () => ({ stage: 'none' }) } });
    await session.activate();
    expect(log.ofKind('classInfo')[0]?.detail).toMatchObject({ ep0PipeId: 9, ep0PipeIdFrom: 'PipeArr' });
    deliverBusEvent(file, { type: 'setupPacket', setupPacket: { bmRequestType: 0x21, bRequest: 5, wValue: 0, wIndex: 0, wLength: 0 } });
    await settle();
    await settle();
    expect([...file.callsOf(IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN)[0]!.input!]).toEqual([9, 0, 0, 0]);
  });

  it('ep0PipeId given as a number wins over PipeArr', async () => {
    const { session, log } = setup({ settings: resolveDriverSettings({ ep0PipeId: 3 }) });
    await session.activate();
    expect(log.ofKind('classInfo')[0]?.detail).toMatchObject({ ep0PipeId: 3, ep0PipeIdFrom: 'setting' });
    expect(session.client.ep0PipeId).toBe(3);
  });
});

