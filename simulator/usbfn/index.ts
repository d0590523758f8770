/** The GenericUSBFn.sys model and SimUsbFnPort (issue 3 item 3). See docs/simulator-driver.md. */
export { GenericUsbFnModel, type GenericUsbFnModelOptions } from './generic-usbfn-model.js';
export { UsbFnFileObject, GENERIC_ALL, GENERIC_READ, GENERIC_WRITE, requestWin32, type CreateResult } from './usbfn-file-object.js';
export { SimUsbFnPort, SimUsbFnFile, type SimOpenOptions, type SimUsbFnPortOptions } from './sim-usbfn-port.js';
export { IoRequest, type IoCompletion } from './io-request.js';
export { DriverFaults, resolveIoctl, type FailNextOptions, type InjectedFailure } from './driver-faults.js';
export {
  DriverLog,
  DEFAULT_DRIVER_LOG_CAPACITY,
  type BusEventLogEntry,
  type DriverLogEntry,
  type FileLogEntry,
  type IoctlLogEntry,
} from './driver-log.js';
export { EventQueue, DEFAULT_EVENT_QUEUE_DEPTH } from './event-queue.js';
export { FunctionPipes, resolveFunctionIdentity, type DescriptorSetProvider, type FunctionIdentity, type PipeInfo } from './pipes.js';
