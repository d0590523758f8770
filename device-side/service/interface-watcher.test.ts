/**
 * InterfaceWatcher over FakeUsbFnPort on a manual clock, with a recording handler in place of the bus
 * session: registration before listing, the arrival race, the handle's notifications (close or veto inside
 * QUERYREMOVE, deferred unregister, reopen after QUERYREMOVEFAILED), the rescan, and stop.
 */
import { describe, expect, it } from 'vitest';
import { AbortedError, ConfigRetError } from '../../core/index.js';
import { CONFIGRET, WIN32_ERROR } from '../abi/index.js';
import type { UsbFnFile } from '../usbfn-port.js';
import {
  FakeUsbFnPort,
  ManualClock,
  notifyHandle,
  notifyInterface,
  settle,
  TEST_INTERFACE_GUID,
  testSymbolicLink,
  type FakeUsbFnFile,
} from '../testing/index.js';
import { DeviceEventLog } from './device-event-log.js';
import type { DeconfigureReason } from './function-api.js';
import { InterfaceWatcher, type InterfaceHandler, type InterfaceWatcherOptions } from './interface-watcher.js';

const LINK = testSymbolicLink(1);

/** A handler that records what the watcher asked of it; `opened` resolves unless a test says otherwise. */
class RecordingHandler implements InterfaceHandler {
  readonly events: string[] = [];
  readonly files: UsbFnFile[] = [];
  verdict: 'allow' | 'veto' = 'allow';
  /** Replaces the default `opened` (resolves at once). */
  onOpened: ((file: UsbFnFile, signal: AbortSignal) => Promise<void>) | undefined;
  custom: { eventGuid: string; data: Uint8Array; nameOffset: number } | undefined;

  opened(file: UsbFnFile, signal: AbortSignal): Promise<void> {
    this.events.push('opened');
    this.files.push(file);
    return this.onOpened?.(file, signal) ?? Promise.resolve();
  }

  closing(reason: DeconfigureReason): Promise<void> {
    this.events.push(`closing:${reason}`);
    return Promise.resolve();
  }

  queryRemove(): 'allow' | 'veto' {
    this.events.push('queryRemove');
    return this.verdict;
  }

  customEvent(eventGuid: string, data: Uint8Array, nameOffset: number): void {
    this.custom = { eventGuid, data, nameOffset };
  }
}

function setup(options: Partial<InterfaceWatcherOptions> = {}, present: string[] = [LINK]) {
  const clock = new ManualClock();
  const port = new FakeUsbFnPort({ clock });
  port.interfaces = [...present];
  const log = new DeviceEventLog(() => clock.now());
  const handler = new RecordingHandler();
  const states: string[] = [];
  const watcher = new InterfaceWatcher({
    port,
    interfaceClassGuid: TEST_INTERFACE_GUID.toLowerCase(),
    handler,
    log,
    onStateChange: (s) => states.push(s),
    ...options,
  });
  const kinds = (): string[] => log.entries.map((e) => e.kind);
  const file = (i = 0): FakeUsbFnFile => port.files[i] as FakeUsbFnFile;
  return { clock, port, log, handler, watcher, states, kinds, file };
}

/** Starts with LINK present and waits until it is active. */
async function started(options: Partial<InterfaceWatcherOptions> = {}) {
  const s = setup(options);
  await s.watcher.start();
  expect(s.watcher.state).toBe('active');
  return s;
}

