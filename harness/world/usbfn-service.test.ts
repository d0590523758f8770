/**
 * The device-side service's whole lifecycle over the simulation (issue 4, Tests): the real `UsbFnService`
 * over `SimUsbFnPort` (CM model + GenericUSBFn model + UFX + virtual bus), the real host side over
 * `SimUsbHost`. One test per step of docs/architecture.md#service-lifecycle and per notification path.
 *
 * @see docs/architecture.md#service-lifecycle, docs/reference/configuration-manager.md (cfgmgr32),
 * docs/reference/documented-vs-inferred.md#driver (GenericUSBFn)
 */
import { describe, expect, it } from 'vitest';
import { CM_NOTIFY_ACTION, IOCTL_GENERICUSBFN_GET_CLASS_INFO } from '../../device-side/index.js';
import { TimeoutError, Win32Error } from '../../core/index.js';
import { PROBE_REQUEST, probeFunction, simFileOf, serviceWorld, until } from './testing/index.js';

const A = CM_NOTIFY_ACTION;

describe('UsbFnService: discovery and open (service lifecycle steps 1–4)', () => {
  it('registers for interface arrival before it lists the interfaces', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.service.start();
    const calls = w.port.calls;
    const reg = calls.indexOf('CM_Register_Notification(DEVICEINTERFACE)');
    expect(reg).toBeGreaterThanOrEqual(0);
    expect(reg).toBeLessThan(calls.indexOf('CM_Get_Device_Interface_List_SizeW'));
    expect(reg).toBeLessThan(calls.indexOf('CM_Get_Device_Interface_ListW'));
    expect(w.kinds().slice(0, 3)).toEqual(['start', 'registered', 'listed']);
  });

  it('lists an interface that is already present and opens it', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.service.start();
    await w.service.whenActive({ timeoutMs: 100 });
    expect(w.service.state).toBe('active');
    expect(w.service.openCount).toBe(1);
    expect(w.service.symbolicLink).toBe(w.simulation.function().symbolicLink);
    expect(w.service.log.ofKind('listed')[0]?.detail).toEqual({ links: [w.simulation.function().symbolicLink] });
    expect(w.driver.openHandles).toBe(1);
  });

  it('opens an interface that arrives between registration and listing once (the arrival race)', async () => {
    await using w = await serviceWorld(probeFunction(), { powered: false });
    // The device powers up right after the DEVICEINTERFACE registration exists: the list shows the interface
    // and the ARRIVAL notification reports it again (D-CM).
    w.port.afterWatchInterfaces = () => w.simulation.powerOn();
    await w.service.start();
    await w.service.whenActive({ timeoutMs: 100 });
    await until(w.simulation, () => w.service.log.ofKind('offerIgnored').length > 0, 'the duplicate offer');
    expect(w.service.openCount).toBe(1);
    expect(w.port.calls.filter((c) => c === 'CreateFileW')).toHaveLength(1);
    expect(w.service.log.ofKind('interfaceArrival')).toHaveLength(1);
    expect(w.service.log.ofKind('offerIgnored')[0]?.detail).toMatchObject({ source: 'arrival', duplicate: true });
    // No second open was tried: the simulated device is exclusive and would answer it ERROR_ACCESS_DENIED.
    expect(w.driver.log.entries().filter((e) => e.kind === 'file' && e.outcome === 'ERROR_ACCESS_DENIED')).toEqual([]);
  });

  it('opens an interface that arrives after start (no device at start)', async () => {
    await using w = await serviceWorld(probeFunction(), { powered: false });
    await w.service.start();
    expect(w.service.state).toBe('waitingForInterface');
    w.simulation.powerOn();
    await w.service.whenActive({ timeoutMs: 100 });
    expect(w.service.openCount).toBe(1);
    expect(w.service.log.ofKind('interfaceArrival')).toHaveLength(1);
  });

  it('opens, registers for handle notifications, reads GET_CLASS_INFO, then sends ACTIVATE_USB_BUS, in that order', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.service.start();
    await w.service.whenActive({ timeoutMs: 100 });
    const c = w.port.calls;
    const order = ['CreateFileW', 'CM_Register_Notification(DEVICEHANDLE)', 'GET_CLASS_INFO', 'ACTIVATE_USB_BUS', 'BUS_EVENT_NOTIFICATION'];
    const at = order.map((name) => c.indexOf(name));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    // The driver saw the same order on one handle.
    const driverOrder = w.driver.log
      .entries()
      .map((e) => (e.kind === 'file' ? e.action : e.kind === 'ioctl' ? e.ioctl.replace('IOCTL_GENERICUSBFN_', '') : undefined))
      .filter((x) => x !== undefined)
      .slice(0, 3);
    expect(driverOrder).toEqual(['open', 'GET_CLASS_INFO', 'ACTIVATE_USB_BUS']);
    expect(w.kinds().slice(3, 7)).toEqual(['open', 'registered', 'classInfo', 'activate']);
    expect(w.service.classInfo?.highSpeed.pipes).toHaveLength(2);
  });

  it('keeps several BUS_EVENT_NOTIFICATION requests outstanding', async () => {
    await using w = await serviceWorld(probeFunction(), { busEventDepth: 3, attached: false });
    await w.service.start();
    await w.service.whenActive({ timeoutMs: 100 });
    expect(w.port.calls.filter((c) => c === 'BUS_EVENT_NOTIFICATION')).toHaveLength(3);
  });
});

