/**
 * A function may stall a request it does not want to answer now: once (the retry succeeds) or always
 * (until the rule is removed). The host sees a STALL handshake, never an error, and EP0 stays usable.
 * @see USB 2.0 §8.5.3.4 (functional stall on EP0); HLK "Windows USB Device" EP0 stall tests
 */
import { expect, phase, test, TEST_REQUEST } from '../../harness/index.js';

test('stalls a request once under the ONCE policy, then answers it', async ({ agent }) => {
  await agent.echoWrite(Uint8Array.of(1, 2, 3));
  await phase('set the ONCE stall policy on ECHO_READ', () => agent.setStallPolicy(TEST_REQUEST.ECHO_READ, 'ONCE'));
  const first = await agent.echoRead(3);
  const second = await agent.echoRead(3);
  expect(first.status).toBe('stall');
  expect(second.status).toBe('ok');
  expect([...second.data]).toEqual([1, 2, 3]);
});

test('stalls a request every time under the ALWAYS policy until the state is reset', async ({ agent }) => {
  await phase('set the ALWAYS stall policy on READ_PATTERN', () => agent.setStallPolicy(TEST_REQUEST.READ_PATTERN, 'ALWAYS'));
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await agent.readPattern(0, 8)).status);
  expect(statuses).toEqual(['stall', 'stall', 'stall']);
  expect((await agent.getCounters()).stalledRequests).toBe(3);
  await phase('RESET_STATE', () => agent.resetState());
  expect((await agent.readPattern(0, 8)).status).toBe('ok');
});