describe('InterfaceWatcher: discovery and open (steps 1–3)', () => {
  it('registers for interface arrival before it lists, then opens, registers the handle, and hands it over, in that order', async () => {
    const { port, watcher, handler, kinds, states } = setup();
    await watcher.start();
    expect(port.calls).toEqual([
      'CM_Register_Notification(DEVICEINTERFACE)',
      'CM_Get_Device_Interface_List_SizeW',
      'CM_Get_Device_Interface_ListW',
      'CreateFileW',
      'CM_Register_Notification(DEVICEHANDLE)',
    ]);
    expect(handler.events).toEqual(['opened']);
    expect(handler.files[0]).toBe(port.files[0]);
    expect(kinds()).toEqual(['registered', 'listed', 'open', 'registered']);
    expect(states).toEqual(['waitingForInterface', 'opening', 'active']);
    expect(watcher.openCount).toBe(1);
    expect(watcher.symbolicLink).toBe(LINK);
    expect(watcher.interfaceClassGuid).toBe(TEST_INTERFACE_GUID);
  });

  it('opens an interface reported by both the list and the arrival notification once (the arrival race)', async () => {
    const { clock, port, watcher, log } = setup();
    // The interface arrives after the registration exists and before the list is read: CM reports it twice.
    port.onSizeQuery = () => notifyInterface(port, 'arrival', LINK);
    await watcher.start();
    await clock.advance(0);
    expect(port.calls.filter((c) => c === 'CreateFileW')).toHaveLength(1);
    expect(watcher.openCount).toBe(1);
    expect(log.ofKind('interfaceArrival')).toHaveLength(1);
    expect(log.ofKind('offerIgnored').map((e) => e.detail)).toEqual([{ link: LINK, source: 'arrival', state: 'active', duplicate: true }]);
  });

  it('opens an interface that arrives later from a deferred routine, not inside the notification callback', async () => {
    const { clock, port, watcher } = setup({}, []);
    await watcher.start();
    expect(watcher.state).toBe('waitingForInterface');
    port.interfaces = [LINK];
    expect(notifyInterface(port, 'arrival', LINK)).toEqual([WIN32_ERROR.ERROR_SUCCESS]);
    expect(port.calls).not.toContain('CreateFileW');
    await clock.advance(0);
    expect(watcher.state).toBe('active');
    expect(port.calls.at(-2)).toBe('CreateFileW');
  });

  it('finds an interface whose arrival notification was lost by listing again every rescanIntervalMs while it waits', async () => {
    const { clock, port, watcher, log } = setup({ rescanIntervalMs: 1_000 }, []);
    await watcher.start();
    port.interfaces = [LINK]; // arrived, but no notification
    await clock.advance(999);
    expect(watcher.state).toBe('waitingForInterface');
    await clock.advance(1);
    expect(watcher.state).toBe('active');
    expect(log.ofKind('rescan').map((e) => e.detail)).toEqual([{ links: [LINK] }]);
    // Nothing is listed while a handle is open.
    const lists = port.listCalls;
    await clock.advance(10_000);
    expect(port.listCalls).toBe(lists);
  });

  it('does not rescan when rescanIntervalMs is 0', async () => {
    const { clock, port, watcher } = setup({ rescanIntervalMs: 0 }, []);
    await watcher.start();
    port.interfaces = [LINK];
    await clock.advance(60_000);
    expect(port.listCalls).toBe(1);
    expect(watcher.state).toBe('waitingForInterface');
  });

  it('goes back to waiting when CreateFileW fails, and opens on the next rescan', async () => {
    const { clock, port, watcher, log } = setup({ rescanIntervalMs: 1_000 });
    port.failNext('CreateFileW', WIN32_ERROR.ERROR_ACCESS_DENIED);
    await watcher.start();
    expect(watcher.state).toBe('waitingForInterface');
    expect(log.ofKind('openFailed')[0]).toMatchObject({ detail: { link: LINK }, error: { data: { win32Name: 'ERROR_ACCESS_DENIED' } } });
    await clock.advance(1_000);
    expect(watcher.state).toBe('active');
    expect(watcher.openCount).toBe(1);
  });

  it('closes the handle and unregisters its notification when the handler fails to activate it', async () => {
    const { port, watcher, handler, log, file } = setup();
    handler.onOpened = async () => {
      throw new Error('GET_CLASS_INFO failed');
    };
    await watcher.start();
    expect(watcher.state).toBe('waitingForInterface');
    expect(handler.events).toEqual(['opened', 'closing:closed']);
    expect(file().isOpen).toBe(false);
    expect(port.registrations).toBe(1); // the interface registration only
    expect(log.ofKind('openFailed')).toHaveLength(1);
    expect(log.ofKind('unregistered').map((e) => e.detail?.['filter'])).toEqual(['deviceHandle']);
  });

  it('refuses a second start, and goes back to idle when the arrival registration fails', async () => {
    const { watcher } = await started();
    await expect(watcher.start()).rejects.toMatchObject({ name: 'ServiceStateError', code: 'SERVICE_STATE' });
    const other = setup();
    other.port.failNext('CM_Register_Notification', CONFIGRET.CR_OUT_OF_MEMORY);
    await expect(other.watcher.start()).rejects.toBeInstanceOf(ConfigRetError);
    expect(other.watcher.state).toBe('idle');
    await other.clock.advance(60_000);
    expect(other.port.listCalls).toBe(0);
  });
});

