/**
 * The user-mode USB interface service and the API a USB function is written against. {@link UsbFnService} is
 * the façade; {@link InterfaceWatcher} (the Configuration Manager side: arrival, the handle and its
 * notifications) and {@link BusSession} (one open handle: activation, bus events, the configuration context)
 * are its two parts.
 */
export { UsbFnService, type UsbFnServiceOptions } from './usbfn-service.js';
export { ServiceStateError, type ServiceState } from './service-state.js';
export { InterfaceWatcher, type InterfaceHandler, type InterfaceWatcherOptions } from './interface-watcher.js';
export { BusSession, resolveEp0PipeId, type BusSessionOptions, type BusState } from './bus-session.js';
export { NoDataHandshake, type HandshakeDirection } from './no-data-handshake.js';
export { DeviceEventLog, type DeviceLogEntry, type DeviceLogLevel } from './device-event-log.js';
export { MAX_QUEUE_FAILURES_IN_A_ROW } from './function-context.js';
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
} from './function-api.js';
