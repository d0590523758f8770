/**
 * GET_STATUS to the device, the function's interface and its endpoints, as the host reads it.
 * @see USB 2.0 §9.4.5 (Figures 9-4, 9-5, 9-6); docs/reference/ioctls.md#control-requests (UFX answers chapter-9 requests)
 */
import { expect, phase, test, USB_REQUEST, type UsbRecipient } from '../../harness/index.js';
import { type UsbDeviceHandle } from '../../host-side/index.js';

function getStatus(handle: UsbDeviceHandle, recipient: UsbRecipient, index: number) {
  return handle.controlIn({ requestType: 'standard', recipient, request: USB_REQUEST.GET_STATUS, value: 0, index }, 2);
}

test('reports the device as self-powered without remote wakeup', async ({ agent }) => {
  const r = await phase('GET_STATUS(device)', () => getStatus(agent.handle, 'device', 0));
  expect(r.status).toBe('ok');
  // bmAttributes 0xC0 in the configuration: D6 self-powered → status bit 0; remote wakeup not enabled → bit 1 clear.
  expect([...r.data]).toEqual([0x01, 0x00]);
});

test('reports the function interface status as two zero bytes', async ({ agent }) => {
  const r = await phase('GET_STATUS(interface)', () => getStatus(agent.handle, 'interface', agent.interfaceNumber));
  expect(r.status).toBe('ok');
  expect([...r.data]).toEqual([0x00, 0x00]);
});

test('reports the bulk endpoints as not halted', async ({ agent }) => {
  const out = await getStatus(agent.handle, 'endpoint', agent.bulkOutEndpoint);
  const inn = await getStatus(agent.handle, 'endpoint', agent.bulkInEndpoint);
  expect([out.status, [...out.data]]).toEqual(['ok', [0, 0]]);
  expect([inn.status, [...inn.data]]).toEqual(['ok', [0, 0]]);
});

test('reports the halt bit of an endpoint the device halted, and clears it with CLEAR_FEATURE', async ({ agent }) => {
  await phase('halt bulk IN from the device', () => agent.setEndpointHalt(agent.bulkInEndpoint, true));
  const halted = await getStatus(agent.handle, 'endpoint', agent.bulkInEndpoint);
  expect([...halted.data]).toEqual([0x01, 0x00]);
  await phase('clear the halt from the host', () => agent.handle.clearHalt(agent.bulkInEndpoint));
  const cleared = await getStatus(agent.handle, 'endpoint', agent.bulkInEndpoint);
  expect([...cleared.data]).toEqual([0x00, 0x00]);
});
