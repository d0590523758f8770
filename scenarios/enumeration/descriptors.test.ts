/**
 * Enumeration as the host sees it: the device, configuration and string descriptors the host reads with
 * GET_DESCRIPTOR carry the values of the function's USBFN configuration (the lab registry holds the same).
 * @see USB 2.0 §9.4.3, §9.6.1, §9.6.3, §9.6.7; docs/reference/registry.md (USBFN registry); HLK "Windows USB Device" descriptor checks
 */
import { expect, loopbackFunctionConfig, phase, test, TEST_FUNCTION_ENDPOINTS, USB_DT } from '../../harness/index.js';
import { LANGID_EN_US } from '../../host-side/index.js';
import { getDescriptor, readConfigurationDescriptor, readDeviceDescriptor, readLangIds, readString } from './get-descriptor.js';

const config = loopbackFunctionConfig();

test('reports the configured VID, PID and bcdDevice in its device descriptor', async ({ agent }) => {
  const d = await phase('read the device descriptor', () => readDeviceDescriptor(agent.handle));
  expect(d).toMatchObject({
    bLength: 18,
    bDescriptorType: USB_DT.DEVICE,
    idVendor: config.idVendor,
    idProduct: config.idProduct,
    bcdDevice: config.BcdDevice,
    bNumConfigurations: 1,
  });
  expect(d.idVendor).toBe(0x1209);
  expect(d.idProduct).toBe(0x0001);
});

test('reports the configured manufacturer, product and serial number strings', async ({ agent }) => {
  const d = await readDeviceDescriptor(agent.handle);
  const langIds = await phase('read the LANGID list', () => readLangIds(agent.handle));
  expect(langIds[0]).toBe(LANGID_EN_US);
  const strings = await phase('read the strings', async () => ({
    manufacturer: await readString(agent.handle, d.iManufacturer),
    product: await readString(agent.handle, d.iProduct),
    serial: await readString(agent.handle, d.iSerialNumber),
  }));
  expect(d.iSerialNumber).not.toBe(0);
  expect(strings).toEqual({
    manufacturer: config.ManufacturerString,
    product: config.ProductString,
    serial: config.SerialNumberString,
  });
  // The host's own view (UsbDeviceInfo) agrees with what GET_DESCRIPTOR returned.
  expect(agent.handle.info).toMatchObject({ manufacturer: config.ManufacturerString, serialNumber: config.SerialNumberString });
});

test('reports one configuration with a vendor-specific interface and a bulk OUT/IN pair', async ({ agent }) => {
  const c = await phase('read the configuration descriptor', () => readConfigurationDescriptor(agent.handle));
  expect(c).toMatchObject({ bNumInterfaces: 1, bConfigurationValue: 1, bmAttributes: 0xc0, bMaxPower: 0xfa });
  expect(c.interfaces).toHaveLength(1);
  const [iface] = c.interfaces;
  expect(iface).toMatchObject({ bInterfaceNumber: agent.interfaceNumber, bAlternateSetting: 0, bInterfaceClass: 0xff, bNumEndpoints: 2 });
  expect(iface?.endpoints.map((e) => [e.bEndpointAddress, e.transferType])).toEqual([
    [TEST_FUNCTION_ENDPOINTS.BULK_OUT, 'bulk'],
    [TEST_FUNCTION_ENDPOINTS.BULK_IN, 'bulk'],
  ]);
  // The 9-byte read and the full read agree on the length (USB 2.0 §9.4.3: a shorter wLength truncates).
  const head = await getDescriptor(agent.handle, USB_DT.CONFIGURATION, 0, 9);
  expect(head.length).toBe(9);
  expect(head[2]! | (head[3]! << 8)).toBe(c.wTotalLength);
});
