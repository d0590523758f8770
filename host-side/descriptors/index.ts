/**
 * The descriptor codecs of the host side (USB 2.0 §9.6, USB 3.2 §9.6): what GET_DESCRIPTOR returns, parsed
 * into the spec's field names. Other folders import this file, never a codec directly.
 */
export { DEVICE_DESCRIPTOR_BYTES, encodeDeviceDescriptor, parseDeviceDescriptor, type DeviceDescriptor } from './device-descriptor.js';
export {
  parseConfigurationDescriptor,
  type ConfigurationDescriptor,
  type EndpointDescriptor,
  type InterfaceAssociationDescriptor,
  type InterfaceDescriptor,
  type SsEndpointCompanionDescriptor,
} from './configuration-descriptor.js';
export { USB_DEVICE_CAPABILITY, parseBosDescriptor, type BosDescriptor, type DeviceCapabilityDescriptor } from './bos-descriptor.js';
export { LANGID_EN_US, encodeLangIds, encodeStringDescriptor, parseLangIds, parseStringDescriptor } from './string-descriptor.js';
