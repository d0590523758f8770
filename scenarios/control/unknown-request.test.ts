/**
 * An unknown request stalls EP0 for that request only; the next request on EP0 is answered.
 * @see USB 2.0 §9.2.7 (request error → STALL), §8.5.3.4; Facedancer (an unhandled request stalls and is recorded);
 * HLK "Windows USB Device" EP0 stall tests
 */
import { expect, phase, test } from '../../harness/index.js';
import { vendorDevice } from '../../host-side/index.js';

const UNKNOWN_CLASS_REQUEST = 0x7e;

test('stalls an unknown class request and answers the next one', async ({ agent }) => {
  const bad = await phase('send an unknown class request', () => agent.classIn(UNKNOWN_CLASS_REQUEST, 16));
  expect(bad.status).toBe('stall');
  const counters = await phase('GET_COUNTERS', () => agent.getCounters());
  expect(counters.stalledRequests).toBe(1);
  const seen = await agent.echoLastSetup();
  expect(seen).toMatchObject({ bRequest: 0x01 }); // GET_COUNTERS, after the stalled request
});

test('stalls an unknown vendor request to the device and answers the next one', async ({ agent }) => {
  const bad = await phase('send a vendor request', () => agent.handle.controlIn(vendorDevice(0x42, 0, 0), 8));
  expect(bad.status).toBe('stall');
  const r = await phase('READ_PATTERN', () => agent.readPattern(0, 8));
  expect(r).toMatchObject({ status: 'ok' });
  expect(r.data.length).toBe(8);
});

test('records an unknown vendor request as unhandled', { tags: ['sim-only'] }, async ({ agent, sim }) => {
  await agent.handle.controlOut(vendorDevice(0x42, 0x1234, 0), new Uint8Array(0));
  expect(sim.unhandledRequests()).toEqual([expect.objectContaining({ bmRequestType: 0x40, bRequest: 0x42, wValue: 0x1234, wLength: 0 })]);
});
