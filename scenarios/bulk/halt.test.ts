/**
 * Halt and clear-halt on the bulk pipes: while the device halts an endpoint (SET_PIPE_STATE) the host's
 * transfers on it stall; CLEAR_FEATURE(ENDPOINT_HALT) un-halts it, resets the data toggle to DATA0 on both
 * sides, and traffic flows again.
 * @see USB 2.0 §9.4.5 (ENDPOINT_HALT, toggle reset on clear), §8.5.1 (data toggle); Linux usbtest test
 * cases 13 (halt/clear-halt) and toggle reset; Microsoft HLK "stalled bulk pipes"
 */
import { expect, param, phase, test } from '../../harness/index.js';

test('stalls bulk IN while the device halts it and works after clear-halt', async ({ agent }) => {
  const ep = agent.bulkInEndpoint;
  await param('endpoint', `0x${ep.toString(16)}`);
  await phase('the device halts the IN endpoint', () => agent.setEndpointHalt(ep, true));
  const r = await phase('read from the halted endpoint', () => agent.handle.bulkIn(ep, 512, { timeoutMs: 1000 }));
  expect(r.status).toBe('stall');
  await phase('clear the halt', () => agent.handle.clearHalt(ep));
  expect((await phase('loop back', () => agent.loopback(700, { seed: 14 }))).ok).toBe(true);
});

test('stalls bulk OUT while the device halts it and works after clear-halt', async ({ agent }) => {
  const ep = agent.bulkOutEndpoint;
  await param('endpoint', `0x${ep.toString(16)}`);
  await phase('the device halts the OUT endpoint', () => agent.setEndpointHalt(ep, true));
  const w = await phase('write to the halted endpoint', () => agent.handle.bulkOut(ep, new Uint8Array(100), { timeoutMs: 1000 }));
  expect(w).toEqual({ status: 'stall', bytesWritten: 0 });
  expect((await agent.getCounters()).bulkOutTransfers).toBe(0);
  await phase('clear the halt', () => agent.handle.clearHalt(ep));
  expect((await phase('loop back', () => agent.loopback(700, { seed: 15 }))).ok).toBe(true);
});

test('resets the data toggle of a halted endpoint on clear-halt', { tags: ['sim-only'] }, async ({ agent, sim }) => {
  const ep = agent.bulkInEndpoint;
  // One data packet on bulk IN leaves its toggle at DATA1.
  expect((await agent.loopback(1, { seed: 16 })).ok).toBe(true);
  expect(sim.endpointState(ep).toggle).toBe(1);
  await agent.setEndpointHalt(ep, true);
  expect(sim.endpointState(ep)).toMatchObject({ halted: true, toggle: 1 });
  await phase('clear the halt', () => agent.handle.clearHalt(ep));
  expect(sim.endpointState(ep)).toMatchObject({ halted: false, toggle: 0 });
  const r = await phase('loop back', () => agent.loopback(1, { seed: 17 }));
  expect(r.ok).toBe(true);
  expect(sim.endpointState(ep).toggle).toBe(1);
});