describe('UsbFnService: bus events (service lifecycle step 5)', () => {
  it('reports reset with the bus speed, then configured, and hands the function a context for that speed', async () => {
    await using w = await serviceWorld(probeFunction(), { speed: 'full' });
    await w.startConfigured();
    // The host resets twice while enumerating (Linux hub_port_init), as a real host does.
    expect(w.service.log.ofKind('busEvent').map((e) => e.detail)).toEqual([
      { type: 'reset', speed: 'full' },
      { type: 'reset', speed: 'full' },
      { type: 'configured', configurationValue: 1 },
    ]);
    expect(w.fn.events).toEqual(['configured:1:full']);
    expect(w.service.busState).toBe('configured');
    expect(w.fn.ctx?.pipe('in')).toMatchObject({ endpointAddress: 0x81, direction: 'in', type: 'bulk', maxPacketSize: 64 });
    expect(w.fn.ctx?.pipe('out')).toMatchObject({ endpointAddress: 0x01, maxPacketSize: 64 });
  });

  it('ends the configuration on SET_CONFIGURATION(0) from the host and starts a new one on SET_CONFIGURATION(1)', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.service.start();
    const { handle } = await w.connectHost();
    const first = w.fn.ctx!;
    await handle.releaseInterface(0);
    await handle.selectConfiguration(0);
    await until(w.simulation, () => w.fn.events.includes('deconfigured:unConfigured'), 'unConfigured');
    expect(first.signal.aborted).toBe(true);
    expect(w.service.busState).toBe('default');
    await handle.selectConfiguration(1);
    await w.service.whenConfigured({ timeoutMs: 100 });
    expect(w.fn.events).toEqual(['configured:1:high', 'deconfigured:unConfigured', 'configured:1:high']);
    expect(w.fn.ctx).not.toBe(first);
    expect(w.fn.ctx?.signal.aborted).toBe(false);
  });

  it('answers a class IN request with TRANSFER_IN on pipe 0, then HANDSHAKE_OUT', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.service.start();
    const { agent } = await w.connectHost();
    const t = w.clock.now();
    const r = await agent.classIn(PROBE_REQUEST.IN, 64);
    expect(r.status).toBe('ok');
    expect([...r.data]).toEqual([0xc0, 0xff, 0xee]);
    expect(w.ioctls(t).map((e) => `${e.ioctl.replace('IOCTL_GENERICUSBFN_', '')}@${e.pipe}`)).toEqual(
      expect.arrayContaining(['TRANSFER_IN@0', 'CONTROL_STATUS_HANDSHAKE_OUT@0']),
    );
    const ep0 = w.ioctls(t).filter((e) => e.pipe === 0).map((e) => e.ioctl);
    expect(ep0).toEqual(['IOCTL_GENERICUSBFN_TRANSFER_IN', 'IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT']);
  });

  it('cuts an IN data stage longer than wLength to wLength', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.service.start();
    const { agent } = await w.connectHost();
    const r = await agent.classIn(PROBE_REQUEST.IN, 2);
    expect([...r.data]).toEqual([0xc0, 0xff]);
  });

  it('answers a class OUT request with TRANSFER_OUT on pipe 0, then HANDSHAKE_IN', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.service.start();
    const { agent } = await w.connectHost();
    const t = w.clock.now();
    const r = await agent.classOut(PROBE_REQUEST.OUT, Uint8Array.of(1, 2, 3, 4, 5));
    expect(r).toMatchObject({ status: 'ok', bytesWritten: 5 });
    expect([...w.fn.lastOut!]).toEqual([1, 2, 3, 4, 5]);
    const ep0 = w.ioctls(t).filter((e) => e.pipe === 0).map((e) => e.ioctl);
    expect(ep0).toEqual(['IOCTL_GENERICUSBFN_TRANSFER_OUT', 'IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN']);
  });

  it('answers a no-data class request with a status handshake only', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.service.start();
    const { agent } = await w.connectHost();
    const t = w.clock.now();
    await expect(agent.classNoData(PROBE_REQUEST.NO_DATA)).resolves.toMatchObject({ status: 'ok' });
    const ep0 = w.ioctls(t).filter((e) => e.pipe === 0).map((e) => e.ioctl);
    expect(ep0).toEqual(['IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN']);
  });

  it('stalls a class request the function does not answer (SET_PIPE_STATE on pipe 0)', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.service.start();
    const { agent } = await w.connectHost();
    const t = w.clock.now();
    await expect(agent.classIn(0x7f, 8)).resolves.toMatchObject({ status: 'stall' });
    await expect(agent.classNoData(0x7e)).resolves.toMatchObject({ status: 'stall' });
    const ep0 = w.ioctls(t).filter((e) => e.pipe === 0).map((e) => e.ioctl);
    expect(ep0).toEqual(['IOCTL_GENERICUSBFN_SET_PIPE_STATE', 'IOCTL_GENERICUSBFN_SET_PIPE_STATE']);
    // EP0 works again for the next request.
    await expect(agent.classIn(PROBE_REQUEST.IN, 3)).resolves.toMatchObject({ status: 'ok' });
  });

  it('stalls the status stage when onData of an OUT request returns stall', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.service.start();
    const { agent } = await w.connectHost();
    const t = w.clock.now();
    await expect(agent.classOut(PROBE_REQUEST.OUT_THEN_STALL, Uint8Array.of(9))).resolves.toMatchObject({ status: 'stall' });
    const ep0 = w.ioctls(t).filter((e) => e.pipe === 0).map((e) => e.ioctl);
    expect(ep0).toEqual(['IOCTL_GENERICUSBFN_TRANSFER_OUT', 'IOCTL_GENERICUSBFN_SET_PIPE_STATE']);
  });

  it('stalls and logs a typed error when the function answers with the wrong data stage', async () => {
    const fn = probeFunction();
    fn.onSetup = () => ({ stage: 'in', data: Uint8Array.of(1) });
    await using w = await serviceWorld(fn);
    await w.service.start();
    const { agent } = await w.connectHost();
    await expect(agent.classOut(0x20, Uint8Array.of(1, 2))).resolves.toMatchObject({ status: 'stall' });
    await until(w.simulation, () => w.service.log.ofKind('setupFailed').length > 0, 'setupFailed');
    expect(w.service.log.ofKind('setupFailed')[0]?.error).toMatchObject({ name: 'UsageError', code: 'SETUP_REPLY_MISMATCH' });
  });

  it('answers control requests one at a time in bus order', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.service.start();
    const { agent } = await w.connectHost();
    const results = await Promise.all([
      agent.classIn(PROBE_REQUEST.IN, 3),
      agent.classOut(PROBE_REQUEST.OUT, Uint8Array.of(7)),
      agent.classNoData(PROBE_REQUEST.NO_DATA),
    ]);
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
    expect(w.fn.events.filter((e) => e.startsWith('setup:'))).toEqual(['setup:0x10', 'setup:0x11', 'setup:0x12']);
  });

  it('reports detach: the configuration ends and the bus state is detached; re-attach configures again', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.startConfigured();
    const first = w.fn.ctx!;
    w.simulation.detach();
    await until(w.simulation, () => w.service.busState === 'detached', 'detach');
    expect(first.signal.aborted).toBe(true);
    expect(w.fn.events).toContain('deconfigured:detach');
    w.simulation.attach();
    await w.service.whenConfigured({ timeoutMs: 1_000 });
    expect(w.fn.events.at(-1)).toBe('configured:1:high');
  });

  it('reports suspend and resume to the function; the configuration survives', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.startConfigured();
    const ctx = w.fn.ctx!;
    w.simulation.bus.suspend();
    await until(w.simulation, () => w.service.busState === 'suspended', 'suspend');
    w.simulation.bus.resume();
    await until(w.simulation, () => w.service.busState === 'configured', 'resume');
    expect(w.fn.events.slice(-2)).toEqual(['suspend', 'resume']);
    expect(ctx.signal.aborted).toBe(false);
  });

  it('reports SET_INTERFACE to the function', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.service.start();
    const { handle } = await w.connectHost();
    await handle.selectAlternate(0, 0);
    await until(w.simulation, () => w.fn.events.includes('setInterface:0/0'), 'setInterface');
    expect(w.service.log.ofKind('busEvent').at(-1)?.detail).toEqual({ type: 'setInterface', interfaceNumber: 0, alternateSetting: 0 });
  });

  it('reports a host reset: the configuration ends with reason reset and a new one follows', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.service.start();
    const { handle } = await w.connectHost();
    await handle.reset();
    await handle.claimInterface(0);
    await w.service.whenConfigured({ timeoutMs: 1_000 });
    expect(w.fn.events).toEqual(['configured:1:high', 'deconfigured:reset', 'configured:1:high']);
  });
});

