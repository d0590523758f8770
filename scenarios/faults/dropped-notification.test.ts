/**
 * A lost CM notification: the device interface's arrival never reaches the service (CM notifications
 * have no history). The service has no periodic re-listing, so it recovers at the next arrival of the
 * interface (the devnode leaving and coming back); until then it keeps waiting and the host sees nothing.
 * @see reference §3.2 (CM_Register_Notification: no history); DESIGN.md §4 items 1–2, §5 (dropped notifications)
 */
import { describe, expect, phase, test } from '../../harness/index.js';
import { loopbackFunctionConfig } from '../../simulator/index.js';

const FILTER = { vendorId: loopbackFunctionConfig().idVendor, productId: loopbackFunctionConfig().idProduct };

describe('with the device unpowered when the service starts', () => {
  test.override({ world: { powered: false } });

  test('opens the interface at its next arrival after the first arrival was lost', { tags: ['sim-only', 'hotplug'] }, async ({ device, host, sim, session }) => {
    expect((await device.status()).service).toBe('waitingForInterface');
    sim.dropNotification('CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL');
    await phase('power the device (its arrival is lost)', async () => {
      sim.simulation.powerOn();
      await sim.simulation.clock.idle();
    });
    const lost = sim.simulation.cm.log.filter((e) => e.kind === 'delivery' && e.outcome === 'dropped');
    expect(lost).toEqual([expect.objectContaining({ actionName: 'CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL' })]);
    expect(await device.status()).toMatchObject({ service: 'waitingForInterface', openCount: 0 });
    expect(await host.listDevices(FILTER)).toEqual([]);

    await phase('the devnode leaves and arrives again', async () => {
      await sim.simulation.powerOff();
      sim.simulation.powerOn();
      sim.replug();
      await device.whenActive();
    });
    const agent = await session.agent();
    const r = await agent.loopback(512, { seed: 6 });
    expect(r.ok).toBe(true);
    expect((await device.status()).openCount).toBe(1);
  });
});
