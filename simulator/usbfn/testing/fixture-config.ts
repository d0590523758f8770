/**
 * A small USBFN registry configuration for the GenericUSBFn model's unit and contract tests: one vendor
 * interface with bulk OUT 0x01 (pipe 1), bulk IN 0x81 (pipe 2) and interrupt IN 0x82 (pipe 3, 16 bytes).
 * Written out byte by byte so the tests check the model against golden values, not against a codec.
 */
import type { UsbFnRegistryConfig } from '../../config/index.js';

export const FIXTURE_INTERFACE_GUID = '{3F0B8C4E-2A51-4D7C-9E63-1B8A0F5D2C47}';
export const FIXTURE_INTERFACE_NAME = 'SimDriverTest';
export const FIXTURE_INSTANCE_ID = 'USBFN\\SIMDRIVERTEST\\5&1A2B3C&0&0';

/** The registry `InterfaceDescriptor` value. */
export const FIXTURE_INTERFACE_DESCRIPTOR = Uint8Array.of(
  // USB_INTERFACE_DESCRIPTOR
  9, 4, //        bLength, bDescriptorType INTERFACE
  0, 0, //        bInterfaceNumber (overwritten), bAlternateSetting
  3, //           bNumEndpoints
  0xff, 0, 0, //  class/subclass/protocol: vendor
  0, //           iInterface (overwritten)
  // bulk OUT 0x01
  7, 5, 0x01, 0x02, 0x00, 0x02, 0,
  // bulk IN 0x81
  7, 5, 0x81, 0x02, 0x00, 0x02, 0,
  // interrupt IN 0x82, 16 bytes, bInterval 4
  7, 5, 0x82, 0x03, 0x10, 0x00, 4,
);

/** The fixture configuration (`interfaceNumber` sets a fixed registry InterfaceNumber). */
export function fixtureConfig(interfaceNumber?: number): UsbFnRegistryConfig {
  return {
    idVendor: 0x1209,
    idProduct: 0x0001,
    ManufacturerString: 'usbfn-hil',
    ProductString: 'GenericUSBFn model test',
    CurrentConfiguration: 'Test',
    Configurations: { Test: { InterfaceList: [FIXTURE_INTERFACE_NAME] } },
    Interfaces: {
      [FIXTURE_INTERFACE_NAME]: {
        InterfaceDescriptor: FIXTURE_INTERFACE_DESCRIPTOR,
        InterfaceGUID: FIXTURE_INTERFACE_GUID,
        InterfaceNumber: interfaceNumber,
      },
    },
  };
}
