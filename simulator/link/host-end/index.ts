/** The host end of the simulated link: the virtual host PC (`SimUsbHost`, the UsbHost seam), its handles and URBs. */
export { SimUsbHost, SimPort, type EnumeratedDevice, type SimUsbHostOptions } from './sim-usb-host.js';
export { SimUsbDeviceHandle } from './sim-usb-device-handle.js';
export { HostUrb, type HostUrbInit } from './host-urb.js';