describe('UsbFnService: transfers only while configured (service lifecycle step 6)', () => {
  it('moves bulk data through the context while configured', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.service.start();
    const { handle } = await w.connectHost();
    const ctx = w.fn.ctx!;
    const rx = new Uint8Array(64);
    const got = ctx.transferOut('out', rx);
    await expect(handle.bulkOut(0x01, Uint8Array.of(1, 2, 3))).resolves.toMatchObject({ status: 'ok' });
    await expect(got).resolves.toBe(3);
    const hostIn = handle.bulkIn(0x81, 64);
    await expect(ctx.transferIn('in', Uint8Array.of(4, 5))).resolves.toBe(2);
    expect([...(await hostIn).data]).toEqual([4, 5]);
  });

  it('aborts the context on unconfigure: a pending transfer ends with 995, a later one is not issued', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.service.start();
    const { handle } = await w.connectHost();
    const ctx = w.fn.ctx!;
    const pending = ctx.transferOut('out', new Uint8Array(512));
    pending.catch(() => undefined);
    await handle.releaseInterface(0);
    await handle.selectConfiguration(0);
    await expect(pending).rejects.toMatchObject({ name: 'Win32Error', win32Name: 'ERROR_OPERATION_ABORTED' });
    await until(w.simulation, () => ctx.signal.aborted, 'context aborted');
    const before = w.ioctls(0, 'TRANSFER_IN').length;
    await expect(ctx.transferIn('in', Uint8Array.of(1))).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(ctx.transferOut('out', new Uint8Array(8))).rejects.toMatchObject({ code: 'ABORTED' });
    expect(w.ioctls(0, 'TRANSFER_IN')).toHaveLength(before);
  });

  it('rejects a transfer on the wrong pipe direction or an unknown pipe with a UsageError', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.startConfigured();
    const ctx = w.fn.ctx!;
    expect(() => ctx.transferIn('out', Uint8Array.of(1))).toThrow(expect.objectContaining({ code: 'PIPE_DIRECTION' }));
    expect(() => ctx.pipe('nope')).toThrow(expect.objectContaining({ code: 'PIPE_NOT_FOUND' }));
  });

  it('logs configureFailed and gives no context when the function asks for a pipe the interface lacks', async () => {
    const fn = probeFunction();
    await using w = await serviceWorld({ ...fn, pipes: { irq: { direction: 'in', type: 'interrupt' } } });
    await w.service.start();
    await until(w.simulation, () => w.service.log.ofKind('configureFailed').length > 0, 'configureFailed');
    expect(w.service.log.ofKind('configureFailed')[0]?.error).toMatchObject({ code: 'PIPE_NOT_FOUND' });
    expect(fn.events).toEqual([]);
  });
});

