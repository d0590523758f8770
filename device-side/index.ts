/**
 * The public API of device-side (docs/architecture.md: other folders import only this file).
 * A plain list of re-exports from the files of this folder and the subfolders' index.ts.
 */
export * from './abi/index.js';
export * from './usbfn-port.js';
export * from './usbfn-port-decorator.js';
export * from './usbfn-client.js';
export * from './driver-settings.js';
export * from './driver-settings-file.js';
export * from './list-interfaces.js';
export {
  UsbFnService,
  ServiceStateError,
  DeviceEventLog,
  NoDataHandshake,
  resolveEp0PipeId,
  type BusState,
  type ServiceState,
  type UsbFnServiceOptions,
  type DeviceLogEntry,
  type DeviceLogLevel,
  type DeconfigureReason,
  type FunctionContext,
  type PipeRequest,
  type ResolvedPipe,
  type RunQueueOptions,
  type SetupReply,
  type TransferInOptions,
  type TransferOptions,
  type UsbFunction,
} from './service/index.js';
export * from './functions/index.js';
export * from './win32/index.js';
export * from './trace/index.js';
export * from './probe/index.js';
export * from './agent/index.js';
