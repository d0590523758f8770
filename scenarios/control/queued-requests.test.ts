/**
 * Several control requests in flight at once complete in the order they were submitted, each with its
 * own answer (Linux usbtest "queued control messaging").
 * @see Linux usbtest test 10 (queued control); USB 2.0 §8.5.3 (one control transfer at a time per pipe)
 */
import { expect, param, phase, test, decodeTestCounters, TEST_COUNTERS_BYTES, TEST_REQUEST } from '../../harness/index.js';

const IN_FLIGHT = 8;

test('completes queued control requests in submission order', async ({ agent }) => {
  await param('requests in flight', IN_FLIGHT);
  await agent.resetState();
  const results = await phase('submit GET_COUNTERS requests together', () =>
    Promise.all(Array.from({ length: IN_FLIGHT }, () => agent.classIn(TEST_REQUEST.GET_COUNTERS, TEST_COUNTERS_BYTES))),
  );
  // RESET_STATE zeroed the counters; each request counts itself before answering, so the k-th one sees k.
  const seen = results.map((r) => {
    expect(r.status).toBe('ok');
    return decodeTestCounters(r.data).controlRequests;
  });
  expect(seen).toEqual(Array.from({ length: IN_FLIGHT }, (_, k) => k + 1));
});
