/**
 * The simulator's public API (DESIGN.md §5): other folders import this, never a deep path.
 * `createSimulation` wires everything for one function device; the parts are exported for tests that
 * need only one of them.
 */
export { createSimulation, Simulation, type SimFunction, type SimulationOptions } from './simulation.js';
export { VirtualClock } from './clock/virtual-clock.js';
export { SeededRandom } from './clock/seeded-random.js';
export * from './cm/index.js';
export * from './usbfn/index.js';
export { VirtualBus, type EndpointState } from './bus/virtual-bus.js';
export { SimUsbHost } from './bus/sim-usb-host.js';
export { UfxDevice, type ControlHandler, type ControlReply, type SetupFields, type UnhandledRequest } from './ufx/ufx-device.js';
export { UfxAbort, type UfxAbortReason, type UfxBusEvent, type UfxClassDriverLink, type UfxRequest } from './ufx/class-driver-link.js';
export type { UsbFnRegistryConfig, UsbFnInterfaceKey, UsbFnConfigurationKey, UsbFnAlternatesKey } from './config/usbfn-config.js';
export {
  loopbackFunctionConfig,
  USBFN_HIL_TEST_INTERFACE_GUID,
  TEST_FUNCTION_VID,
  TEST_FUNCTION_PID,
  TEST_FUNCTION_ENDPOINTS,
} from './config/test-function-config.js';
export type { UrbEvent, UrbSink } from './capture/urb-event.js';
export { UsbmonPcapWriter, type UsbmonPcapWriterOptions } from './capture/usbmon-pcap-writer.js';
export * from './usbip/index.js';
