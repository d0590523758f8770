/**
 * The public API of device-side (STYLE.md §3: other folders import only this file).
 * A plain list of re-exports; each area adds its own lines.
 */
export * from './abi/index.js';
export * from './usbfn-port.js';
export * from './usbfn-client.js';
export * from './list-interfaces.js';
export { UsbFnService, ServiceStateError, type BusState, type ServiceState, type UsbFnServiceOptions } from './service/usbfn-service.js';
export { DeviceEventLog, type DeviceLogEntry, type DeviceLogLevel } from './service/device-event-log.js';
export type {
  DeconfigureReason,
  FunctionContext,
  PipeRequest,
  ResolvedPipe,
  RunQueueOptions,
  SetupReply,
  TransferInOptions,
  TransferOptions,
  UsbFunction,
} from './service/function-api.js';
export { TestFunctionState, answerTestRequest } from './functions/test-requests.js';
export { createLoopbackFunction, DEFAULT_PATTERN_SEED, type LoopbackFunction, type LoopbackOptions } from './functions/loopback-function.js';
export { createSourceSinkFunction, type SourceSinkFunction, type SourceSinkOptions } from './functions/source-sink-function.js';
export * from './win32/index.js';
export * from './agent/index.js';
