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

export { DEVICE_DESCRIPTOR_BYTES, encodeDeviceDescriptor, parseDeviceDescriptor } from './descriptors/device-descriptor.js';
export type { DeviceDescriptor } from './descriptors/device-descriptor.js';
export { parseConfigurationDescriptor } from './descriptors/configuration-descriptor.js';
export type {
  ConfigurationDescriptor,
  EndpointDescriptor,
  InterfaceAssociationDescriptor,
  InterfaceDescriptor,
  SsEndpointCompanionDescriptor,
} from './descriptors/configuration-descriptor.js';
export { USB_DEVICE_CAPABILITY, parseBosDescriptor } from './descriptors/bos-descriptor.js';
export type { BosDescriptor, DeviceCapabilityDescriptor } from './descriptors/bos-descriptor.js';
export { LANGID_EN_US, encodeLangIds, encodeStringDescriptor, parseLangIds, parseStringDescriptor } from './descriptors/string-descriptor.js';

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
export { NodeUsbHost, deviceId, speedFromDescriptors } from './node-usb/node-usb-host.js';
export type { NodeUsbHostOptions } from './node-usb/node-usb-host.js';
export { DEFAULT_TRANSFER_TIMEOUT_MS } from './node-usb/node-usb-device-handle.js';

export { HostAgent } from './agent/host-agent.js';
export type {
  BulkOptions,
  ClassRequestOptions,
  HostAgentOptions,
  LoopbackResult,
  SourceReadResult,
  TestLastError,
  ThroughputOptions,
  ThroughputResult,
} from './agent/host-agent.js';
export { TestProtocolError } from './agent/test-protocol-error.js';

export { formatDoctorReport, LINUX_USBFS, nodeDoctorFileSystem, runDoctor, udevRule } from './doctor.js';
export type {
  DoctorCheck,
  DoctorCheckContext,
  DoctorDevice,
  DoctorFileSystem,
  DoctorFinding,
  DoctorOptions,
  DoctorReport,
  DoctorSeverity,
} from './doctor.js';

export * from './usbip/index.js';

export { runHostProbe } from './probe/index.js';
export type { HostProbeOptions, HostProbeResult, HostProbeStep } from './probe/index.js';
