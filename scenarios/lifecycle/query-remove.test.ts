/**
 * Query-remove (PnP "eject", driver update): the service closes its handle so the removal can complete,
 * unless its function vetoes; when another component vetoes after the service closed, the service reopens
 * on QUERYREMOVEFAILED (from a deferred routine, never from inside its callback).
 * @see docs/architecture.md#service-lifecycle step 7; docs/reference/configuration-manager.md#query-remove
 * (DEVICEQUERYREMOVE, DEVICEQUERYREMOVEFAILED, DEVICEREMOVECOMPLETE)
 * @see https://learn.microsoft.com/windows/win32/api/cfgmgr32/nf-cfgmgr32-cm_register_notification
 */
import { assumption, delay, expect, phase, test } from '../../harness/index.js';

test('closes its handle so an allowed query-remove completes', { tags: ['sim-only', 'hotplug'] }, async ({ agent, device, sim }) => {
  expect((await agent.loopback(64)).ok).toBe(true);
  const outcome = await phase('query-remove the function', () => sim.queryRemove());
  expect(outcome).toBe('removed');
  await device.whenWaiting();
  const kinds = (await device.eventLog()).map((e) => e.kind);
  expect((await device.eventLog()).find((e) => e.kind === 'queryRemove')?.detail).toEqual({ verdict: 'allow' });
  // Closed inside the QUERYREMOVE callback, before PnP went on with the removal.
  expect(kinds.indexOf('close')).toBeGreaterThan(kinds.indexOf('queryRemove'));
  expect(kinds.indexOf('close')).toBeLessThan(kinds.indexOf('removePending'));
  expect(kinds.indexOf('teardown')).toBeGreaterThan(kinds.indexOf('removePending'));
  expect(await device.status()).toMatchObject({ service: 'waitingForInterface', openCount: 1 });
});

test('opens the interface again when the device returns after a query-remove', { tags: ['sim-only', 'hotplug'] }, async ({ agent, device, session, sim }) => {
  expect((await agent.loopback(64)).ok).toBe(true);
  expect(await sim.queryRemove()).toBe('removed');
  await device.whenWaiting();
  await phase('the device arrives again', async () => {
    sim.arrive();
    await device.whenActive();
  });
  expect((await device.status()).openCount).toBe(2);
  // The new driver instance starts unconfigured; a port reset makes the host configure it again.
  await phase('reset the port', () => agent.handle.reset());
  const again = await phase('reopen the function on the host', () => session.reopenAgent());
  expect((await again.loopback(512, { seed: 9 })).ok).toBe(true);
});

test('keeps the device when the function vetoes a query-remove', { tags: ['sim-only', 'hotplug'] }, async ({ agent, clock, device, sim }) => {
  sim.vetoQueryRemove();
  const outcome = await phase('query-remove the function', () => sim.queryRemove());
  expect(outcome).toBe('vetoed');
  await delay(clock, 1);
  const log = await device.eventLog();
  expect(log.find((e) => e.kind === 'queryRemove')?.detail).toEqual({ verdict: 'veto' });
  expect(log.some((e) => e.kind === 'close')).toBe(false);
  // QUERYREMOVEFAILED reaches the vetoing registration too; with its handle open it has nothing to reopen.
  await assumption('cm-query-remove-failed-recipients', 'QUERYREMOVEFAILED goes to every handle registration, including the one that vetoed', () => {
    expect(log.find((e) => e.kind === 'queryRemoveFailedIgnored')?.detail).toMatchObject({ reason: 'handle still open' });
  });
  expect(await device.status()).toMatchObject({ service: 'active', openCount: 1 });
  expect((await phase('loop back', () => agent.loopback(512, { seed: 2 }))).ok).toBe(true);
});

test('reopens its handle when a query-remove it allowed fails elsewhere', { tags: ['sim-only', 'hotplug'] }, async ({ agent, clock, device, sim }) => {
  expect((await agent.loopback(64)).ok).toBe(true);
  const link = (await device.status()).symbolicLink;
  expect(link).toBeDefined();
  // Another component holds the interface open: PnP vetoes the removal (PNP_VetoOutstandingOpen).
  const other = sim.openHandle(link);
  expect(other).toBeDefined();
  try {
    const outcome = await phase('query-remove while another handle is open', () => sim.queryRemove());
    expect(outcome).toBe('vetoed');
    await phase('wait for the reopen', async () => {
      await device.whenActive();
      await delay(clock, 1);
    });
  } finally {
    other?.close();
  }
  const kinds = (await device.eventLog()).map((e) => e.kind);
  expect(kinds.filter((k) => k === 'open')).toHaveLength(2);
  expect(kinds.lastIndexOf('open')).toBeGreaterThan(kinds.indexOf('queryRemoveFailed'));
  expect(kinds.indexOf('queryRemoveFailed')).toBeGreaterThan(kinds.indexOf('close'));
  expect(await device.status()).toMatchObject({ service: 'active', openCount: 2 });
  // The reopened handle has not seen the host's configuration: a port reset configures it again.
  await phase('reset the port', () => agent.handle.reset());
  await device.whenConfigured();
  expect((await phase('loop back', () => agent.loopback(2048, { seed: 10 }))).ok).toBe(true);
});

test('keeps its handle when a query-remove fails without having asked it', { tags: ['sim-only', 'hotplug'] }, async ({ agent, clock, device, sim }) => {
  await phase('another component vetoes a query-remove', async () => {
    await sim.failQueryRemove();
    await delay(clock, 1);
  });
  const log = await device.eventLog();
  expect(log.some((e) => e.kind === 'queryRemoveFailed')).toBe(true);
  expect(log.find((e) => e.kind === 'queryRemoveFailedIgnored')?.detail).toMatchObject({ state: 'active' });
  expect(await device.status()).toMatchObject({ service: 'active', openCount: 1 });
  expect((await phase('loop back', () => agent.loopback(1000, { seed: 5 }))).ok).toBe(true);
});
