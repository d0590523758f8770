/**
 * The simulator's public API (DESIGN.md §5): other folders import this, never a deep path.
 * `createSimulation` wires everything for one function device; the parts are exported for tests that
 * need only one of them.
 */
export { createSimulation, Simulation, type SimFunction, type SimulationOptions } from './simulation.js';
export { VirtualClock } from './clock/index.js';
export { SeededRandom } from './clock/index.js';
export * from './cm/index.js';
export * from './usbfn/index.js';
export { VirtualBus, type EndpointState } from './link/index.js';
export { SimUsbHost } from './link/index.js';
export { UfxDevice, type ControlHandler, type ControlReply, type SetupFields, type UnhandledRequest } from './link/index.js';
export { UfxAbort, type UfxAbortReason, type UfxBusEvent, type UfxClassDriverLink, type UfxRequest } from './link/index.js';
export type { UsbFnRegistryConfig, UsbFnInterfaceKey, UsbFnConfigurationKey, UsbFnAlternatesKey } from './config/index.js';
export {
  loopbackFunctionConfig,
  USBFN_HIL_TEST_INTERFACE_GUID,
  TEST_FUNCTION_VID,
  TEST_FUNCTION_PID,
  TEST_FUNCTION_ENDPOINTS,
} from './config/index.js';
export type { UrbEvent, UrbSink } from './capture/index.js';
export { UsbmonPcapWriter, type UsbmonPcapWriterOptions } from './capture/index.js';