describe('UsbFnService: handle notifications (service lifecycle step 7)', () => {
  it('closes the handle on query-remove, so the removal succeeds; the registration is unregistered later', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.startConfigured();
    await expect(w.simulation.cm.queryAndRemove(w.instanceId)).resolves.toBe('removed');
    await w.service.whenWaiting({ timeoutMs: 100 });
    expect(w.fn.events).toEqual(['configured:1:high', 'queryRemove:allow', 'deconfigured:closed']);
    expect(w.driver.openHandles).toBe(0);
    expect(w.kinds()).toEqual(expect.arrayContaining(['queryRemove', 'close', 'unregistered']));
    // The handle registration went from a deferred routine, never from inside its own callback.
    expect(w.simulation.cm.callbackErrors()).toEqual([]);
    const handleReg = w.service.log.ofKind('registered').find((e) => e.detail?.['filter'] === 'deviceHandle')!.detail!['id'];
    expect(w.port.calls).toContain(`CM_Unregister_Notification(${String(handleReg)})`);
    expect(w.simulation.cm.deliveries(String(handleReg)).map((d) => d.actionName)).toEqual(
      expect.arrayContaining(['CM_NOTIFY_ACTION_DEVICEQUERYREMOVE']),
    );
  });

  it('handles remove-pending after query-remove with a deferred unregister', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.startConfigured();
    // Lose the interface-removal notification so the handle registration is the one that tears down.
    w.simulation.cm.dropNotifications({ action: A.CM_NOTIFY_ACTION_DEVICEINTERFACEREMOVAL });
    await expect(w.simulation.cm.queryAndRemove(w.instanceId)).resolves.toBe('removed');
    await w.service.whenWaiting({ timeoutMs: 100 });
    expect(w.service.log.ofKind('removePending')).toHaveLength(1);
    expect(w.service.log.ofKind('teardown')[0]?.detail).toEqual({ reason: 'removal' });
    // The handle was closed once, inside the QUERYREMOVE callback; the unregister came after, deferred.
    expect(w.port.calls.filter((c) => c === 'CloseHandle')).toHaveLength(1);
    expect(w.port.calls.at(-1)).toMatch(/^CM_Unregister_Notification/);
    expect(w.simulation.cm.callbackErrors()).toEqual([]);
    expect(w.service.state).toBe('waitingForInterface');
  });

  it('vetoes query-remove when the function asks to: the handle stays open and traffic still works', async () => {
    const fn = probeFunction();
    fn.queryRemoveVerdict = 'veto';
    await using w = await serviceWorld(fn);
    await w.service.start();
    const { handle } = await w.connectHost();
    await expect(w.simulation.cm.queryAndRemove(w.instanceId)).resolves.toBe('vetoed');
    await until(w.simulation, () => w.service.log.ofKind('queryRemoveFailedIgnored').length > 0, 'QUERYREMOVEFAILED');
    expect(w.service.state).toBe('active');
    expect(w.service.openCount).toBe(1);
    expect(w.driver.openHandles).toBe(1);
    expect(w.simulation.cm.log.filter((e) => e.kind === 'pnp' && e.op === 'queryRemove').at(-1)).toMatchObject({ outcome: 'vetoed' });
    // Traffic still works on the same handle and configuration.
    const got = w.fn.ctx!.transferOut('out', new Uint8Array(16));
    await handle.bulkOut(0x01, Uint8Array.of(42));
    await expect(got).resolves.toBe(1);
    await expect(w.port.calls.filter((c) => c === 'CreateFileW')).toHaveLength(1);
  });

  it('reopens after query-remove-failed: unregisters the old registration from a deferred routine, reopens, re-registers', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.service.start();
    // Another component on the device vetoes after the service closed its handle.
    const vetoer = w.simulation.cm.register({ type: 'deviceHandle', handle: simFileOf(w.service).cmHandle }, (action) =>
      action === A.CM_NOTIFY_ACTION_DEVICEQUERYREMOVE ? 1223 : 0,
    );
    const oldReg = String(w.service.log.ofKind('registered').find((e) => e.detail?.['filter'] === 'deviceHandle')!.detail!['id']);
    const { handle } = await w.connectHost();
    await expect(w.simulation.cm.queryAndRemove(w.instanceId)).resolves.toBe('vetoed');
    await until(w.simulation, () => w.service.openCount === 2, 'reopen');
    await w.service.whenActive({ timeoutMs: 100 });
    // ASSUMPTION(drv-reopen-state): what a reopened handle hears is not documented; the new handle gets no
    // Configured for the configuration the host set before; the host re-enumerates to start a new one.
    expect(w.service.busState).toBe('unknown');
    await handle.reset();
    await w.service.whenConfigured({ timeoutMs: 1_000 });
    expect(w.fn.events).toEqual(['configured:1:high', 'queryRemove:allow', 'deconfigured:closed', 'configured:1:high']);
    await expect(w.fn.ctx!.getStall('in')).resolves.toBe(false);
    const calls = w.port.calls;
    const unreg = calls.indexOf(`CM_Unregister_Notification(${oldReg})`);
    expect(unreg).toBeGreaterThan(0);
    expect(calls.indexOf('CreateFileW', unreg)).toBeGreaterThan(unreg);
    expect(calls.indexOf('CM_Register_Notification(DEVICEHANDLE)', unreg)).toBeGreaterThan(unreg);
    expect(w.simulation.cm.callbackErrors()).toEqual([]); // no SIM_UNREGISTER_IN_CALLBACK
    const regs = w.service.log.ofKind('registered').filter((e) => e.detail?.['filter'] === 'deviceHandle');
    expect(regs).toHaveLength(2);
    expect(regs[1]!.detail!['id']).not.toBe(oldReg);
    await vetoer.unregister();
  });

  it('ignores query-remove-failed while its handle is still open (no query was sent to it)', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.startConfigured();
    await w.simulation.cm.failQueryRemove(w.instanceId);
    await until(w.simulation, () => w.service.log.ofKind('queryRemoveFailedIgnored').length > 0, 'ignored');
    expect(w.service.openCount).toBe(1);
    expect(w.service.state).toBe('active');
  });

  it('survives a dropped query-remove: the open handle vetoes the removal and the service stays active', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.startConfigured();
    w.simulation.cm.dropNotifications({ action: A.CM_NOTIFY_ACTION_DEVICEQUERYREMOVE });
    await expect(w.simulation.cm.queryAndRemove(w.instanceId)).resolves.toBe('vetoed');
    await until(w.simulation, () => w.service.log.ofKind('queryRemoveFailedIgnored').length > 0, 'QUERYREMOVEFAILED');
    expect(w.service.state).toBe('active');
    expect(w.driver.openHandles).toBe(1);
  });

  it('tears down on remove-complete (surprise removal) with a deferred unregister', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.startConfigured();
    w.simulation.cm.dropNotifications({ action: A.CM_NOTIFY_ACTION_DEVICEINTERFACEREMOVAL });
    await w.simulation.cm.surpriseRemove(w.instanceId);
    await w.service.whenWaiting({ timeoutMs: 100 });
    expect(w.service.log.ofKind('removeComplete')).toHaveLength(1);
    expect(w.service.log.ofKind('teardown')[0]?.detail).toEqual({ reason: 'removal' });
    expect(w.fn.events.at(-1)).toBe('deconfigured:closed');
    expect(w.simulation.cm.callbackErrors()).toEqual([]);
    expect(w.port.calls.at(-1)).toMatch(/^CM_Unregister_Notification/);
  });

  it('tears down on surprise removal: pending device I/O ends, the handle is closed, the service waits again', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.startConfigured();
    const pending = w.fn.ctx!.transferOut('out', new Uint8Array(64));
    pending.catch(() => undefined);
    await w.simulation.powerOff();
    await w.service.whenWaiting({ timeoutMs: 100 });
    await expect(pending).rejects.toMatchObject({ win32: 995 });
    expect(w.service.log.ofKind('interfaceRemoval')).toHaveLength(1);
    expect(w.service.log.ofKind('teardown')[0]?.detail).toEqual({ reason: 'interfaceRemoval' });
    expect(w.fn.events).toContain('deconfigured:detach');
    expect(w.driver.log.entries().some((e) => e.kind === 'file' && e.action === 'removed')).toBe(true);
    expect(w.simulation.cm.callbackErrors()).toEqual([]);
  });

  it('starts again on re-arrival: opens the new interface and the host can use it', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.startConfigured();
    await w.simulation.powerOff();
    await w.service.whenWaiting({ timeoutMs: 100 });
    w.simulation.powerOn();
    w.simulation.attach();
    await w.service.whenConfigured({ timeoutMs: 1_000 });
    expect(w.service.openCount).toBe(2);
    expect(w.service.log.ofKind('interfaceArrival')).toHaveLength(1);
    const { agent } = await w.connectHost();
    await expect(agent.classIn(PROBE_REQUEST.IN, 3)).resolves.toMatchObject({ status: 'ok' });
  });

  it('hands custom events to the function', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.startConfigured();
    const guid = '{0B2C3D4E-5F60-4718-8293-A4B5C6D7E8F9}';
    await w.simulation.cm.sendCustomEvent(w.instanceId, guid, Uint8Array.of(1, 2, 3, 4), -1);
    await until(w.simulation, () => w.fn.customEvents.length > 0, 'custom event');
    expect(w.fn.customEvents[0]).toMatchObject({ eventGuid: guid, nameOffset: -1 });
    expect([...w.fn.customEvents[0]!.data]).toEqual([1, 2, 3, 4]);
    expect(w.service.log.ofKind('customEvent')[0]?.detail).toEqual({ eventGuid: guid, bytes: 4 });
  });
});

