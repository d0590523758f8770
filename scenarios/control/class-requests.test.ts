/**
 * Class requests addressed to the function's interface reach the device-side function (GenericUSBFn.sys
 * forwards them as UsbfnEventSetupPacket) and are answered with an IN data stage, an OUT data stage, or
 * no data stage.
 * @see USB 2.0 §9.3, §8.5.3 (control transfers); docs/reference/ioctls.md#control-requests (pipe-0 data stage then
 * handshake);
 * HLK "Windows USB Device" EP0 transfers
 */
import { expect, param, phase, test, findPatternMismatch, TEST_REQUEST } from '../../harness/index.js';
import { DEFAULT_PATTERN_SEED } from '../../device-side/index.js';

test('answers a class IN request with the data the function produced', async ({ agent }) => {
  const length = 200;
  const offset = 0x40;
  await param('wLength', length);
  const r = await phase('READ_PATTERN', () => agent.readPattern(offset, length));
  expect(r.status).toBe('ok');
  expect(r.data.length).toBe(length);
  expect(findPatternMismatch(r.data, DEFAULT_PATTERN_SEED, offset)).toBe(-1);
});

test('accepts a class OUT request with a data stage', async ({ agent }) => {
  const data = Uint8Array.from({ length: 100 }, (_, i) => (i * 7) & 0xff);
  await param('bytes', data.length);
  const w = await phase('ECHO_WRITE', () => agent.classOut(TEST_REQUEST.ECHO_WRITE, data));
  expect(w).toEqual({ status: 'ok', bytesWritten: data.length });
  const seen = await agent.echoLastSetup();
  expect(seen).toEqual({ bmRequestType: 0x21, bRequest: TEST_REQUEST.ECHO_WRITE, wValue: 0, wIndex: agent.interfaceNumber, wLength: data.length });
});

test('accepts a class request without a data stage', async ({ agent }) => {
  await agent.readPattern(0, 8);
  await agent.readPattern(0, 8);
  expect((await agent.getCounters()).controlRequests).toBeGreaterThanOrEqual(3);
  const r = await phase('RESET_STATE (no data stage)', () => agent.classNoData(TEST_REQUEST.RESET_STATE));
  expect(r).toEqual({ status: 'ok', bytesWritten: 0 });
  // RESET_STATE cleared the counters: only this GET_COUNTERS is counted.
  expect((await agent.getCounters()).controlRequests).toBe(1);
});
