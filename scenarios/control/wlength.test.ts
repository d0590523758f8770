/**
 * wLength handling: the device never sends more than the host's wLength, and may send less (the host
 * sees a short data stage, not an error).
 * @see USB 2.0 §9.3.5 (wLength), §8.5.3.2 (short data stage); HLK "Windows USB Device" EP0 short transfers
 */
import { expect, param, phase, test, fillPattern } from '../../harness/index.js';

const STORED = 100;

function payload(): Uint8Array {
  const b = new Uint8Array(STORED);
  fillPattern(b, 9, 0);
  return b;
}

test('truncates its answer to a wLength shorter than the data', async ({ agent }) => {
  const data = payload();
  await agent.echoWrite(data);
  const wLength = 40;
  await param('stored bytes', STORED);
  await param('wLength', wLength);
  const r = await phase('ECHO_READ with a short wLength', () => agent.echoRead(wLength));
  expect(r.status).toBe('ok');
  expect([...r.data]).toEqual([...data.subarray(0, wLength)]);
});

test('answers with fewer bytes than a longer wLength asks for', async ({ agent }) => {
  const data = payload();
  await agent.echoWrite(data);
  const wLength = 300;
  await param('stored bytes', STORED);
  await param('wLength', wLength);
  const r = await phase('ECHO_READ with a long wLength', () => agent.echoRead(wLength));
  expect(r.status).toBe('ok');
  expect([...r.data]).toEqual([...data]);
});