describe('UsbFnService: detach and reset in the middle of transfers', () => {
  it('ends pending device transfers with 995 on detach and keeps working after re-attach', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.startConfigured();
    const ctx = w.fn.ctx!;
    const outs = [ctx.transferOut('out', new Uint8Array(512)), ctx.transferOut('out', new Uint8Array(512))];
    const inn = ctx.transferIn('in', new Uint8Array(100));
    for (const p of [...outs, inn]) p.catch(() => undefined);
    const t = w.clock.now();
    w.simulation.detach();
    for (const p of [...outs, inn]) await expect(p).rejects.toMatchObject({ win32Name: 'ERROR_OPERATION_ABORTED' });
    expect(w.ioctls(t).filter((e) => e.outcome === 'ERROR_OPERATION_ABORTED' && e.pipe !== undefined && e.pipe > 0)).toHaveLength(3);
    w.simulation.attach();
    await w.service.whenConfigured({ timeoutMs: 1_000 });
    const { handle } = await w.connectHost();
    const got = w.fn.ctx!.transferOut('out', new Uint8Array(16));
    await handle.bulkOut(0x01, Uint8Array.of(5));
    await expect(got).resolves.toBe(1);
  });

  it('ends pending device transfers with 995 on a host reset', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.service.start();
    const { handle } = await w.connectHost();
    const pending = w.fn.ctx!.transferIn('in', new Uint8Array(1024));
    pending.catch(() => undefined);
    await handle.reset();
    await expect(pending).rejects.toMatchObject({ win32: 995 });
    expect(w.fn.events).toContain('deconfigured:reset');
  });
});

