/**
 * Standard descriptor codecs (USB 2.0 §9.6, USB 3.2 §9.6): the public API of this folder for the rest of
 * host-side. A plain list of re-exports.
 */
export { USB_DEVICE_CAPABILITY, parseBosDescriptor, type BosDescriptor, type DeviceCapabilityDescriptor } from './bos-descriptor.js';
export {
  parseConfigurationDescriptor,
  type ConfigurationDescriptor,
  type EndpointDescriptor,
  type InterfaceAssociationDescriptor,
  type InterfaceDescriptor,
  type SsEndpointCompanionDescriptor,
} from './configuration-descriptor.js';
export { DEVICE_DESCRIPTOR_BYTES, encodeDeviceDescriptor, parseDeviceDescriptor, type DeviceDescriptor } from './device-descriptor.js';
export { LANGID_EN_US, encodeLangIds, encodeStringDescriptor, parseLangIds, parseStringDescriptor } from './string-descriptor.js';
