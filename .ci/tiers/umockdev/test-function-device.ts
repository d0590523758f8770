/**
 * The umockdev device of the test function at one speed, derived from its USBFN registry configuration
 * through the same descriptor builders the simulated UFX uses (simulator/config/descriptors.ts), so the
 * device real libusb enumerates is the one the simulated host saw.
 */
import { configurationDescriptor, deviceDescriptor, resolveConfiguration, loopbackFunctionConfig } from '../../../simulator/index.js';
import type { UmockdevUsbDevice } from './umockdev-description.js';

/** Speeds the tier describes (sysfs `speed` in Mb/s). */
export const SPEED_MBPS = { full: 12, high: 480 } as const;
export type TierSpeed = keyof typeof SPEED_MBPS;

/** Where the device sits in the umockdev testbed (and where simulated captures are relocated to). */
export const TIER_BUS_NUMBER = 1;
export const TIER_DEVICE_ADDRESS = 7;

/** The test function's device at `speed`, with the interface number the stack gave it. */
export function testFunctionDevice(speed: TierSpeed): { device: UmockdevUsbDevice; interfaceNumber: number } {
  const config = loopbackFunctionConfig();
  const resolved = resolveConfiguration(config);
  const dev = deviceDescriptor(config, speed, resolved);
  const cfg = configurationDescriptor(config, speed, resolved);
  return {
    interfaceNumber: resolved.interfaces[0]?.interfaceNumber ?? 0,
    device: {
      busNumber: TIER_BUS_NUMBER,
      deviceAddress: TIER_DEVICE_ADDRESS,
      port: 2,
      descriptors: Uint8Array.from([...dev, ...cfg]),
      idVendor: config.idVendor,
      idProduct: config.idProduct,
      bcdDevice: config.BcdDevice ?? 0x0100,
      bMaxPacketSize0: dev[7] ?? 64,
      bNumInterfaces: cfg[4] ?? 1,
      bConfigurationValue: cfg[5] ?? 1,
      speedMbps: SPEED_MBPS[speed],
      manufacturer: config.ManufacturerString,
      product: config.ProductString,
      serial: config.SerialNumberString,
    },
  };
}
