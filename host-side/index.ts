/**
 * Public API of host-side (docs/architecture.md#import-rule): other folders import this file only.
 */
export type {
  UsbBulkInOptions,
  UsbBulkOutOptions,
  UsbControlSetup,
  UsbDeviceFilter,
  UsbDeviceHandle,
  UsbDeviceInfo,
  UsbHost,
  UsbHotplugEvent,
  UsbInResult,
  UsbOpenOptions,
  UsbOutResult,
  UsbTransferOptions,
  UsbTransferStatus,
} from './usb-host.js';

export {
  bmRequestTypeOf,
  buildSetup,
  classInterface,
  clearEndpointHaltSetup,
  decodeSetup,
  describeSetup,
  encodeSetup,
  getDescriptorSetup,
  standardDevice,
  vendorDevice,
} from './setup-packet.js';

export * from './descriptors/index.js';

export {
  LIBUSB_ERROR,
  LIBUSB_TRANSFER,
  hasLibusbErrno,
  libusbError,
  libusbErrorFrom,
  libusbName,
  transferStatusOf,
} from './libusb-error.js';
export type { LibusbErrorName, LibusbErrorOptions, LibusbTransferName } from './libusb-error.js';
export * from './node-usb/index.js';

export * from './agent/index.js';

export { formatDoctorReport, LINUX_USBFS, nodeDoctorFileSystem, runDoctor, udevRule } from './doctor/index.js';
export type {
  DoctorCheck,
  DoctorCheckContext,
  DoctorDevice,
  DoctorFileSystem,
  DoctorFinding,
  DoctorOptions,
  DoctorReport,
  DoctorSeverity,
} from './doctor/index.js';

export * from './usbip/index.js';

export { runHostProbe } from './probe/index.js';
export type { HostProbeOptions, HostProbeResult, HostProbeStep } from './probe/index.js';
