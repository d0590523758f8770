/**
 * Overriding the device's answer to a control request: a scenario prepends a handler with `sim.use(...)`
 * that stalls or answers a request before the device's controller and function see it (defaults are
 * handlers, faults are prepended overrides, as msw's `server.use()`); the world drops every override when
 * the scenario ends.
 * @see USB 2.0 §8.5.3.4 (STALL on the control pipe), §9.2.7 (request errors); issue 11 item 2
 */
import { expect, phase, test, TEST_REQUEST, type SimSetup } from '../../harness/index.js';
import { vendorDevice } from '../../host-side/index.js';

/** A class IN request to the function's interface (bmRequestType 0xA1). */
const classIn = (setup: SimSetup, bRequest: number): boolean => setup.bmRequestType === 0xa1 && setup.bRequest === bRequest;

test('reports a stalled GET_COUNTERS as a TestProtocolError, and the function never sees it', { tags: ['sim-only'] }, async ({ agent, sim }) => {
  let stalls = 1;
  sim.use((setup) => (classIn(setup, TEST_REQUEST.GET_COUNTERS) && stalls-- > 0 ? { stall: true } : undefined));
  const err = await phase('read the counters while the override stalls them', () => agent.getCounters().then(() => undefined, (e: unknown) => e));
  expect(err).toMatchObject({ name: 'TestProtocolError', code: 'TEST_PROTOCOL', request: 'GET_COUNTERS(interface 0)' });
  // The override stalled once; the function answers the next request and counts only that one.
  const counters = await phase('read the counters again', () => agent.getCounters());
  expect(counters).toMatchObject({ controlRequests: 1, stalledRequests: 0 });
});

test('answers a vendor request the device does not know until the override is removed', { tags: ['sim-only'] }, async ({ agent, sim }) => {
  const serial = new TextEncoder().encode('HIL-0042');
  const remove = sim.use((setup) => (setup.bmRequestType === 0xc0 && setup.bRequest === 0x42 ? { data: serial.subarray(0, setup.wLength) } : undefined));
  const answered = await phase('ask the vendor request', () => agent.handle.controlIn(vendorDevice(0x42), 64));
  expect(answered).toMatchObject({ status: 'ok', data: serial });
  expect(sim.unhandledRequests()).toEqual([]);
  remove();
  const stalled = await phase('ask it again without the override', () => agent.handle.controlIn(vendorDevice(0x42), 64));
  expect(stalled.status).toBe('stall');
  expect(sim.unhandledRequests()).toEqual([expect.objectContaining({ bmRequestType: 0xc0, bRequest: 0x42, reason: 'vendor request' })]);
});
