/**
 * `NodeUsbHost`: the UsbHost seam over libusb through the `usb` 2.x package (loaded lazily, so nothing
 * native loads until a lab run or the doctor asks for it).
 */
export { NodeUsbHost, deviceId, speedFromDescriptors, type NodeUsbHostOptions } from './node-usb-host.js';
export { DEFAULT_TRANSFER_TIMEOUT_MS } from './node-usb-device-handle.js';
