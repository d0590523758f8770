/**
 * A request for a descriptor the device does not have stalls EP0 for that request only; the device then
 * answers the next requests and its function keeps working.
 * @see USB 2.0 §9.2.7 (request error → STALL), §8.5.3.4 (a stalled control pipe recovers at the next SETUP);
 * HLK "Windows USB Device" EP0 stall tests
 */
import { expect, param, phase, test, USB_DT } from '../../harness/index.js';
import { getDescriptorSetup } from '../../host-side/index.js';
import { readDeviceDescriptor } from './get-descriptor.js';

/** A descriptor type with no meaning for this device (HID report, USB HID 1.11 §7.1). */
const UNKNOWN_DESCRIPTOR_TYPE = 0x22;

test('stalls GET_DESCRIPTOR for a descriptor it does not have and stays usable', async ({ agent }) => {
  await param('descriptor type', `0x${UNKNOWN_DESCRIPTOR_TYPE.toString(16)}`);
  const bad = await phase('ask for an unknown descriptor', () => agent.handle.controlIn(getDescriptorSetup(UNKNOWN_DESCRIPTOR_TYPE, 0), 64));
  expect(bad).toMatchObject({ status: 'stall' });
  expect(bad.data.length).toBe(0);

  const noString = await phase('ask for a string index it does not have', () => agent.handle.controlIn(getDescriptorSetup(USB_DT.STRING, 0xee, 0x0409), 255));
  expect(noString.status).toBe('stall');

  const d = await phase('read the device descriptor', () => readDeviceDescriptor(agent.handle));
  expect(d.idVendor).toBe(0x1209);
  const r = await phase('loop back', () => agent.loopback(512, { seed: 2 }));
  expect(r.ok).toBe(true);
});
