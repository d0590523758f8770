/**
 * Runs the UsbHost contract (host-side/usb-host.contract.ts) against `UsbIpUsbHost` talking USB/IP over
 * 127.0.0.1 to a `UsbIpServer` that exports the simulation (real device-side service and loopback test
 * function, `SimUsbHost` behind the server). Both sections run: the simulation is on the wall clock, so the
 * timing cases (a 100 ms transfer timeout, a cancel) race real time on both sides of the socket.
 */
// The contract imports vitest, so host-side's index does not export it: suites reach it by path, as simulator/bus does.
import { describeUsbHostContract } from '../../host-side/usb-host.contract.js';
import { UsbIpUsbHost } from '../../host-side/index.js';
import { TEST_FUNCTION_ENDPOINTS, TEST_FUNCTION_PID, TEST_FUNCTION_VID } from '../../simulator/index.js';
import { startLoopbackExport } from './loopback-export.js';

for (const speed of ['full', 'high'] as const) {
  describeUsbHostContract(`UsbIpUsbHost over USB/IP to the simulation (${speed} speed)`, async () => {
    const world = await startLoopbackExport({ speed });
    const host = new UsbIpUsbHost({ port: world.port, pollIntervalMs: 20 });
    return {
      host,
      filter: { vendorId: TEST_FUNCTION_VID, productId: TEST_FUNCTION_PID },
      interfaceNumber: 0,
      bulkOut: TEST_FUNCTION_ENDPOINTS.BULK_OUT,
      bulkIn: TEST_FUNCTION_ENDPOINTS.BULK_IN,
      maxPacketSize: speed === 'full' ? 64 : 512,
      close: async () => {
        await host.close();
        await world.close();
      },
    };
  });
}
