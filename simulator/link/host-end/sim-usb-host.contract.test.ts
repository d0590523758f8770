/**
 * Runs the UsbHost contract (host-side/usb-host.contract.ts) against SimUsbHost on a simulated link with
 * the fake loopback class driver standing in for the device-side test function. Every section runs here
 * (`replayable` and `timing`); NodeUsbHost runs the `replayable` one on real libusb in the umockdev tier
 * (.ci/tiers/umockdev/contract-tier.ts, docs/host-side.md "What runs where").
 */
import { describeUsbHostContract } from '../../../host-side/usb-host.contract.js';
import { TEST_FUNCTION_ENDPOINTS, TEST_FUNCTION_PID, TEST_FUNCTION_VID } from '../../config/index.js';
import { startSimLink } from '../testing/index.js';

for (const speed of ['full', 'high'] as const) {
  describeUsbHostContract(`SimUsbHost (${speed} speed)`, async () => {
    const link = await startSimLink({ speed, attach: false });
    link.bus.attach();
    return {
      host: link.host,
      filter: { vendorId: TEST_FUNCTION_VID, productId: TEST_FUNCTION_PID },
      interfaceNumber: 0,
      bulkOut: TEST_FUNCTION_ENDPOINTS.BULK_OUT,
      bulkIn: TEST_FUNCTION_ENDPOINTS.BULK_IN,
      maxPacketSize: speed === 'full' ? 64 : 512,
      close: () => link.host.close(),
    };
  });
}