describe('InterfaceWatcher: handle notifications (step 7)', () => {
  it('closes the handle inside the QUERYREMOVE callback and keeps the registration until a deferred routine', async () => {
    const { port, watcher, handler, file } = await started();
    expect(notifyHandle(port, LINK, 'QUERYREMOVE')).toEqual([WIN32_ERROR.ERROR_SUCCESS]);
    // Synchronously, before the callback returned: the function was told, the handle is closed.
    expect(handler.events).toEqual(['opened', 'queryRemove', 'closing:closed']);
    expect(file().isOpen).toBe(false);
    expect(watcher.state).toBe('closedForRemoval');
    expect(port.registrations).toBe(2);
  });

  it('vetoes QUERYREMOVE with ERROR_CANCELLED when the handler says so, keeping the handle open', async () => {
    const { port, watcher, handler, file, log } = await started();
    handler.verdict = 'veto';
    expect(notifyHandle(port, LINK, 'QUERYREMOVE')).toEqual([WIN32_ERROR.ERROR_CANCELLED]);
    expect(file().isOpen).toBe(true);
    expect(watcher.state).toBe('active');
    expect(log.ofKind('queryRemove')[0]?.detail).toEqual({ verdict: 'veto' });
  });

  it.each(['REMOVECOMPLETE', 'REMOVEPENDING'] as const)(
    'after QUERYREMOVE, %s unregisters the handle notification from a deferred routine, never from its own callback',
    async (action) => {
      const { clock, port, watcher, log } = await started();
      notifyHandle(port, LINK, 'QUERYREMOVE');
      notifyHandle(port, LINK, action);
      await settle(); // a deferred routine is a timer, not just a later promise job
      expect(port.calls.filter((c) => c.startsWith('CM_Unregister_Notification'))).toEqual([]);
      expect(port.registrations).toBe(2);
      await clock.advance(0);
      expect(port.unregisterInCallback).toBe(0);
      expect(port.registrations).toBe(1);
      expect(log.ofKind('unregisterFailed')).toEqual([]);
      expect(log.ofKind('teardown').map((e) => e.detail)).toEqual([{ reason: 'removal' }]);
      expect(watcher.state).toBe('waitingForInterface');
      // The handle was closed once, in the QUERYREMOVE callback.
      expect(port.calls.filter((c) => c === 'CloseHandle')).toHaveLength(1);
    },
  );

  it('closes and unregisters on a surprise REMOVECOMPLETE (no QUERYREMOVE first); the interface removal that follows finds nothing to do', async () => {
    const { clock, port, watcher, handler, file, log } = await started();
    notifyHandle(port, LINK, 'REMOVECOMPLETE');
    notifyInterface(port, 'removal', LINK);
    expect(file().isOpen).toBe(true);
    await clock.advance(0);
    expect(file().isOpen).toBe(false);
    expect(handler.events).toEqual(['opened', 'closing:closed']);
    expect(port.registrations).toBe(1);
    expect(log.ofKind('teardown')).toHaveLength(1);
    expect(watcher.state).toBe('waitingForInterface');
  });

  it('tears down when the open interface is removed (DEVICEINTERFACE removal)', async () => {
    const { clock, port, watcher, log } = await started();
    notifyInterface(port, 'removal', LINK);
    await clock.advance(0);
    expect(log.ofKind('teardown').map((e) => e.detail)).toEqual([{ reason: 'interfaceRemoval' }]);
    expect(watcher.state).toBe('waitingForInterface');
    expect(port.registrations).toBe(1);
  });

  it('after QUERYREMOVEFAILED, unregisters the old registration from a deferred routine, reopens, and re-registers', async () => {
    const { clock, port, watcher, handler, log } = await started();
    const oldId = String(log.ofKind('registered')[1]?.detail?.['id']);
    notifyHandle(port, LINK, 'QUERYREMOVE');
    const mark = port.calls.length;
    notifyHandle(port, LINK, 'QUERYREMOVEFAILED');
    await settle();
    expect(port.calls.length).toBe(mark); // nothing inside the callback, nor right after it
    await clock.advance(0);
    expect(port.calls.slice(mark)).toEqual([`CM_Unregister_Notification(${oldId})`, 'CreateFileW', 'CM_Register_Notification(DEVICEHANDLE)']);
    expect(port.unregisterInCallback).toBe(0);
    expect(watcher.state).toBe('active');
    expect(watcher.openCount).toBe(2);
    expect(handler.files[1]).toBe(port.files[1]);
    const newId = log.ofKind('registered')[2]?.detail?.['id'];
    expect(newId).not.toBe(oldId);
    expect(port.registrations).toBe(2);
  });

  it('ignores QUERYREMOVEFAILED while its handle is still open (the query was vetoed)', async () => {
    const { clock, port, watcher, log } = await started();
    notifyHandle(port, LINK, 'QUERYREMOVEFAILED');
    await clock.advance(0);
    expect(log.ofKind('queryRemoveFailedIgnored').map((e) => e.detail)).toEqual([{ state: 'active', reason: 'handle still open' }]);
    expect(watcher.openCount).toBe(1);
    expect(port.calls.filter((c) => c.startsWith('CM_Unregister_Notification'))).toEqual([]);
  });

  it('hands CUSTOMEVENT to the handler with its GUID, data and name offset', async () => {
    const { port, handler, log } = await started();
    const eventGuid = '{11111111-2222-3333-4444-555555555555}';
    notifyHandle(port, LINK, 'CUSTOMEVENT', { eventGuid, data: Uint8Array.of(1, 2, 3), nameOffset: -1 });
    expect(handler.custom).toEqual({ eventGuid, data: Uint8Array.of(1, 2, 3), nameOffset: -1 });
    expect(log.ofKind('customEvent')[0]?.detail).toEqual({ eventGuid, bytes: 3 });
  });
});

