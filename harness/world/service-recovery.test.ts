/**
 * How the service recovers without outside help: a lost arrival notification, a bus-event loop that
 * fails, endpoints re-queried after SET_INTERFACE, and a failed receive reported over USB.
 */
import { describe, expect, it } from 'vitest';
import { CM_NOTIFY_ACTION, createLoopbackFunction } from '../../device-side/index.js';
import { PROBE_REQUEST, probeFunction, serviceWorld, until } from './testing/index.js';

describe('UsbFnService: recovery', () => {
  it('finds an interface whose arrival notification was lost by listing again while it waits', async () => {
    await using w = await serviceWorld(probeFunction(), { powered: false });
    w.simulation.cm.dropNotifications({ action: CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL });
    await w.service.start();
    w.simulation.powerOn();
    await until(w.simulation, () => w.simulation.cm.log.some((e) => 'outcome' in e && e.outcome === 'dropped'), 'dropped arrival');
    expect(w.service.state).toBe('waitingForInterface');
    const before = w.clock.now();
    await w.service.whenActive({ timeoutMs: 10_000 });
    // Found by the rescan (default every 5 s of the port's clock), not by a notification.
    expect(w.clock.now() - before).toBeGreaterThanOrEqual(4_000);
    expect(w.service.log.ofKind('rescan')).toHaveLength(1);
    expect(w.service.openCount).toBe(1);
  });

  it('does not rescan when rescanIntervalMs is 0', async () => {
    await using w = await serviceWorld(probeFunction(), { powered: false, rescanIntervalMs: 0 });
    w.simulation.cm.dropNotifications({ action: CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL });
    await w.service.start();
    w.simulation.powerOn();
    await expect(w.service.whenActive({ timeoutMs: 30_000 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(w.service.log.ofKind('rescan')).toHaveLength(0);
  });

  it('closes and reopens the interface when its bus-event loop fails', async () => {
    await using w = await serviceWorld(probeFunction(), { attached: false });
    w.driver.failNext({ ioctl: 'BUS_EVENT_NOTIFICATION', win32: 31 });
    await w.service.start();
    await until(w.simulation, () => w.service.log.ofKind('busEventLoopFailed').length > 0, 'busEventLoopFailed');
    await until(w.simulation, () => w.service.openCount === 2 && w.service.state === 'active', 'reopened', 10_000);
    expect(w.service.log.ofKind('teardown').at(-1)?.detail).toEqual({ reason: 'busEventLoopFailed' });
    w.simulation.attach();
    const { agent } = await w.connectHost();
    expect(await agent.classIn(PROBE_REQUEST.IN, 3)).toMatchObject({ status: 'ok', data: Uint8Array.of(0xc0, 0xff, 0xee) });
  });

  it('starts a new configuration context after SET_INTERFACE, so bulk traffic continues', async () => {
    await using w = await serviceWorld(createLoopbackFunction({ depth: 2, bufferBytes: 4096 }));
    await w.service.start();
    const { handle, agent } = await w.connectHost();
    expect((await agent.loopback(100, { seed: 1 })).ok).toBe(true);
    await handle.selectAlternate(0, 0);
    expect((await agent.loopback(700, { seed: 2 })).ok).toBe(true);
    expect(w.service.log.ofKind('busEvent').map((e) => e.detail?.['type'])).toContain('setInterface');
  });

  it('reports a failed bulk receive over USB (GET_LAST_ERROR names TRANSFER_OUT)', async () => {
    await using w = await serviceWorld(createLoopbackFunction({ depth: 1, bufferBytes: 4096 }));
    await w.service.start();
    const { agent } = await w.connectHost();
    w.driver.failNext({ ioctl: 'TRANSFER_OUT', win32: 31 });
    // The queued receive was issued before the fault: it completes; the next one fails and is reissued.
    for (let i = 0; i < 3; i++) expect((await agent.loopback(64, { seed: i })).ok).toBe(true);
    expect(await agent.getLastError()).toMatchObject({ win32: 31, ioctlFunction: 0x05, name: 'ERROR_GEN_FAILURE' });
    expect((await agent.getCounters()).failedTransfers).toBe(1);
  });
});
