/**
 * The simulator's public API (docs/simulator.md): other folders import this, never a deep path.
 * `createSimulation` wires everything for one function device; the parts are exported for tests that
 * need only one of them.
 */
export { createSimulation, Simulation, type SimFunction, type SimulationOptions } from './simulation.js';
export { VirtualClock, SeededRandom } from './clock/index.js';
export * from './cm/index.js';
export * from './usbfn/index.js';
export {
  VirtualBus,
  SimUsbHost,
  UfxDevice,
  UfxAbort,
  startSimLink,
  type EndpointState,
  type ControlHandler,
  type ControlReply,
  type SetupFields,
  type UnhandledRequest,
  type UfxAbortReason,
  type UfxBusEvent,
  type UfxClassDriverLink,
  type UfxRequest,
  type SimLinkOptions,
  type StartedSimLink,
} from './link/index.js';
export {
  loopbackFunctionConfig,
  TEST_FUNCTION_VID,
  TEST_FUNCTION_PID,
  TEST_FUNCTION_ENDPOINTS,
  type UsbFnRegistryConfig,
  type UsbFnInterfaceKey,
  type UsbFnConfigurationKey,
  type UsbFnAlternatesKey,
  // The simulated device's descriptors (the umockdev tier describes the same device to real libusb).
  configurationDescriptor,
  deviceDescriptor,
  resolveConfiguration,
} from './config/index.js';
export { UsbmonPcapWriter, type UsbmonPcapWriterOptions, type UrbEvent, type UrbSink } from './capture/index.js';
export { readUsbmonCapture, readUsbmonPcap, type UsbmonCapture, type UsbmonRecord } from './capture/index.js';
export * from './usbip/index.js';
