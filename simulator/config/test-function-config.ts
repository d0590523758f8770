/**
 * A ready-made USBFN registry configuration for the built-in test function: one vendor-specific
 * interface (class 0xFF) with a bulk OUT 0x01 / bulk IN 0x81 pair, enough for loopback, source/sink and
 * the vendor test protocol (device-side/functions/test-protocol.ts). A lab device gets the same values in
 * `HKLM\SYSTEM\CurrentControlSet\Control\USBFN` (docs/reference/registry.md).
 *
 * @example
 * const bus = new VirtualBus({ clock });
 * const ufx = new UfxDevice(bus, loopbackFunctionConfig({ SerialNumberString: 'RIG-7' }));
 */
import { encodeEndpointDescriptor, encodeInterfaceDescriptor, USBFN_HIL_TEST_INTERFACE_GUID } from '../../device-side/index.js';
import type { UsbFnRegistryConfig } from './usbfn-config.js';

/** pid.codes test VID/PID (https://pid.codes/1209/0001/: "for testing only, never ship"). */
export const TEST_FUNCTION_VID = 0x1209;
export const TEST_FUNCTION_PID = 0x0001;

/** Registry names of the test function's keys. */
export const TEST_FUNCTION_INTERFACE_KEY = 'UsbfnHilLoopback';
export const TEST_FUNCTION_CONFIGURATION = 'UsbfnHilTest';

/** Endpoint addresses of the test function. */
export const TEST_FUNCTION_ENDPOINTS = { BULK_OUT: 0x01, BULK_IN: 0x81 } as const;

/** The registry `InterfaceDescriptor` value: interface (class 0xFF) + bulk OUT 0x01 + bulk IN 0x81. */
export function loopbackInterfaceDescriptor(): Uint8Array {
  const blob = new Uint8Array(9 + 7 + 7);
  encodeInterfaceDescriptor(
    {
      bInterfaceNumber: 0, // overwritten by the stack (docs/reference/registry.md#interface-descriptor-format)
      bAlternateSetting: 0,
      bNumEndpoints: 2,
      bInterfaceClass: 0xff, // vendor-specific
      bInterfaceSubClass: 0x00,
      bInterfaceProtocol: 0x00,
      iInterface: 0, // overwritten by the stack
    },
    blob,
    0,
  );
  // wMaxPacketSize 512 (high speed); UFX rewrites it per speed (descriptors.ts maxPacketSizeAt).
  encodeEndpointDescriptor({ bEndpointAddress: TEST_FUNCTION_ENDPOINTS.BULK_OUT, bmAttributes: 0x02, wMaxPacketSize: 512, bInterval: 0 }, blob, 9);
  encodeEndpointDescriptor({ bEndpointAddress: TEST_FUNCTION_ENDPOINTS.BULK_IN, bmAttributes: 0x02, wMaxPacketSize: 512, bInterval: 0 }, blob, 16);
  return blob;
}

/**
 * The test function's registry configuration, with shallow `overrides` of root values (VID/PID, strings,
 * serial, or whole `Configurations`/`Interfaces` maps).
 */
export function loopbackFunctionConfig(overrides: Partial<UsbFnRegistryConfig> = {}): UsbFnRegistryConfig {
  return {
    idVendor: TEST_FUNCTION_VID,
    idProduct: TEST_FUNCTION_PID,
    BcdDevice: 0x0100,
    ManufacturerString: 'usbfn-hil',
    ProductString: 'usbfn-hil test function',
    iSerialNumber: 1,
    SerialNumberString: 'USBFNHIL0001',
    CurrentConfiguration: TEST_FUNCTION_CONFIGURATION,
    Configurations: {
      [TEST_FUNCTION_CONFIGURATION]: { InterfaceList: [TEST_FUNCTION_INTERFACE_KEY], bmAttributes: 0xc0, bMaxPower: 0xfa },
    },
    Interfaces: {
      [TEST_FUNCTION_INTERFACE_KEY]: {
        InterfaceDescriptor: loopbackInterfaceDescriptor(),
        InterfaceGUID: USBFN_HIL_TEST_INTERFACE_GUID,
      },
    },
    ...overrides,
  };
}
