/**
 * Public API of the harness: what scenarios and users import.
 */
export { test, expect, describe } from './fixtures.js';
export { phase, param, attachCapture, attachJson, PCAP_CONTENT_TYPE } from './allure.js';
export {
  openRig,
  type AgentOptions,
  type DeviceSide,
  type DeviceStatus,
  type DeviceWaitOptions,
  type Mode,
  type Rig,
  type Session,
  type SessionCapture,
  type TestFunctionKind,
  type WorldOptions,
} from './rig.js';
export {
  SimControls,
  type SimControlHandler,
  type SimControlReply,
  type SimEndpointState,
  type SimInterfaceHandle,
  type SimSetup,
  type UrbStep,
} from './world/index.js';
export { simWorld, SimWorldBuilder, StartedSimWorld, DEFAULT_SIM_WAIT_MS, type SimServiceOptions } from './world/index.js';
export { withDeadline, type Deadline } from './session/index.js';
export { openFunctionHandle, openHostAgent, type OpenFunctionOptions } from './session/index.js';
export * from '../core/index.js';
export { formatSeed, parseSeed, scenarioSeed, SEED_ENV } from './seed.js';
export { loadLabConfig, validateLabConfig, type LabConfig } from './lab/index.js';
export { assumption } from './assumption.js';
export { eventually } from './eventually.js';
// The built-in test function's USBFN configuration: what every world's device reports (scenarios compare against it).
export { loopbackFunctionConfig, TEST_FUNCTION_ENDPOINTS, TEST_FUNCTION_VID, TEST_FUNCTION_PID } from '../simulator/index.js';
