/**
 * The function reports the setup packet of the previous class request it saw, field for field, so a host
 * can check what reached the device (bmRequestType, bRequest, wValue, wIndex, wLength).
 * @see USB 2.0 §9.3 (Table 9-2); docs/architecture.md#observable-through-usb
 */
import { expect, phase, test, TEST_REQUEST } from '../../harness/index.js';

test('echoes the setup packet of the previous class request', async ({ agent }) => {
  await phase('READ_PATTERN with wValue 0x1234 and wLength 16', () => agent.readPattern(0x1234, 16));
  const seen = await phase('ECHO_LAST_SETUP', () => agent.echoLastSetup());
  expect(seen).toEqual({
    bmRequestType: 0xa1, // IN | class | interface
    bRequest: TEST_REQUEST.READ_PATTERN,
    wValue: 0x1234,
    wIndex: agent.interfaceNumber,
    wLength: 16,
  });
});
