/**
 * A lost CM notification: the device interface's arrival never reaches the service (CM notifications
 * have no history and may be dropped under low memory). The service lists the interfaces again while it
 * waits (every 5 s of the scenario clock by default), so it finds the interface without a new arrival.
 * @see docs/reference/configuration-manager.md#no-history; docs/architecture.md#service-lifecycle steps 1–2;
 * docs/simulator.md#faults-the-sim-fixture (dropped notifications)
 */
import { describe, expect, phase, test } from '../../harness/index.js';

describe('with the device unpowered when the service starts', () => {
  test.override({ world: { powered: false } });

  test('finds the interface by listing again after its arrival notification was lost', { tags: ['sim-only', 'hotplug'] }, async ({ clock, device, sim, session }) => {
    expect((await device.status()).service).toBe('waitingForInterface');
    sim.dropNotification('CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL');
    const poweredAt = clock.now();
    await phase('power the device (its arrival notification is lost)', () => sim.powerOn());
    await phase('wait for the service to find it on its own', () => device.whenActive({ timeoutMs: 10_000 }));
    const lost = sim.cmLog().filter((e) => e.kind === 'delivery' && e.outcome === 'dropped');
    expect(lost).toEqual([expect.objectContaining({ actionName: 'CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL' })]);
    const log = await device.eventLog();
    expect(log.filter((e) => e.kind === 'interfaceArrival')).toHaveLength(0);
    expect(log.filter((e) => e.kind === 'rescan')).toHaveLength(1);
    expect(clock.now() - poweredAt).toBeLessThanOrEqual(5_000 + 1);

    const agent = await session.agent();
    expect((await agent.loopback(512, { seed: 6 })).ok).toBe(true);
    expect((await device.status()).openCount).toBe(1);
  });
});
