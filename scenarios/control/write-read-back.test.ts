/**
 * A control write stores a payload on the device and a control read returns it byte for byte, across
 * many EP0 packets.
 * @see USB 2.0 §8.5.3 (control write / control read); HLK "Windows USB Device" EP0 transfers
 */
import { expect, param, phase, test, fillPattern } from '../../harness/index.js';

test('reads back what a control write stored', async ({ agent }) => {
  const data = new Uint8Array(1000);
  fillPattern(data, 21, 0);
  await param('bytes', data.length);
  const w = await phase('control write (ECHO_WRITE)', () => agent.echoWrite(data));
  expect(w).toEqual({ status: 'ok', bytesWritten: data.length });
  const r = await phase('control read (ECHO_READ)', () => agent.echoRead(data.length));
  expect(r.status).toBe('ok');
  expect(Buffer.from(r.data).equals(Buffer.from(data))).toBe(true);
});
