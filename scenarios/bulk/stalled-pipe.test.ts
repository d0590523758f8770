/**
 * A halted pipe holds the device's transfers: while bulk IN is halted the loopback's echo stays queued
 * (not failed) in the controller, and it reaches the host once the halt is cleared.
 * @see docs/reference/ioctls.md#set-pipe-state (MS Learn "Writing a function controller client driver": a halted
 * pipe holds its transfers); USB 2.0 §9.4.5
 * @see Microsoft HLK "Windows USB Device" stalled bulk pipe test
 */
import { expect, phase, test } from '../../harness/index.js';

test('holds the device transfer on a halted pipe until the host clears it', { tags: ['sim-only'] }, async ({ agent, sim }) => {
  const ep = agent.bulkInEndpoint;
  await agent.resetState();
  await phase('the device halts bulk IN', () => agent.setEndpointHalt(ep, true));
  const payload = Uint8Array.from({ length: 300 }, (_, i) => (i * 13) & 0xff);
  await phase('write data the device echoes on the halted pipe', () => agent.handle.bulkOut(agent.bulkOutEndpoint, payload));
  const stalled = await agent.handle.bulkIn(ep, 512, { timeoutMs: 1000 });
  expect(stalled.status).toBe('stall');
  expect(sim.endpointState(ep)).toMatchObject({ halted: true, queuedDevice: 1 });
  const held = await agent.getCounters();
  expect(held).toMatchObject({ bulkOutTransfers: 1, bulkInTransfers: 0, cancelledTransfers: 0, failedTransfers: 0 });
  await phase('clear the halt', () => agent.handle.clearHalt(ep));
  const r = await phase('read the held echo', () => agent.handle.bulkIn(ep, 512, { timeoutMs: 1000 }));
  expect(r.status).toBe('ok');
  expect(r.data).toEqual(payload);
  expect(sim.endpointState(ep).queuedDevice).toBe(0);
  expect((await agent.getCounters()).bulkInTransfers).toBe(1);
});

test('holds the host write on a halted OUT pipe device-side until cleared', { tags: ['sim-only'] }, async ({ agent, sim }) => {
  const ep = agent.bulkOutEndpoint;
  await agent.resetState();
  await agent.setEndpointHalt(ep, true);
  // The loopback keeps its TRANSFER_OUT requests queued on the halted pipe: held, not failed.
  const queued = sim.endpointState(ep).queuedDevice;
  expect(queued).toBeGreaterThan(0);
  expect(sim.endpointState(ep).halted).toBe(true);
  const w = await agent.handle.bulkOut(ep, new Uint8Array(64), { timeoutMs: 1000 });
  expect(w.status).toBe('stall');
  expect(sim.endpointState(ep).queuedDevice).toBe(queued);
  await phase('clear the halt', () => agent.handle.clearHalt(ep));
  expect((await phase('loop back', () => agent.loopback(64, { seed: 18 }))).ok).toBe(true);
  expect(await agent.getCounters()).toMatchObject({ bulkOutTransfers: 1, cancelledTransfers: 0, failedTransfers: 0 });
});
