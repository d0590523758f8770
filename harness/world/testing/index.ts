/** Test support of the world-level tests (harness/world/*.test.ts): not part of the harness's public API. */
export { probeFunction, PROBE_REQUEST, type ProbeFunction } from './probe-function.js';
export { RecordingUsbFnPort, simFileOf } from './recording-usbfn-port.js';
export { serviceWorld, ServiceWorld, until, type ServiceWorldOptions } from './service-world.js';