describe('InterfaceWatcher: closeAndRescan and stop (step 8)', () => {
  it('closes a handle its user found unusable, then the rescan opens the interface again', async () => {
    const { clock, port, watcher, handler, log, file } = await started({ rescanIntervalMs: 1_000 });
    watcher.closeAndRescan(file(), 'busEventLoopFailed');
    await settle();
    expect(log.ofKind('teardown').map((e) => e.detail)).toEqual([{ reason: 'busEventLoopFailed' }]);
    expect(watcher.state).toBe('waitingForInterface');
    expect(port.registrations).toBe(1);
    await clock.advance(1_000);
    expect(watcher.state).toBe('active');
    expect(watcher.openCount).toBe(2);
    // A report about the old handle changes nothing now.
    watcher.closeAndRescan(handler.files[0]!, 'busEventLoopFailed');
    await settle();
    expect(watcher.state).toBe('active');
    expect(log.ofKind('teardown')).toHaveLength(1);
  });

  it('stops: tells the handler, closes the handle, unregisters both registrations; idempotent', async () => {
    const { clock, port, watcher, handler, file, log, states } = await started();
    await watcher.stop();
    expect(handler.events).toEqual(['opened', 'closing:stopped']);
    expect(file().isOpen).toBe(false);
    expect(port.registrations).toBe(0);
    expect(log.ofKind('unregistered').map((e) => e.detail?.['filter'])).toEqual(['deviceHandle', 'deviceInterface']);
    expect(states.slice(-2)).toEqual(['stopping', 'stopped']);
    await watcher.stop();
    expect(states.filter((s) => s === 'stopped')).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('cancels the deferred routines that had not run yet', async () => {
    const { clock, port, watcher } = await started();
    notifyHandle(port, LINK, 'QUERYREMOVE');
    notifyHandle(port, LINK, 'QUERYREMOVEFAILED');
    await watcher.stop();
    await clock.advance(10_000);
    expect(watcher.openCount).toBe(1);
    expect(port.calls.filter((c) => c === 'CreateFileW')).toHaveLength(1);
    expect(watcher.state).toBe('stopped');
  });

  it('stops an activation in progress through the signal it gave the handler, and logs no failure', async () => {
    const { port, watcher, handler, file, log } = setup();
    let aborted: unknown;
    handler.onOpened = (_file, signal) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => reject((aborted = new AbortedError('activation', signal.reason))), { once: true });
      });
    const starting = watcher.start();
    await settle();
    expect(watcher.state).toBe('opening');
    await watcher.stop();
    await expect(starting).resolves.toBeUndefined();
    expect(aborted).toBeInstanceOf(AbortedError);
    expect(file().isOpen).toBe(false);
    expect(port.registrations).toBe(0);
    expect(log.ofKind('openCancelled')).toHaveLength(1);
    expect(log.entries.filter((e) => e.level === 'error')).toEqual([]);
    expect(watcher.state).toBe('stopped');
  });

  it('closes a handle that CreateFileW returns only after stop', async () => {
    const clock = new ManualClock();
    let finishOpen: (() => void) | undefined;
    const port = new (class extends FakeUsbFnPort {
      override open(link: string): Promise<UsbFnFile> {
        return new Promise((resolve) => {
          finishOpen = () => void super.open(link).then(resolve);
        });
      }
    })({ clock });
    port.interfaces = [LINK];
    const handler = new RecordingHandler();
    const watcher = new InterfaceWatcher({ port, interfaceClassGuid: TEST_INTERFACE_GUID, handler, log: new DeviceEventLog(() => clock.now()) });
    const starting = watcher.start();
    await settle();
    expect(finishOpen).toBeDefined();
    await watcher.stop();
    await starting;
    finishOpen!();
    await settle();
    expect(port.files[0]?.isOpen).toBe(false);
    expect(handler.events).not.toContain('opened');
    expect(port.registrations).toBe(0);
  });

  it('moves from idle straight to stopped without touching CM', async () => {
    const { port, watcher } = setup();
    await watcher.stop();
    expect(watcher.state).toBe('stopped');
    expect(port.calls).toEqual([]);
  });
});
