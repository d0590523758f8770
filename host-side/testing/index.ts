/** Test doubles of host-side's seams (STYLE: fakes live in a `testing/` folder of their side). */
export { FakeUsbHandle, FakeUsbHost, fakeDeviceDescriptors, pendingUntilAborted, type FakeUsbCall, type FakeUsbResponse } from './fake-usb-host.js';
export { MemoryUsbIpTransport } from './memory-usbip-transport.js';
