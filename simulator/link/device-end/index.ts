/**
 * The device end of the simulated link: the function controller and UFX (`UfxDevice`), the class-driver
 * link each function's GenericUSBFn model drives, and the transfers it queues.
 */
export {
  UfxDevice,
  type ControlHandler,
  type ControlReply,
  type SetupFields,
  type UfxDeviceOptions,
  type UfxDeviceState,
  type UnhandledRequest,
} from './ufx-device.js';
export { UfxFunctionLink, type UfxLinkHost } from './ufx-function-link.js';
export type { UfxBusEvent, UfxClassDriverLink } from './class-driver-link.js';
export { DeviceTransfer } from './device-transfer.js';
