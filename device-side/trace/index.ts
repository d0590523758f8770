/**
 * Device traces: a recording `UsbFnPort` decorator, the JSON Lines format it writes (version 2; version 1 is read too), sinks, and
 * the reader that checks a trace (docs/reference/device-trace.md).
 */
export * from './trace-format.js';
export { JsonLinesFileSink, MemoryTraceSink, type TraceSink } from './trace-sink.js';
export { RecordingUsbFnPort, recordingPort, type RecordingPortOptions } from './recording-port.js';
export { parseDeviceTrace, type DeviceTrace } from './trace-reader.js';
export { formatTraceLine, PrintingTraceSink, TeeTraceSink } from './trace-text.js';