describe('UsbFnService: shutdown, bounded waits and failures (service lifecycle step 8)', () => {
  it('stop() cancels outstanding I/O, unregisters every notification and closes the handle', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.startConfigured();
    const pending = w.fn.ctx!.transferOut('out', new Uint8Array(64));
    pending.catch(() => undefined);
    const t = w.clock.now();
    await w.service.stop();
    expect(w.service.state).toBe('stopped');
    await expect(pending).rejects.toMatchObject({ win32: 995 });
    const aborted = w.ioctls(t).filter((e) => e.outcome === 'ERROR_OPERATION_ABORTED').map((e) => e.ioctl);
    expect(aborted).toEqual(expect.arrayContaining(['IOCTL_GENERICUSBFN_TRANSFER_OUT', 'IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION']));
    expect(w.driver.openHandles).toBe(0);
    expect(w.driver.log.entries().filter((e) => e.kind === 'file' && e.action === 'close')).toHaveLength(1);
    const unregs = w.port.calls.filter((c) => c.startsWith('CM_Unregister_Notification'));
    expect(unregs).toHaveLength(2);
    expect(w.port.calls.indexOf('CloseHandle')).toBeLessThan(w.port.calls.indexOf(unregs[0]!));
    expect(w.fn.events.at(-1)).toBe('deconfigured:stopped');
    // Nothing reaches the service any more.
    const seen = w.simulation.cm.deliveries().length;
    await w.simulation.powerOff();
    expect(w.simulation.cm.deliveries().slice(seen).filter((d) => d.outcome === 'delivered')).toEqual([]);
    await expect(w.service.stop()).resolves.toBeUndefined(); // idempotent
  });

  it('stop() before start() goes straight to stopped; start() after stop() is a ServiceStateError', async () => {
    await using w = await serviceWorld(probeFunction());
    await w.service.stop();
    expect(w.service.state).toBe('stopped');
    await expect(w.service.start()).rejects.toMatchObject({ code: 'SERVICE_STATE', data: { actual: 'stopped' } });
  });

  it('whenActive times out with a TimeoutError on the virtual clock when no device exists', async () => {
    await using w = await serviceWorld(probeFunction(), { powered: false });
    await w.service.start();
    const wall = performance.now();
    const t = w.clock.now();
    const err = await w.service.whenActive({ timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(w.clock.now() - t).toBe(30_000);
    expect(performance.now() - wall).toBeLessThan(1_000);
    expect(w.service.state).toBe('waitingForInterface');
  });

  it('whenConfigured and whenWaiting are bounded too, and honour an AbortSignal', async () => {
    await using w = await serviceWorld(probeFunction(), { attached: false });
    await w.service.start();
    await expect(w.service.whenConfigured({ timeoutMs: 50 })).rejects.toBeInstanceOf(TimeoutError);
    await expect(w.service.whenWaiting({ timeoutMs: 50 })).rejects.toBeInstanceOf(TimeoutError);
    const ac = new AbortController();
    const waiting = w.service.whenConfigured({ timeoutMs: 10_000, signal: ac.signal });
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('logs a failed GET_CLASS_INFO as openFailed with its Win32Error, closes, and waits for the next arrival', async () => {
    await using w = await serviceWorld(probeFunction());
    w.driver.failNext({ ioctl: 'GET_CLASS_INFO', win32: 31 });
    await w.service.start();
    await until(w.simulation, () => w.service.log.ofKind('openFailed').length > 0, 'openFailed');
    const entry = w.service.log.ofKind('openFailed')[0]!;
    expect(entry.level).toBe('error');
    expect(entry.error).toMatchObject({ name: 'Win32Error', data: { win32: 31, win32Name: 'ERROR_GEN_FAILURE' } });
    expect(w.service.log.lastError).toBe(entry);
    expect(w.service.state).toBe('waitingForInterface');
    expect(w.driver.openHandles).toBe(0);
    expect(w.port.calls.filter((c) => c.startsWith('CM_Unregister_Notification'))).toHaveLength(1);
    expect(w.port.calls).not.toContain('ACTIVATE_USB_BUS');
    // The next arrival opens it.
    await w.simulation.powerOff();
    w.simulation.powerOn();
    await w.service.whenActive({ timeoutMs: 100 });
    expect(w.service.openCount).toBe(2);
  });

  it('logs a failed ACTIVATE_USB_BUS as openFailed and a failed CreateFileW likewise', async () => {
    await using w = await serviceWorld(probeFunction());
    w.driver.failNext({ ioctl: 'ACTIVATE_USB_BUS', win32: 31 });
    await w.service.start();
    await until(w.simulation, () => w.service.log.ofKind('openFailed').length > 0, 'openFailed');
    expect(w.service.log.ofKind('openFailed')[0]?.error).toMatchObject({ data: { ioctl: 'IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS' } });
    expect(w.service.state).toBe('waitingForInterface');
    expect(w.driver.openHandles).toBe(0);
  });

  it('bounds each opening step: a step that never completes fails with a TimeoutError in the log', async () => {
    await using w = await serviceWorld(probeFunction(), { stepTimeoutMs: 250 });
    // GET_CLASS_INFO completes only after 10 s: the 250 ms step bound fires first.
    const inner = w.port.inner;
    const open = inner.open.bind(inner);
    inner.open = async (link: string) => {
      const file = await open(link);
      const ioctl = file.ioctl.bind(file);
      file.ioctl = (code, input, output, options) =>
        code === IOCTL_GENERICUSBFN_GET_CLASS_INFO ? new Promise<number>(() => undefined) : ioctl(code, input, output, options);
      return file;
    };
    await w.service.start();
    await until(w.simulation, () => w.service.log.ofKind('openFailed').length > 0, 'openFailed');
    expect(w.service.log.ofKind('openFailed')[0]?.error).toMatchObject({ name: 'TimeoutError' });
    expect(w.service.state).toBe('waitingForInterface');
  });

  it('reports a bus-event failure other than cancellation in the event log as a Win32Error', async () => {
    await using w = await serviceWorld(probeFunction(), { attached: false });
    w.driver.failNext({ ioctl: 'BUS_EVENT_NOTIFICATION', win32: 31 });
    await w.service.start();
    await until(w.simulation, () => w.service.log.ofKind('busEventLoopFailed').length > 0, 'busEventLoopFailed');
    const entry = w.service.log.ofKind('busEventLoopFailed')[0]!;
    expect(entry.error).toMatchObject({ name: 'Win32Error', data: { ioctl: 'IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION', win32Name: 'ERROR_GEN_FAILURE' } });
    expect(Win32Error.name).toBe(entry.error?.name);
  });
});
